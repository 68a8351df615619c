import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { DatasetInfo, Split } from './datasets.js';
import type { DatasetSpec } from './dataset-spec.js';
import { DataError } from './errors.js';
import { decompressIfGzip, parseIdx } from './idx.js';
import { decodeImage, mapLimit, probeImage, type ImageTarget } from './image-file.js';
import { scanImageFolder, type ScannedFolder } from './image-folder.js';
import { findDataFile } from './sources.js';

/** How a user dataset is decoded: target size and colour (null = from the images), and the folder split. */
export interface CustomDataOptions {
  /** [H, W] to resize every image to; default: the images' own size when all agree (else an error). */
  readonly imageSize?: readonly [number, number] | null;
  /** 1 or 3; default 3 when any image has colour, else 1. */
  readonly channels?: 1 | 3 | null;
  /** Share of each class held out as the test split of a `DIR/<class>/*` folder; default 0.2. */
  readonly testFraction?: number;
  /** Seed of that split; default 0, so every run of a folder sees the same split. */
  readonly splitSeed?: number;
}

/** One decoded split of a user dataset. */
export interface CustomSplit {
  readonly split: Split;
  readonly n: number;
  /** n×C×H×W uint8. */
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  /** Where each image came from (a file, or an IDX file and index). */
  readonly sources: readonly string[];
}

/** A user dataset decoded into memory. */
export interface CustomData {
  readonly info: DatasetInfo;
  readonly train: CustomSplit;
  readonly test: CustomSplit;
}

// Decodes in flight at once: sharp runs each on libuv's thread pool, so the main thread is free meanwhile.
const IN_FLIGHT = Math.max(4, 2 * availableParallelism());

function infoFor(spec: string, title: string, classNames: readonly string[], imageShape: ImageTarget, trainSize: number, testSize: number): DatasetInfo {
  return {
    name: spec, base: null, decoy: false, title, classNames, numClasses: classNames.length,
    imageShape: [imageShape[0], imageShape[1], imageShape[2]], trainSize, testSize, downloadBase: '',
  };
}

/** The target C×H×W from the options and the images' own sizes and colours. */
function chooseTarget(probes: readonly { path: string; width: number; height: number; channels: 1 | 3 }[], o: CustomDataOptions, where: string): ImageTarget {
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

/** An image folder scanned and every header probed: its files and the C×H×W each image is decoded to. */
export interface ProbedFolder {
  readonly spec: string;
  readonly folder: ScannedFolder;
  readonly target: ImageTarget;
}

/** Scans an image folder (docs: README "Your own data") and probes every header, choosing the decoded size. */
export async function probeFolder(spec: string, dir: string, o: CustomDataOptions): Promise<ProbedFolder> {
  const folder = scanImageFolder(dir, { testFraction: o.testFraction ?? 0.2, seed: o.splitSeed ?? 0 });
  const paths = [...folder.train.paths, ...folder.test.paths];
  const probes = await mapLimit(paths, IN_FLIGHT, async (path) => ({ path, ...(await probeImage(path)) }));
  return { spec, folder, target: chooseTarget(probes, o, dir) };
}

/** The dataset description of a probed folder. */
export function folderInfo(p: ProbedFolder): DatasetInfo {
  return infoFor(p.spec, basename(p.folder.dir), p.folder.classNames, p.target, p.folder.train.paths.length, p.folder.test.paths.length);
}

/** Decodes one split of a probed folder into memory, resized through sharp. */
export async function decodeFolderSplit(p: ProbedFolder, split: Split): Promise<CustomSplit> {
  const size = p.target[0] * p.target[1] * p.target[2];
  const part = p.folder[split];
  const pixels = new Uint8Array(part.paths.length * size);
  await mapLimit(part.paths, IN_FLIGHT, async (path, i) => { pixels.set(await decodeImage(path, p.target), i * size); });
  return { split, n: part.paths.length, pixels, labels: part.labels, sources: part.paths };
}

/** Decodes both splits of a probed folder into memory. */
export async function decodeFolder(p: ProbedFolder): Promise<CustomData> {
  const train = await decodeFolderSplit(p, 'train');
  const test = await decodeFolderSplit(p, 'test');
  return { info: folderInfo(p), train, test };
}

/** Loads an image folder into memory: scan, probe every header, decode and resize through sharp. */
async function loadFolder(spec: string, dir: string, o: CustomDataOptions): Promise<CustomData> {
  return decodeFolder(await probeFolder(spec, dir, o));
}

const IDX_KINDS = { train: ['train-images', 'train-labels'], test: ['test-images', 'test-labels'] } as const;

/** Loads the four IDX files of an MNIST-format set (not checksummed); the number of classes is the largest label + 1. */
async function loadIdx(spec: string, dir: string, o: CustomDataOptions): Promise<CustomData> {
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
  const target = chooseTarget([{ path: parts.train.images.path, width: w, height: h, channels: 1 }], o, dir);
  let maxLabel = 0;
  for (const s of ['train', 'test'] as const) for (const y of parts[s].labels.data) maxLabel = Math.max(maxLabel, y);
  const numClasses = maxLabel + 1;
  if (numClasses < 2) throw new DataError(`${parts.train.labels.path}: every label is 0; a classifier needs at least two classes`);
  const decode = async (split: Split): Promise<CustomSplit> => {
    const { images, labels } = parts[split];
    const [n, rows, cols] = images.dims as [number, number, number];
    const sources = Array.from({ length: n }, (_, i) => `${images.path}#${i}`);
    const [c, th2, tw2] = target;
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
        pixels.set(await decodeImage({ pixels: images.data.subarray(i * hw, (i + 1) * hw), width: cols, height: rows, channels: 1 }, target, name), i * size);
      });
    }
    return { split, n, pixels, labels: labels.data, sources };
  };
  const train = await decode('train');
  const test = await decode('test');
  const classNames = Array.from({ length: numClasses }, (_, c) => String(c));
  return { info: infoFor(spec, basename(dir), classNames, target, train.n, test.n), train, test };
}

/** Loads a `folder:` or `idx:` dataset into memory. */
export function loadCustomData(spec: string, parsed: Exclude<DatasetSpec, { kind: 'builtin' }>, o: CustomDataOptions = {}): Promise<CustomData> {
  return parsed.kind === 'folder' ? loadFolder(spec, parsed.dir, o) : loadIdx(spec, parsed.dir, o);
}
