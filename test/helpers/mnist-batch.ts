import * as T from '../../src/torch/index.js';
import { loadDataset } from '../../src/data/load-dataset.js';
import type { LoadedDataset } from '../../src/data/dataset.js';

let cached: Promise<LoadedDataset> | null = null;

/** A small stratified slice of the real MNIST test split, loaded once per test process. */
export function mnistSlice(): Promise<LoadedDataset> {
  cached ??= loadDataset('mnist', { trainLimit: 1000, testLimit: 500, download: false });
  return cached;
}

/** The first n real MNIST test images (as the model sees them) and labels. */
export async function realMnistBatch(n: number): Promise<{ x: T.Tensor; y: T.Tensor }> {
  const d = await mnistSlice();
  const x = T.keep(T.fromArray(d.test.images.subarray(0, n * 784), [n, 1, 28, 28]));
  const y = T.keep(T.fromArray(d.test.labels.subarray(0, n), [n]));
  return { x, y };
}
