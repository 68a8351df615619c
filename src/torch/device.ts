import { UsageError } from '../errors.js';
import { cudaAvailable } from './runtime.js';
import type { Tensor } from './tensor.js';

/** 'cpu', 'cuda' or 'cuda:N': the devices `--device` accepts. */
export const DEVICE_PATTERN = /^(cpu|cuda(:\d+)?)$/;

/**
 * Refuses a device name that is not cpu/cuda[:N], or a CUDA device on a libtorch without CUDA, with one message
 * naming the flag and the fix (a UsageError: exit code 2). Call it before anything on disk changes.
 */
export function checkDevice(device: string, flag = '--device'): void {
  if (!DEVICE_PATTERN.test(device)) throw new UsageError(`${flag}: got '${device}', expected cpu or cuda[:N]`);
  if (device === 'cpu' || cudaAvailable()) return;
  throw new UsageError(`${flag} ${device}: this libtorch has no CUDA (build the addon against a CUDA libtorch: ` +
    'LIBTORCH=/path/to/torch npm rebuild, README "Quick start"); use --device cpu');
}

/**
 * A host tensor on `device`: the tensor itself on the CPU; on a GPU a copy staged through pinned (page-locked) host
 * memory and made without blocking, so it overlaps with the device's queued work and the host never waits for it
 * (kernels that read it are queued behind the copy on the same stream). Inside `scope()` the staging copy is freed
 * with the scope.
 */
export function toDeviceAsync(t: Tensor, device: string): Tensor {
  if (device === 'cpu') return t;
  return t.pinMemory().toDevice(device, true);
}
