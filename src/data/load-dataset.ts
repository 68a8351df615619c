import { datasetInfo } from './builtin/datasets.js';
import type { DatasetInfo, DatasetName, Split } from './dataset-info.js';
import { addDecoy, type DecoyInfo } from './builtin/decoy.js';
import { gatherRows } from './sampling/gather-rows.js';
import type { LoadedDataset, SplitData } from './dataset.js';
import { pixelStats, standardiseInPlace, statsFromHistogram, toUnitFloat, type Normalisation } from './preprocess/normalisation.js';
import { labelsToInt64 } from './preprocess/labels.js';
import { loadRawSplit, type LoadedFile, type RawLoadOptions } from './builtin/raw.js';
import { stratifiedIndices } from './sampling/stratified.js';
import { loadUserDataset } from './user/load-user-dataset.js';
import { decodeFolder, decodeFolderSplit, folderInfo, probeFolder } from './user/folder-dataset.js';
import type { UserDataOptions } from './user/user-data.js';
import { DecodePool } from './streaming/decode-pool.js';
import { inMemoryBytes, STREAM_AUTO_BYTES, type StreamedDataset, type StreamMode, type TrainingData } from './streaming/streamed-split.js';
import { datasetSpecProblem, parseDatasetSpec } from './dataset-spec.js';
import { DataError } from './errors.js';

/** Options of {@link loadDataset}: where the files are, plus preprocessing. */
export interface LoadOptions extends RawLoadOptions, UserDataOptions {
  /** Standardise with the training split's pixel mean/std; default false (values in [0, 1]). */
  readonly standardise?: boolean;
  /** Keep a class-stratified subset of this many training images. */
  readonly trainLimit?: number;
  /** Keep a class-stratified subset of this many test images. */
  readonly testLimit?: number;
  /** Seed choosing the stratified subsets; default 0. */
  readonly subsetSeed?: number;
  /** Seed of the decoy patches (decoy datasets only); default 0, so every run sees the same DecoyMNIST. */
  readonly decoySeed?: number;
}

function subsetDecoy(decoy: DecoyInfo, indices: Int32Array, size: number): DecoyInfo {
  return {
    corners: gatherRows(decoy.corners, indices, 1),
    decoyLabels: gatherRows(decoy.decoyLabels, indices, 1),
    masks: gatherRows(decoy.masks, indices, size),
  };
}

/** What {@link finishSplit} needs of one split: its uint8 pixels (n×C×H×W) and labels, before subsetting. */
interface PreparedSplit {
  readonly split: Split;
  readonly n: number;
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  readonly decoy?: DecoyInfo;
  /** The pixels without decoy patches (decoy datasets). */
  readonly clean?: Uint8Array;
  readonly files?: { readonly images: LoadedFile; readonly labels: LoadedFile };
  readonly sources?: readonly string[];
}

/** Subsets (stratified), scales to [0, 1] and optionally standardises one split. */
function finishSplit(info: DatasetInfo, part: PreparedSplit, limit: number | undefined, normalisation: Normalisation | undefined,
  subsetSeed: number): SplitData {
  const [c, h, w] = info.imageShape;
  const size = c * h * w;
  const { split } = part;
  const all = limit === undefined || limit >= part.n;
  const sourceIndices = all
    ? Int32Array.from({ length: part.n }, (_, i) => i)
    : stratifiedIndices(part.labels, limit, { numClasses: info.numClasses, seed: subsetSeed });
  // Without a limit the cached file contents are shared, not copied; they are never written to.
  const pixels = all ? part.pixels : gatherRows(part.pixels, sourceIndices, size);
  const classes = all ? part.labels : gatherRows(part.labels, sourceIndices, 1);
  const images = toUnitFloat(pixels);
  if (normalisation) standardiseInPlace(images, normalisation);
  const decoy = part.decoy && (all ? part.decoy : subsetDecoy(part.decoy, sourceIndices, h * w));
  let cleanImages: Float32Array | undefined;
  if (decoy && split === 'test' && part.clean) {
    cleanImages = toUnitFloat(all ? part.clean : gatherRows(part.clean, sourceIndices, size));
    if (normalisation) standardiseInPlace(cleanImages, normalisation);
  }
  return {
    split,
    n: sourceIndices.length,
    imageShape: info.imageShape,
    images,
    labels: labelsToInt64(classes),
    pixels,
    classes,
    sourceIndices,
    ...(decoy ? { decoy: { corners: decoy.corners, decoyLabels: decoy.decoyLabels, masks: decoy.masks } } : {}),
    ...(cleanImages ? { cleanImages } : {}),
    ...(part.files ? { files: part.files } : {}),
    ...(part.sources ? { sources: all ? part.sources : Array.from(sourceIndices, (i) => part.sources![i]!) } : {}),
  };
}

/** Both splits finished, with the training split's statistics. */
function finishDataset(info: DatasetInfo, train: PreparedSplit, test: PreparedSplit, options: LoadOptions): LoadedDataset {
  const trainStats = pixelStats(train.pixels);
  const normalisation = options.standardise ? trainStats : undefined;
  const seed = options.subsetSeed ?? 0;
  return {
    info,
    train: finishSplit(info, train, options.trainLimit, normalisation, seed),
    test: finishSplit(info, test, options.testLimit, normalisation, seed),
    trainStats,
    normalisation,
  };
}

