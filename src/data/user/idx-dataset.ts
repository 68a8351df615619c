import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Split } from '../dataset-info.js';
import { DataError } from '../errors.js';
import { findDataFile } from '../builtin/sources.js';
import { decompressIfGzip, parseIdx } from '../formats/idx.js';
import { decodeImage, mapLimit } from '../formats/image-file.js';
import { chooseShape, infoFor, IN_FLIGHT, type UserData, type UserDataOptions, type UserSplit } from './user-data.js';

const IDX_KINDS = { train: ['train-images', 'train-labels'], test: ['test-images', 'test-labels'] } as const;

/** Loads the four IDX files of an MNIST-format set (not checksummed); the number of classes is the largest label + 1. */
export async function loadIdx(spec: string, dir: string, o: UserDataOptions): Promise<UserData> {
  const file = (kind: (typeof IDX_KINDS)[Split][number], ndim: number): { data: Uint8Array; dims: readonly number[]; path: string } => {
    const path = findDataFile(dir, kind);
    if (path === undefined) {
      throw new DataError(`${dir}: no ${kind} IDX file; expected train-images-idx3-ubyte, train-labels-idx1-ubyte, ` +
        't10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (raw or .gz) in that directory');
    }
    const idx = parseIdx(decompressIfGzip(readFileSync(path), path), path, { dtype: 'uint8' });
    if (idx.dims.length !== ndim) {
      throw new DataError(`${path}: expected ${ndim === 3 ? 'images (n×rows×cols)' : 'labels (n)'}, found an IDX array of ${idx.dims.length} dims [${idx.dims.join(', ')}]`);
    }
    return { data: idx.data as Uint8Array, dims: idx.dims, path };
  };
  const raw = (split: Split): { images: ReturnType<typeof file>; labels: ReturnType<typeof file> } => {
    const [ik, lk] = IDX_KINDS[split];
    const images = file(ik, 3);
    const labels = file(lk, 1);
    if (images.dims[0] !== labels.dims[0]) {
      throw new DataError(`${labels.path}: expected ${images.dims[0]} labels (one per image of ${images.path}), found ${labels.dims[0]}`);
    }
    if (images.dims[0] === 0) throw new DataError(`${images.path}: holds no images`);
    return { images, labels };
  };
  const parts = { train: raw('train'), test: raw('test') };
  const [, h, w] = parts.train.images.dims as [number, number, number];
  const [, th, tw] = parts.test.images.dims as [number, number, number];
  if ((th !== h || tw !== w) && !o.imageSize) {
    throw new DataError(`${dir}: training images are ${h}×${w}, test images ${th}×${tw}; pass --image-size H[xW] to resize both`);
  }
  const shape = chooseShape([{ path: parts.train.images.path, width: w, height: h, channels: 1 }], o, dir);
  let maxLabel = 0;
  for (const s of ['train', 'test'] as const) for (const y of parts[s].labels.data) maxLabel = Math.max(maxLabel, y);
  const numClasses = maxLabel + 1;
  if (numClasses < 2) throw new DataError(`${parts.train.labels.path}: every label is 0; a classifier needs at least two classes`);
  const decode = async (split: Split): Promise<UserSplit> => {
    const { images, labels } = parts[split];
    const [n, rows, cols] = images.dims as [number, number, number];
    const sources = Array.from({ length: n }, (_, i) => `${images.path}#${i}`);
    const [c, th2, tw2] = shape;
    let pixels: Uint8Array;
    if (rows === th2 && cols === tw2 && c === 1) {
      pixels = images.data;
    } else if (rows === th2 && cols === tw2) {
      // Grey to RGB at the same size: the grey plane repeated, exactly.
      const hw = rows * cols;
      pixels = new Uint8Array(n * c * hw);
      for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) pixels.set(images.data.subarray(i * hw, (i + 1) * hw), (i * c + k) * hw);
    } else {
      const size = c * th2 * tw2;
      const hw = rows * cols;
      pixels = new Uint8Array(n * size);
      await mapLimit(sources, IN_FLIGHT, async (name, i) => {
        pixels.set(await decodeImage({ pixels: images.data.subarray(i * hw, (i + 1) * hw), width: cols, height: rows, channels: 1 }, shape, name), i * size);
      });
    }
    return { split, n, pixels, labels: labels.data, sources };
  };
  const train = await decode('train');
  const test = await decode('test');
  const classNames = Array.from({ length: numClasses }, (_, c) => String(c));
  return { info: infoFor(spec, basename(dir), classNames, shape, train.n, test.n), train, test };
}
