/**
 * What describes any dataset batchcam trains on: the built-in names, the two splits and the static description a
 * model is sized from (built-in sets: builtin/datasets.ts; user datasets: user/).
 */

/** The two underlying image collections. */
export type BaseDatasetName = 'mnist' | 'fashion-mnist';

/**
 * Every dataset the library can train on: the decoy variants add Ross et al.'s corner patch, ColorMNIST colours the
 * digit by class (CDEP), Biased-MNIST colours the background by class with probability ρ (`biased-mnist:0.997`).
 */
export type DatasetName = BaseDatasetName | 'decoy-mnist' | 'decoy-fashion-mnist' | 'color-mnist'
  | `biased-mnist:${string}` | `biased-fashion-mnist:${string}`;

/** Where a built-in dataset's shortcut sits: a corner patch (DecoyMNIST), the background (Biased-MNIST), the digit (ColorMNIST). */
export type BiasRegion = 'patch' | 'background' | 'object';

/** A built-in dataset's shortcut: where it sits and, for Biased-MNIST, the training split's colour–class correlation ρ. */
export interface BiasKind {
  readonly region: BiasRegion;
  readonly rho?: number;
}

/** Official split. */
export type Split = 'train' | 'test';

/** Static description of a dataset. */
export interface DatasetInfo {
  /** The built-in name, or the `folder:DIR` / `idx:DIR` spec of a user dataset. */
  readonly name: DatasetName | string;
  /** The collection whose files it is made from; null for a user dataset. */
  readonly base: BaseDatasetName | null;
  /** Whether a decoy patch is added (DecoyMNIST / DecoyFMNIST). */
  readonly decoy: boolean;
  /** The shortcut built into the set (decoy, Biased-MNIST, ColorMNIST); absent for the rest. */
  readonly bias?: BiasKind;
  readonly title: string;
  readonly classNames: readonly string[];
  readonly numClasses: number;
  /** Shape of one image as the model sees it: channels, height, width. */
  readonly imageShape: readonly [number, number, number];
  readonly trainSize: number;
  readonly testSize: number;
  /** Base URL of the official gzip files, used only when downloading is allowed. */
  readonly downloadBase: string;
}
