import type { DatasetInfo, Split } from './dataset-info.js';
import type { DecoyInfo } from './builtin/decoy.js';
import type { LoadedFile } from './builtin/raw.js';
import type { ArrayDataset } from './batching/data-loader.js';
import type { Normalisation } from './preprocess/normalisation.js';

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
  /** Pixel mean/std of the full training split (decoys included), in [0, 1] units. */
  readonly trainStats: Normalisation;
  /** The normalisation applied to `images`, or undefined when not standardised. */
  readonly normalisation: Normalisation | undefined;
}
