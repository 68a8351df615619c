import { datasetInfo, type DatasetInfo, type DatasetName, type Split } from './datasets.js';
import { addDecoy, type DecoyInfo } from './decoy.js';
import { gatherRows, type ArrayDataset } from './loader.js';
import { labelsToInt64, pixelStats, standardiseInPlace, toUnitFloat, type Normalisation } from './preprocess.js';
import { loadRawSplit, type LoadedFile, type RawLoadOptions } from './raw.js';
import { stratifiedIndices } from './stratified.js';

/** Options of {@link loadDataset}: where the files are, plus preprocessing. */
export interface LoadOptions extends RawLoadOptions {
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

/** One split, preprocessed and ready for a {@link DataLoader}. */
export interface SplitData extends ArrayDataset {
  readonly split: Split;
  /**
   * The uint8 pixels as presented to the model (decoy patch included), n×H×W; for figures.
   * Without a limit this and `classes` share the process-wide file cache: treat them as read-only.
   */
  readonly pixels: Uint8Array;
  /** Labels as uint8, for metrics and counting. */
  readonly classes: Uint8Array;
  /** Index of each image in the official split (differs from position when a limit applies). */
  readonly sourceIndices: Int32Array;
  /** Where each decoy patch is; present for decoy datasets only. */
  readonly decoy?: DecoyInfo;
  /**
   * The same images without their decoy patch, preprocessed as `images` (decoy datasets' test split only): the
   * reference for the clean-vs-decoy accuracy gap.
   */
  readonly cleanImages?: Float32Array;
  /** The files it was read from. */
  readonly files: { readonly images: LoadedFile; readonly labels: LoadedFile };
}

/** A dataset's two splits and how they were preprocessed. */
export interface LoadedDataset {
  readonly info: DatasetInfo;
  readonly train: SplitData;
  readonly test: SplitData;
  /** Pixel mean/std of the full training split (decoys included), in [0, 1] units. */
  readonly trainStats: Normalisation;
  /** The normalisation applied to `images`, or undefined when not standardised. */
  readonly normalisation: Normalisation | undefined;
}

function subsetDecoy(decoy: DecoyInfo, indices: Int32Array, size: number): DecoyInfo {
  return {
    corners: gatherRows(decoy.corners, indices, 1),
    decoyLabels: gatherRows(decoy.decoyLabels, indices, 1),
    masks: gatherRows(decoy.masks, indices, size),
  };
}

/**
 * Loads `name` (`mnist`, `fashion-mnist`, `decoy-mnist`, `decoy-fashion-mnist`):
 * finds and verifies the files, adds decoys, takes stratified subsets, scales
 * to [0, 1] and optionally standardises. Decoys are drawn on the full split
 * before subsetting, so an image's patch does not depend on the limit.
 */
export async function loadDataset(name: DatasetName | string, options: LoadOptions = {}): Promise<LoadedDataset> {
  const info = datasetInfo(name);
  const [, h, w] = info.imageShape;
  const prepared = await Promise.all(
    (['train', 'test'] as const).map(async (split) => {
      const raw = await loadRawSplit(info.base, split, options);
      const decoy = info.decoy
        ? addDecoy(raw.images, raw.labels, { split, seed: options.decoySeed ?? 0, rows: h, cols: w, numClasses: info.numClasses })
        : undefined;
      return { split, raw, pixels: decoy?.images ?? raw.images, decoy };
    }),
  );
  const [trainPart, testPart] = prepared as [(typeof prepared)[number], (typeof prepared)[number]];
  const trainStats = pixelStats(trainPart.pixels);
  const normalisation = options.standardise ? trainStats : undefined;

  const finish = (part: (typeof prepared)[number], limit: number | undefined): SplitData => {
    const { split, raw } = part;
    const all = limit === undefined || limit >= raw.n;
    const sourceIndices = all
      ? Int32Array.from({ length: raw.n }, (_, i) => i)
      : stratifiedIndices(raw.labels, limit, { numClasses: info.numClasses, seed: options.subsetSeed ?? 0 });
    // Without a limit the cached file contents are shared, not copied; they are never written to.
    const pixels = all ? part.pixels : gatherRows(part.pixels, sourceIndices, h * w);
    const classes = all ? raw.labels : gatherRows(raw.labels, sourceIndices, 1);
    const images = toUnitFloat(pixels);
    if (normalisation) standardiseInPlace(images, normalisation);
    const decoy = part.decoy && (all ? part.decoy : subsetDecoy(part.decoy, sourceIndices, h * w));
    let cleanImages: Float32Array | undefined;
    if (decoy && split === 'test') {
      cleanImages = toUnitFloat(all ? raw.images : gatherRows(raw.images, sourceIndices, h * w));
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
      files: raw.files,
    };
  };
  return {
    info,
    train: finish(trainPart, options.trainLimit),
    test: finish(testPart, options.testLimit),
    trainStats,
    normalisation,
  };
}
