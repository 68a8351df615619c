import { Rng } from '../sampling/rng.js';
import { gatherRows } from '../sampling/gather-rows.js';
import { augmentBatch, type BatchAugmentation } from '../augment/augmentation.js';

// Stream key so shuffles never coincide with decoy or subset draws from the same seed.
const SHUFFLE_STREAM = 0x5417;

/** Images and labels in memory, ready for batching. */
export interface ArrayDataset {
  /** n×C×H×W float32, row-major. */
  readonly images: Float32Array;
  /** n class indices. */
  readonly labels: BigInt64Array;
  readonly n: number;
  /** C, H, W of one image. */
  readonly imageShape: readonly [number, number, number];
}

/** One batch as plain typed arrays. */
export interface PlainBatch {
  /** size×C×H×W float32. */
  readonly x: Float32Array;
  /** size int64 labels. */
  readonly y: BigInt64Array;
  /** Position of each sample in the dataset, e.g. to gather decoy masks with {@link gatherRows}. */
  readonly indices: Int32Array;
  readonly size: number;
  /** Shape of `x`: [size, C, H, W]. */
  readonly shape: readonly [number, number, number, number];
  readonly epoch: number;
  readonly batchIndex: number;
}

/** Options of {@link DataLoader}. */
export interface LoaderOptions {
  readonly batchSize: number;
  /** Shuffle every epoch (training); default false: dataset order, for evaluation. */
  readonly shuffle?: boolean;
  /** Shuffle seed; default 0. */
  readonly seed?: number;
  /** Drop a last batch smaller than `batchSize`; default false. */
  readonly dropLast?: boolean;
  /** Augment each sample (training), keyed by (seed, epoch, sample index); default none. */
  readonly augment?: BatchAugmentation | null;
}

/**
 * The sample order of `epoch` over `n` samples: with `shuffle`, a seeded permutation that is a pure function of
 * (seed, epoch); without it, 0..n−1. Shared by the in-memory and the streamed loaders, so both see the same batches.
 */
export function epochOrder(n: number, shuffle: boolean, seed: number, epoch: number): Int32Array {
  if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`DataLoader: expected a non-negative integer epoch, found ${epoch}`);
  return shuffle ? Rng.derive(seed, SHUFFLE_STREAM, epoch).permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
}

/**
 * Splits a dataset into batches. With `shuffle`, epoch e's order is a pure
 * function of (seed, e), so a run resumed at (epoch, batch) sees exactly the
 * batches it would have seen; without it, the order is the dataset's.
 */
export class DataLoader {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly augment: BatchAugmentation | null;
  private cached: { epoch: number; order: Int32Array } | undefined;

  constructor(readonly data: ArrayDataset, options: LoaderOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(`DataLoader: expected a positive integer batchSize, found ${options.batchSize}`);
    }
    const rowSize = data.imageShape[0] * data.imageShape[1] * data.imageShape[2];
    if (data.images.length !== data.n * rowSize || data.labels.length !== data.n) {
      throw new RangeError(
        `DataLoader: expected ${data.n} images of ${data.imageShape.join('×')} and ${data.n} labels, found ${data.images.length} pixels and ${data.labels.length} labels`,
      );
    }
    this.batchSize = options.batchSize;
    this.shuffle = options.shuffle ?? false;
    this.seed = options.seed ?? 0;
    this.dropLast = options.dropLast ?? false;
    this.augment = options.augment ?? null;
  }

  /** Number of batches per epoch. */
  get numBatches(): number {
    return this.dropLast ? Math.floor(this.data.n / this.batchSize) : Math.ceil(this.data.n / this.batchSize);
  }

  /** The sample order of `epoch` (0-based): a permutation when shuffling, else 0..n−1. */
  order(epoch: number): Int32Array {
    if (this.cached?.epoch === epoch) return this.cached.order;
    const order = epochOrder(this.data.n, this.shuffle, this.seed, epoch);
    this.cached = { epoch, order };
    return order;
  }

  /** Batch `batchIndex` of `epoch`. */
  batch(epoch: number, batchIndex: number): PlainBatch {
    if (!Number.isInteger(batchIndex) || batchIndex < 0 || batchIndex >= this.numBatches) {
      throw new RangeError(`DataLoader: expected a batch index in [0, ${this.numBatches}), found ${batchIndex}`);
    }
    const order = this.order(epoch);
    const indices = order.slice(batchIndex * this.batchSize, Math.min((batchIndex + 1) * this.batchSize, this.data.n));
    const [c, h, w] = this.data.imageShape;
    const x = gatherRows(this.data.images, indices, c * h * w);
    if (this.augment) augmentBatch(x, this.data.imageShape, indices, epoch, this.augment);
    return {
      x,
      y: gatherRows(this.data.labels, indices, 1),
      indices,
      size: indices.length,
      shape: [indices.length, c, h, w],
      epoch,
      batchIndex,
    };
  }

  /** The batches of `epoch`, starting at `startBatch` (for resuming mid-epoch). */
  *batches(epoch = 0, startBatch = 0): Generator<PlainBatch, void, undefined> {
    if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > this.numBatches) {
      throw new RangeError(`DataLoader: expected a start batch in [0, ${this.numBatches}], found ${startBatch}`);
    }
    for (let b = startBatch; b < this.numBatches; b++) yield this.batch(epoch, b);
  }
}
