import { datasetInfo } from './builtin/datasets.js';
import type { DatasetInfo, DatasetName, Split } from './dataset-info.js';
import { addDecoy, paintDecoys, type DecoyInfo } from './builtin/decoy.js';
import { gatherRows } from './sampling/gather-rows.js';
import { selectBias, selectDecoy } from './sampling/select-rows.js';
import type { BiasInfo, LoadedDataset, SplitData } from './dataset.js';
import { backgroundColours, backgroundMasks, paintBackground, UNBIASED_RHO } from './builtin/biased-mnist.js';
import { digitColour, paintDigits } from './builtin/color-mnist.js';
import {
  normalisationFor, pixelStats, standardiseInPlace, statsFromHistogram, toUnitFloat, type Normalisation, type NormalizeMode,
} from './preprocess/normalisation.js';
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
import { centreCropSplit } from './augment/eval-crop.js';

/** Options of {@link loadDataset}: where the files are, plus preprocessing. */
export interface LoadOptions extends RawLoadOptions, UserDataOptions {
  /**
   * What the inputs are standardised with: `none` (values in [0, 1], the default), `dataset` (the training split's
   * per-channel pixel mean/std) or `imagenet` (torchvision's ImageNet mean/std, for pretrained weights).
   */
  readonly normalize?: NormalizeMode;
  /** The former switch for `normalize: 'dataset'`. */
  readonly standardise?: boolean;
  /** Keep a class-stratified subset of this many training images. */
  readonly trainLimit?: number;
  /** Keep a class-stratified subset of this many test images. */
  readonly testLimit?: number;
  /** Seed choosing the stratified subsets; default 0. */
  readonly subsetSeed?: number;
  /**
   * Seed of the decoy patches and Biased-MNIST's colours (biased datasets only); default 0, so every run sees the same
   * DecoyMNIST and Biased-MNIST.
   */
  readonly decoySeed?: number;
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
  readonly bias?: BiasInfo;
  /** The bias-aligned pixels (test splits of biased datasets). */
  readonly aligned?: Uint8Array;
  readonly files?: { readonly images: LoadedFile; readonly labels: LoadedFile };
  readonly sources?: readonly string[];
}

/** Subsets (stratified), scales to [0, 1], optionally standardises one split, and gives a test split its evaluation crop. */
function finishSplit(info: DatasetInfo, part: PreparedSplit, limit: number | undefined, normalisation: Normalisation | undefined,
  subsetSeed: number, evalCrop = 1): SplitData {
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
  if (normalisation) standardiseInPlace(images, normalisation, h * w);
  const decoy = part.decoy && (all ? part.decoy : selectDecoy(part.decoy, sourceIndices, h * w));
  let cleanImages: Float32Array | undefined;
  const preprocess = (u8: Uint8Array): Float32Array => {
    const x = toUnitFloat(all ? u8 : gatherRows(u8, sourceIndices, size));
    if (normalisation) standardiseInPlace(x, normalisation, h * w);
    return x;
  };
  if (decoy && split === 'test' && part.clean) cleanImages = preprocess(part.clean);
  const bias = part.bias && (all ? part.bias : selectBias(part.bias, sourceIndices, h * w));
  const finished: SplitData = {
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
    ...(bias ? { bias } : {}),
    ...(part.aligned ? { alignedImages: preprocess(part.aligned) } : {}),
    ...(part.files ? { files: part.files } : {}),
    ...(part.sources ? { sources: all ? part.sources : Array.from(sourceIndices, (i) => part.sources![i]!) } : {}),
  };
  return split === 'test' ? centreCropSplit(finished, evalCrop) : finished;
}

/**
 * One split of a built-in dataset from its grey files: as they are, or with the dataset's shortcut built in — the
 * decoy patch, Biased-MNIST's background colour (ρ in training, 0.1 at test), ColorMNIST's digit colour — with each
 * sample's bias attribute and, at test, where the bias is and the bias-aligned images.
 */
