import { fromArray, type Tensor } from '../../torch/index.js';
import type { DataLoader, PlainBatch } from './data-loader.js';

/**
 * The one place the data layer touches tensors: plain typed-array batches in,
 * libtorch tensors out. Everything else stays plain TypeScript so it can be
 * built and tested without libtorch.
 */

/** A batch as tensors: `x` float32 [n, C, H, W], `y` int64 [n]. */
export interface TensorBatch {
  readonly x: Tensor;
  readonly y: Tensor;
  readonly size: number;
  /** Position of each sample in the dataset. */
  readonly indices: Int32Array;
  readonly epoch: number;
  readonly batchIndex: number;
}

/** Converts a plain batch to tensors. */
export function toTensorBatch(batch: PlainBatch): TensorBatch {
  return {
    x: fromArray(batch.x, batch.shape),
    y: fromArray(batch.y, [batch.size]),
    size: batch.size,
    indices: batch.indices,
    epoch: batch.epoch,
    batchIndex: batch.batchIndex,
  };
}

/** The batches of `epoch` as tensors, starting at `startBatch` (for resume). */
export function* tensorBatches(loader: DataLoader, epoch = 0, startBatch = 0): Generator<TensorBatch, void, undefined> {
  for (const batch of loader.batches(epoch, startBatch)) yield toTensorBatch(batch);
}

/** Images n×C×H×W (float32) as one tensor, e.g. a whole evaluation split. */
export function imagesToTensor(images: Float32Array, n: number, imageShape: readonly [number, number, number]): Tensor {
  return fromArray(images, [n, ...imageShape]);
}

/** Labels as an int64 tensor [n]. */
export function labelsToTensor(labels: BigInt64Array): Tensor {
  return fromArray(labels, [labels.length]);
}

/** Decoy masks n×H×W (uint8) as a uint8 tensor [n, 1, H, W], matching CAM shape for the decoy-energy metric. */
export function masksToTensor(masks: Uint8Array, n: number, height: number, width: number): Tensor {
  return fromArray(masks, [n, 1, height, width]);
}
