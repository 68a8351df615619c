import { toDeviceAsync } from '../../torch/index.js';
import type { PlainBatch } from './data-loader.js';
import { toTensorBatch, type TensorBatch } from './tensor-batch.js';

/**
 * A plain batch as tensors on `device` (training and evaluation alike): on the CPU as `toTensorBatch` makes them; on
 * a GPU staged through pinned host memory and copied without blocking (`toDeviceAsync`).
 */
export function deviceBatch(batch: PlainBatch, device: string): TensorBatch {
  const b = toTensorBatch(batch);
  if (device === 'cpu') return b;
  return { ...b, x: toDeviceAsync(b.x, device), y: toDeviceAsync(b.y, device) };
}