function builtinSplit(info: ReturnType<typeof datasetInfo>, split: Split, raw: { n: number; images: Uint8Array; labels: Uint8Array;
  files: { readonly images: LoadedFile; readonly labels: LoadedFile } }, seed: number): PreparedSplit {
  const [, h, w] = info.imageShape;
  const { n, labels, files } = raw;
  const test = split === 'test';
  if (info.decoy) {
    const decoy = addDecoy(raw.images, labels, { split, seed, rows: h, cols: w, numClasses: info.numClasses });
    return {
      split, n, pixels: decoy.images, labels, files, decoy, clean: raw.images,
      bias: { region: 'patch', attributes: decoy.decoyLabels, masks: decoy.masks },
      ...(test ? { aligned: paintDecoys(raw.images, decoy.corners, labels, h, w) } : {}),
    };
  }
  if (info.bias?.region === 'background') {
    const colours = backgroundColours(labels, test ? UNBIASED_RHO : info.bias.rho!, seed, test ? 1 : 0, info.numClasses);
    return {
      split, n, pixels: paintBackground(raw.images, colours, h, w), labels, files,
      bias: { region: 'background', attributes: colours, masks: test ? backgroundMasks(raw.images) : null },
      ...(test ? { aligned: paintBackground(raw.images, labels, h, w) } : {}),
    };
  }
  if (info.bias?.region === 'object') {
    const colours = labels.map((y) => digitColour(y, split));
    return {
      split, n, pixels: paintDigits(raw.images, colours, h, w), labels, files,
      bias: { region: 'object', attributes: colours, masks: null },
      ...(test ? { aligned: paintDigits(raw.images, labels, h, w) } : {}),
    };
  }
  return { split, n, pixels: raw.images, labels, files };
}

/** The normalisation options ask for (`standardise` is the former switch for `dataset`). */
export function normalizeMode(options: Pick<LoadOptions, 'normalize' | 'standardise'>): NormalizeMode {
  return options.normalize ?? (options.standardise ? 'dataset' : 'none');
}

/** Both splits finished, with the training split's statistics. */
function finishDataset(info: DatasetInfo, train: PreparedSplit, test: PreparedSplit, options: LoadOptions): LoadedDataset {
  const [c, h, w] = info.imageShape;
  const trainStats = pixelStats(train.pixels, c, h * w);
  const normalisation = normalisationFor(normalizeMode(options), trainStats, c);
  const seed = options.subsetSeed ?? 0;
  return {
    info,
    train: finishSplit(info, train, options.trainLimit, normalisation, seed),
    test: finishSplit(info, test, options.testLimit, normalisation, seed, options.evalCrop),
    trainStats,
    normalisation,
  };
}

/**
 * Loads a dataset spec: a built-in name (`mnist`, `fashion-mnist`, `decoy-mnist`, `decoy-fashion-mnist`, `color-mnist`,
 * `biased-mnist:ρ`, `biased-fashion-mnist:ρ`: finds and verifies the files, builds the shortcut in), an image folder (`folder:DIR`) or the IDX files of an MNIST-format set
 * (`idx:DIR`, see loadUserDataset); then takes stratified subsets, scales to [0, 1] and optionally standardises.
 * Shortcuts are drawn on the full split before subsetting, so an image's patch or colour does not depend on the limit.
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
  const [train, test] = await Promise.all(
    (['train', 'test'] as const).map(async (split): Promise<PreparedSplit> =>
      builtinSplit(info, split, await loadRawSplit(info.base, split, options), options.decoySeed ?? 0)),
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

/** Per-channel pixel mean/std of a streamed split's files, from their histograms (as pixelStats), decoded by worker threads. */
async function streamedStats(paths: readonly string[], shape: readonly [number, number, number], workers?: number): Promise<Normalisation> {
  const pool = new DecodePool(workers);
  try {
    const chunks: string[][] = [];
    for (let s = 0; s < paths.length; s += STATS_CHUNK) chunks.push(paths.slice(s, s + STATS_CHUNK));
    const parts = await Promise.all(chunks.map((c) => pool.histogram(c, shape)));
    const hist = new Float64Array(shape[0] * 256);
    for (const h of parts) for (let k = 0; k < hist.length; k++) hist[k]! += h[k]!;
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
  const norm = normalizeMode(options);
  const trainStats = norm === 'dataset' ? await streamedStats(train.paths, probed.shape, options.decodeWorkers) : undefined;
  const normalisation = normalisationFor(norm, trainStats, probed.shape[0]);
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
    test: finishSplit(info, test, options.testLimit, normalisation, seed, options.evalCrop),
    trainStats,
    normalisation,
  };
  return data;
}
