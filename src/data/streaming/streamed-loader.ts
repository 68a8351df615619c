import type { BatchStream } from '../batching/batch-stream.js';
import { DecodePool, defaultDecodeWorkers } from './decode-pool.js';
import { epochOrder, type LoaderOptions, type PlainBatch } from '../batching/data-loader.js';
import { gatherRows } from '../sampling/gather-rows.js';
import type { BatchAugmentation } from '../augment/augmentation.js';
import type { StreamedSplit } from './streamed-split.js';

/** How a {@link StreamedLoader} decodes: worker threads and batches decoded ahead. */
export interface StreamOptions {
  /** Decode worker threads; default one per core but one, at most four. */
  readonly workers?: number;
  /** Batches decoded ahead of the one being trained on (bounds memory: prefetch × batch bytes); default 2 per worker, at least 3. */
  readonly prefetch?: number;
}

/**
 * Batches of a {@link StreamedSplit}, decoded from the image files by a pool of worker threads while the
 * training step runs, at most `prefetch` batches ahead. Epoch e's order is the in-memory DataLoader's (the same
 * seeded permutation), and each image is decoded, scaled and augmented by the same functions, so the batches are identical
 * bit for bit. A file that fails to decode mid-epoch fails the batch with a DataError naming it.
 */
export class StreamedLoader implements BatchStream {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly augment: BatchAugmentation | null;
  readonly workers: number;
  readonly prefetch: number;
  #pool: DecodePool | null = null;
  #closed = false;

  constructor(readonly data: StreamedSplit, o: LoaderOptions & StreamOptions) {
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
      throw new RangeError(`StreamedLoader: expected a positive integer batchSize, found ${o.batchSize}`);
    }
    this.batchSize = o.batchSize;
    this.shuffle = o.shuffle ?? false;
    this.seed = o.seed ?? 0;
    this.dropLast = o.dropLast ?? false;
    this.augment = o.augment ?? null;
    this.workers = o.workers ?? defaultDecodeWorkers();
    this.prefetch = o.prefetch ?? Math.max(3, 2 * this.workers);
    if (!Number.isInteger(this.prefetch) || this.prefetch < 1) throw new RangeError(`StreamedLoader: expected a positive prefetch, found ${this.prefetch}`);
  }

  get n(): number {
    return this.data.n;
  }

  get numBatches(): number {
    return this.dropLast ? Math.floor(this.data.n / this.batchSize) : Math.ceil(this.data.n / this.batchSize);
  }

  /** The sample order of `epoch`: the in-memory DataLoader's. */
  order(epoch: number): Int32Array {
    return epochOrder(this.data.n, this.shuffle, this.seed, epoch);
  }

  #decode(order: Int32Array, epoch: number, batchIndex: number): Promise<PlainBatch> {
    this.#pool ??= new DecodePool(this.workers);
    const { data } = this;
    const indices = order.slice(batchIndex * this.batchSize, Math.min((batchIndex + 1) * this.batchSize, data.n));
    const [c, h, w] = data.imageShape;
    const paths = Array.from(indices, (i) => data.sources[i]!);
    const augment = this.augment ? { with: this.augment, indices, epoch } : null;
    const batch = this.#pool.images(paths, data.imageShape, data.normalisation, augment).then((x): PlainBatch => ({
      x, y: gatherRows(data.labels, indices, 1), indices, size: indices.length, shape: [indices.length, c, h, w], epoch, batchIndex,
    }));
    // A batch decoded ahead and then not wanted (the run stopped) must not surface as an unhandled rejection.
    batch.catch(() => {});
    return batch;
  }

  async *batches(epoch = 0, startBatch = 0): AsyncGenerator<PlainBatch, void, undefined> {
    if (this.#closed) throw new Error('StreamedLoader: closed');
    if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > this.numBatches) {
      throw new RangeError(`StreamedLoader: expected a start batch in [0, ${this.numBatches}], found ${startBatch}`);
    }
    const order = this.order(epoch);
    const ahead: Promise<PlainBatch>[] = [];
    let next = startBatch;
    while (ahead.length < this.prefetch && next < this.numBatches) ahead.push(this.#decode(order, epoch, next++));
    while (ahead.length > 0) {
      const batch = await ahead.shift()!;
      // Refill before handing the batch out, so the workers decode while the step runs.
      if (next < this.numBatches) ahead.push(this.#decode(order, epoch, next++));
      yield batch;
    }
  }

  /** Terminates the decode workers. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool?.close();
    this.#pool = null;
  }
}
