import { native } from './native.js';
import { Tensor } from './tensor.js';

/** Seeds libtorch's default generator (randn, rand, dropout, drop-path). */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}

/** The default CPU generator's state (uint8 tensor), to save in checkpoints. */
export function getRngState(): Tensor {
  return new Tensor(native.getRngState());
}

/** Restores a state from `getRngState`. */
export function setRngState(state: Tensor): void {
  native.setRngState(state.handle);
}

/** libtorch's intra-op threads. */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`threads must be a positive integer, got ${n}`);
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Tensors currently alive in the addon (created and not yet disposed or collected). */
export function liveTensors(): number {
  return native.liveTensors();
}

export function cudaAvailable(): boolean {
  return native.cudaAvailable();
}

/** libtorch version and build details. */
export function torchConfig(): { version: string; parallel: string; mkldnn: boolean; cuda: boolean } {
  return native.config();
}

/**
 * Lets the event loop turn once. Node runs N-API finalizers (which free each tensor wrapper's small native record)
 * from the event loop, so a long synchronous loop should await this every few steps or native memory creeps up.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