/**
 * Loads a dataset spec: a built-in name (`mnist`, `fashion-mnist`, `decoy-mnist`, `decoy-fashion-mnist`: finds and
 * verifies the files, adds decoys), an image folder (`folder:DIR`) or the IDX files of an MNIST-format set
 * (`idx:DIR`, see loadUserDataset); then takes stratified subsets, scales to [0, 1] and optionally standardises.
 * Decoys are drawn on the full split before subsetting, so an image's patch does not depend on the limit.
 */
export async function loadDataset(name: DatasetName | string, options: LoadOptions = {}): Promise<LoadedDataset> {
  const problem = datasetSpecProblem(name);
  if (problem) throw new DataError(problem);
  const spec = parseDatasetSpec(name);
  if (spec.kind !== 'builtin') {
    const user = await loadUserDataset(name, spec, options);
    return finishDataset(user.info, user.train, user.test, options);
  }
  const info = datasetInfo(spec.name);
  const [, h, w] = info.imageShape;
  const [train, test] = await Promise.all(
    (['train', 'test'] as const).map(async (split): Promise<PreparedSplit> => {
      const raw = await loadRawSplit(info.base, split, options);
      const decoy = info.decoy
        ? addDecoy(raw.images, raw.labels, { split, seed: options.decoySeed ?? 0, rows: h, cols: w, numClasses: info.numClasses })
        : undefined;
      return {
        split, n: raw.n, pixels: decoy?.images ?? raw.images, labels: raw.labels, files: raw.files,
        ...(decoy ? { decoy, clean: raw.images } : {}),
      };
    }),
  ) as [PreparedSplit, PreparedSplit];
  return finishDataset(info, train, test, options);
}

/** Options of {@link loadTrainingData}: {@link LoadOptions} plus whether the training split streams. */
export interface TrainingLoadOptions extends LoadOptions {
  /** 'on': stream a folder: dataset's training split from disk; 'off': hold it in memory; 'auto' (default): stream above STREAM_AUTO_BYTES. */
  readonly stream?: StreamMode;
  /** Decode workers of the statistics pass (standardising a streamed split). */
  readonly decodeWorkers?: number;
}

// Images per request of the statistics pass, and requests in flight.
const STATS_CHUNK = 64;

/** Pixel mean/std of a streamed split's files, from their histogram (as pixelStats), decoded by worker threads. */
async function streamedStats(paths: readonly string[], shape: readonly [number, number, number], workers?: number): Promise<Normalisation> {
  const pool = new DecodePool(workers);
  try {
    const chunks: string[][] = [];
    for (let s = 0; s < paths.length; s += STATS_CHUNK) chunks.push(paths.slice(s, s + STATS_CHUNK));
    const parts = await Promise.all(chunks.map((c) => pool.histogram(c, shape)));
    const hist = new Float64Array(256);
    for (const h of parts) for (let k = 0; k < 256; k++) hist[k]! += h[k]!;
    return statsFromHistogram(hist);
  } finally {
    await pool.close();
  }
}

/**
 * Loads the data of a training run: as {@link loadDataset}, except that a `folder:` dataset's training split may
 * stream from disk (`stream`: 'on', or 'auto' when its decoded pixels would exceed STREAM_AUTO_BYTES): then only
 * its file list and labels are held and a StreamedLoader decodes each batch in worker threads. The test split is
 * held in memory either way. Built-in and `idx:` sets are always held in memory (their files are read whole).
 */
export async function loadTrainingData(name: DatasetName | string, options: TrainingLoadOptions = {}): Promise<TrainingData> {
  const mode = options.stream ?? 'auto';
  const problem = datasetSpecProblem(name);
  if (problem) throw new DataError(problem);
  const spec = parseDatasetSpec(name);
  if (mode === 'off' || spec.kind !== 'folder') return loadDataset(name, options);
  const probed = await probeFolder(name, spec.dir, options);
  const train = probed.folder.train;
  const n = train.paths.length;
  const limit = options.trainLimit;
  const all = limit === undefined || limit >= n;
  const info = folderInfo(probed);
  if (mode === 'auto' && inMemoryBytes(all ? n : limit, probed.shape) <= STREAM_AUTO_BYTES) {
    const user = await decodeFolder(probed);
    return finishDataset(user.info, user.train, user.test, options);
  }
  // The statistics are of the full training split, as the in-memory path computes them.
  const trainStats = options.standardise ? await streamedStats(train.paths, probed.shape, options.decodeWorkers) : undefined;
  const normalisation = options.standardise ? trainStats : undefined;
  const seed = options.subsetSeed ?? 0;
  const sourceIndices = all
    ? Int32Array.from({ length: n }, (_, i) => i)
    : stratifiedIndices(train.labels, limit, { numClasses: info.numClasses, seed });
  const classes = all ? train.labels : gatherRows(train.labels, sourceIndices, 1);
  const test = await decodeFolderSplit(probed, 'test');
  const data: StreamedDataset = {
    info,
    train: {
      streamed: true, split: 'train', n: sourceIndices.length, imageShape: info.imageShape, labels: labelsToInt64(classes), classes,
      sourceIndices, sources: Array.from(sourceIndices, (i) => train.paths[i]!), normalisation: normalisation ?? null,
    },
    test: finishSplit(info, test, options.testLimit, normalisation, seed),
    trainStats,
    normalisation,
  };
  return data;
}
