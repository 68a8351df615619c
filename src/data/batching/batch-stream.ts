import type { DataLoader, PlainBatch } from './data-loader.js';

/**
 * What the trainer draws its batches from: the batches of one epoch, in that epoch's seeded order, from a start batch
 * (for resuming). Held in memory ({@link memoryBatchStream}) or decoded from disk by worker threads
 * (StreamedLoader); both give identical batches for the same seed.
 */
export interface BatchStream {
  /** Samples in the split. */
  readonly n: number;
  /** Batches per epoch. */
  readonly numBatches: number;
  /** The batches of `epoch` from `startBatch` on. */
  batches(epoch: number, startBatch?: number): AsyncGenerator<PlainBatch, void, undefined>;
  /** Releases what the stream holds (worker threads); the stream is unusable afterwards. */
  close(): Promise<void>;
}

/** A DataLoader (images in memory) as a BatchStream. */
export function memoryBatchStream(loader: DataLoader): BatchStream {
  return {
    n: loader.data.n,
    numBatches: loader.numBatches,
    async *batches(epoch: number, startBatch = 0) {
      yield* loader.batches(epoch, startBatch);
    },
    close: async () => {},
  };
}
