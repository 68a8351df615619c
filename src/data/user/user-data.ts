import { availableParallelism } from 'node:os';
import type { DatasetInfo, Split } from '../dataset-info.js';
import { DataError } from '../errors.js';
import type { ImageShape } from '../formats/image-file.js';

/** How a user dataset is decoded: shape size and colour (null = from the images), and the folder split. */
export interface UserDataOptions {
  /** [H, W] to resize every image to; default: the images' own size when all agree (else an error). */
  readonly imageSize?: readonly [number, number] | null;
  /** 1 or 3; default 3 when any image has colour, else 1. */
  readonly channels?: 1 | 3 | null;
  /** Share of each class held out as the test split of a `DIR/<class>/*` folder; default 0.2. */
  readonly testFraction?: number;
  /** Seed of that split; default 0, so every run of a folder sees the same split. */
  readonly splitSeed?: number;
  /** The evaluation transform of the test (and validation) images: their centred share of each side; default 1, whole. */
  readonly evalCrop?: number;
}

/** One decoded split of a user dataset. */
export interface UserSplit {
  readonly split: Split;
  readonly n: number;
  /** n×C×H×W uint8. */
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  /** Where each image came from (a file, or an IDX file and index). */
  readonly sources: readonly string[];
}

/** A user dataset decoded into memory. */
export interface UserData {
  readonly info: DatasetInfo;
  readonly train: UserSplit;
  readonly test: UserSplit;
}

// Decodes in flight at once: sharp runs each on libuv's thread pool, so the main thread is free meanwhile.
export const IN_FLIGHT = Math.max(4, 2 * availableParallelism());

export function infoFor(spec: string, title: string, classNames: readonly string[], imageShape: ImageShape, trainSize: number, testSize: number): DatasetInfo {
  return {
    name: spec, base: null, decoy: false, title, classNames, numClasses: classNames.length,
    imageShape: [imageShape[0], imageShape[1], imageShape[2]], trainSize, testSize, downloadBase: '',
  };
}

/** The decoded C×H×W from the options and the images' own sizes and colours. */
export function chooseShape(probes: readonly { path: string; width: number; height: number; channels: 1 | 3 }[], o: UserDataOptions, where: string): ImageShape {
  const channels = o.channels ?? (probes.some((p) => p.channels === 3) ? 3 : 1);
  if (o.imageSize) return [channels, o.imageSize[0], o.imageSize[1]];
  const first = probes[0]!;
  const other = probes.find((p) => p.width !== first.width || p.height !== first.height);
  if (other) {
    throw new DataError(`${where}: images differ in size (${first.path} is ${first.height}×${first.width}, ${other.path} is ` +
      `${other.height}×${other.width}); pass --image-size H[xW] to resize them all, e.g. --image-size ${first.height}x${first.width}`);
  }
  if (first.width < 16 || first.height < 16) {
    throw new DataError(`${where}: images are ${first.height}×${first.width}, the models need at least 16×16; pass --image-size 32 (or larger) to upscale them`);
  }
  return [channels, first.height, first.width];
}
