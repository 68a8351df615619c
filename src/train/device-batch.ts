import type { PlainBatch } from '../data/loader.js';
import { toTensorBatch, type TensorBatch } from '../data/batch.js';

/**
 * A plain batch as tensors on `device`: on the CPU as `toTensorBatch` makes them; on a GPU staged through pinned
 * (page-locked) host memory and copied without blocking, so the copy overlaps with the device's queued work and
 * the host never waits for it (the kernels that read the batch are queued behind the copy on the same stream).
 */
export function deviceBatch(batch: PlainBatch, device: string): TensorBatch {
  const b = toTensorBatch(batch);
  if (device === 'cpu') return b;
  return { ...b, x: b.x.pinMemory().toDevice(device, true), y: b.y.pinMemory().toDevice(device, true) };
}
