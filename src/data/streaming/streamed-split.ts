import type { ImageShape } from '../formats/image-file.js';
import type { LoadedDataset } from '../dataset.js';
import type { Normalisation } from '../preprocess/normalisation.js';

/** `--stream`: decode the training images per batch from disk (on), hold them in memory (off), or decide by size (auto). */
export const STREAM_MODES = ['auto', 'on', 'off'] as const;
export type StreamMode = (typeof STREAM_MODES)[number];

/**
 * `--stream auto` streams a folder: dataset whose training split, decoded, would take more than this many bytes in
 * memory (uint8 pixels plus their float32 copy: 5 bytes a value), e.g. 14 000 RGB images of 128×128.
 */
export const STREAM_AUTO_BYTES = 1 << 30;

/** Bytes a split of `n` images of `shape` takes in memory (uint8 pixels and float32 images). */
export function inMemoryBytes(n: number, shape: ImageShape): number {
  return n * shape[0] * shape[1] * shape[2] * 5;
}

/**
 * A training split streamed from disk: the file list and labels are held, the pixels are decoded per batch by
 * worker threads (StreamedLoader), exactly as the in-memory path decodes and scales them.
 */
export interface StreamedSplit {
  readonly streamed: true;
  readonly split: 'train';
  readonly n: number;
  readonly imageShape: readonly [number, number, number];
  /** n int64 class indices. */
  readonly labels: BigInt64Array;
  /** Labels as uint8. */
  readonly classes: Uint8Array;
  /** Index of each image in the full split (differs from position when a limit applies). */
  readonly sourceIndices: Int32Array;
  /** The image file of each sample. */
  readonly sources: readonly string[];
  /** The normalisation the decoded images get, or null for [0, 1]. */
  readonly normalisation: Normalisation | null;
}

/** A dataset whose training split streams from disk; the test split is held in memory. */
export interface StreamedDataset extends Omit<LoadedDataset, 'train' | 'trainStats'> {
  readonly train: StreamedSplit;
  /** Pixel mean/std of the training split: computed (one decoding pass) only when standardising. */
  readonly trainStats: Normalisation | undefined;
}

/** What the trainer trains on: a dataset held in memory or one streamed from disk. */
export type TrainingData = LoadedDataset | StreamedDataset;

/** Whether `d`'s training split streams from disk. */
export function isStreamed(d: TrainingData): d is StreamedDataset {
  return 'streamed' in d.train;
}
