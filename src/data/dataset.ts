import type { BiasRegion, DatasetInfo, Split } from './dataset-info.js';
import type { DecoyInfo } from './builtin/decoy.js';
import type { LoadedFile } from './builtin/raw.js';
import type { ArrayDataset } from './batching/data-loader.js';
import type { Normalisation } from './preprocess/normalisation.js';

/** The shortcut of each sample of a biased dataset (DecoyMNIST, Biased-MNIST, ColorMNIST). */
export interface BiasInfo {
  readonly region: BiasRegion;
  /**
   * The class each sample's bias attribute stands for: its colour's index, or the class its patch's grey encodes. A
   * sample is bias-aligned when this equals its label, bias-conflicting otherwise.
   */
  readonly attributes: Uint8Array;
  /** n×H×W, 1 where the bias is (the patch, the background): test splits of region datasets; null otherwise. */
  readonly masks: Uint8Array | null;
}

/** One split, preprocessed and ready for a {@link DataLoader}. */
export interface SplitData extends ArrayDataset {
  readonly split: Split;
  /**
   * The uint8 pixels as presented to the model (decoy patch included), n×C×H×W; for figures.
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
  /** Each sample's bias attribute and region (datasets with a known shortcut). */
  readonly bias?: BiasInfo;
  /**
   * The same images with every sample's bias set to its own class, preprocessed as `images` (test splits of biased
   * datasets): the bias-aligned ("biased") test set — Biased-MNIST at ρ = 1, ColorMNIST in its training colours,
   * DecoyMNIST with the label's grey in each patch.
   */
  readonly alignedImages?: Float32Array;
  /** The files it was read from (built-in datasets). */
  readonly files?: { readonly images: LoadedFile; readonly labels: LoadedFile };
  /** Where each image came from (user datasets: its file, or IDX file and index). */
  readonly sources?: readonly string[];
}

/** A dataset's two splits and how they were preprocessed. */
export interface LoadedDataset {
  readonly info: DatasetInfo;
  readonly train: SplitData;
  readonly test: SplitData;
  /** A validation split held out of the training split (`--val-fraction`); absent otherwise. */
  readonly val?: SplitData;
  /** Pixel mean/std of the full training split (decoys included), in [0, 1] units. */
  readonly trainStats: Normalisation;
  /** The normalisation applied to `images`, or undefined when not standardised. */
  readonly normalisation: Normalisation | undefined;
}
