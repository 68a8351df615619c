import type { CamTarget } from '../cam/options.js';
import type { Distance } from '../losses/distance.js';
import type { ClassSummary } from './class-summary.js';
import type { InsertionStart } from './deletion-insertion.js';
import type { ClassSpecificity } from './class-specificity.js';
import type { WrongReason } from './wrong-reason.js';

/** One image of the figure data: plain numbers, row-major H×W in [0,1]. */
export interface FigureSample {
  /** Index of the image in the official test split. */
  index: number;
  label: number;
  pred: number;
  /** The image as the eye sees it: pixels / 255 (decoy patch included), H·W numbers. */
  image: number[];
  /** Colour images only: the R, G and B planes (3·H·W numbers in [0,1]), for colour figures. */
  rgb?: number[];
  /** The evaluation CAM (explaining `camTarget`), H·W numbers. */
  cam: number[];
}

/** What the report draws, as plain arrays (each map H·W numbers, rounded to 1e-4). */
export interface Figures {
  classNames: string[];
  /** Height and width of every map below (images, CAMs, prototypes): H·W numbers each, row-major. */
  height: number;
  width: number;
  /** Per class: the mean training image scaled to [0,1] by its max (the reconstruction reference). */
  meanImages: number[][];
  /** Per class: the mean evaluation CAM of the class's test images ("prototype CAM"); null for an absent class. */
  meanCams: (number[] | null)[];
  /** The checkpoint's prototype bank, per class (null where uninitialised), or null without a bank. */
  bankPrototypes: (number[] | null)[] | null;
  /** A few correctly classified test images per class, in test order. */
  samples: FigureSample[];
  /** Misclassified test images, in test order, listed apart. */
  misclassified: FigureSample[];
}

/** Spurious-feature results on DecoyMNIST / DecoyFMNIST (docs/method.md §7). */
export interface DecoyEvaluation {
  /** Mean decoy energy: CAM mass inside the 4×4 patch / total mass, over the test images. */
  energy: number;
  /** Mean decoy energy per class (by label). */
  energyPerClass: (number | null)[];
  /** The energy of a uniform map (patch area / image area, 16/784): the no-preference reference. */
  uniformEnergy: number;
  /** Accuracy on the test split, whose patches encode a random class (the same number as `accuracy`). */
  accuracy: number;
  /**
   * Fraction of predictions equal to the class the test patch encodes: about 0.1 for a model that ignores the patch
   * (the random y' matches the true class a tenth of the time), towards 1 for one that reads it.
   */
  decoyLabelRate: number;
  /** Accuracy on the same test images without their patch. */
  cleanAccuracy: number;
  /** cleanAccuracy − accuracy: how much the randomised patch costs; about 0 for a model that ignores it. */
  accuracyGap: number;
  /** The XIL typology's wrong-reason score of the evaluation Grad-CAMs against the patch masks (0–1, lower is better). */
  wrongReasonGradCam: WrongReason;
  /** The same score of the RRR input gradients (Ross et al. 2017), an explainer independent of the CAM layer. */
  wrongReasonInputGradient: WrongReason;
}

/**
 * The shortcut measures of a dataset with a known bias attribute (DecoyMNIST, Biased-MNIST, ColorMNIST), on its
 * de-biased test split (docs/method.md §7): the field's metrics — bias-aligned vs bias-conflicting accuracy,
 * worst-group accuracy over (class × attribute) — the accuracy on the bias-aligned version of the same images, and
 * where the bias is a region, the share of CAM mass on it.
 */
export interface BiasEvaluation {
  /** Where the bias sits: 'patch', 'background' or 'object'. */
  region: string;
  /** Accuracy on the de-biased test split (the same number as `accuracy`). */
  accuracy: number;
  /** Accuracy on the test split's bias-aligned samples (NaN where none). */
  alignedAccuracy: number;
  /** Accuracy on its bias-conflicting samples. */
  conflictingAccuracy: number;
  /** The lowest accuracy of any (class, attribute) group with samples. */
  worstGroupAccuracy: number;
  worstGroup: { label: number; attribute: number; n: number };
  /** Non-empty groups. */
  groups: number;
  /** Accuracy on the same images with every bias set to the sample's class (Biased-MNIST's ρ = 1 "biased" test). */
  biasedAccuracy: number;
  /** Mean share of CAM mass on the bias region (Σ cam·mask / Σ cam); null when the bias sits on the object. */
  biasMass: number | null;
  /** The same share for a uniform map: the region's mean area share; null with biasMass. */
  uniformBiasMass: number | null;
}

/**
 * Faithfulness of the evaluation CAMs on a subset of the test images (docs/method.md §7). With n = 0 (skipped) the three
 * means are NaN, written as null in evaluation.json.
 */
export interface FaithfulnessEvaluation {
  /** Images measured: evenly spaced over the evaluated test set. */
  n: number;
  /** K, the number of deletion/insertion steps. */
  steps: number;
  /** Deletion replaces pixels with black; insertion starts from this image. */
  insertionStart: InsertionStart;
  /** Mean deletion AUC (RISE), lower is better. */
  deletionAuc: number;
  /** Mean insertion AUC (RISE), higher is better. */
  insertionAuc: number;
  /** Average Drop (Chattopadhay 2018) as a fraction, lower is better. */
  averageDrop: number;
}

/** Everything `evaluateModel` measures, JSON-able (the contents of evaluation.json). */
export interface Evaluation {
  dataset: string;
  model: string;
  /** The checkpoint file evaluated, or null for a model passed in memory. */
  checkpoint: string | null;
  /** Test images evaluated. */
  n: number;
  /** The class every evaluation CAM explains. */
  camTarget: CamTarget;
  accuracy: number;
  /** Per class (by label); null for a class absent from the evaluated set. */
  perClassAccuracy: (number | null)[];
  /** Mean d(cam_i, mean CAM of its class) per distance; lower is more coherent. */
  coherence: Record<Distance, ClassSummary>;
  /** Mean d(cam_i, max-scaled mean training image of class y_i) per distance. */
  reconstruction: Record<Distance, ClassSummary>;
  /**
   * Shape of the evaluation CAMs, so that a low coherence distance can be told from a collapsed map: coverage is the
   * mean map value (1 = uniform, 0 = empty), contrast the spatial standard deviation (0 = flat).
   */
  maps: { coverage: ClassSummary; contrast: ClassSummary };
  /**
   * Per distance, within-class (the coherence distance) over between-class (class mean to class mean) map distance:
   * low when maps are coherent because they are class-specific, near 1 when all classes' maps look alike.
   */
  specificity: Record<Distance, ClassSpecificity>;
  /** Null for datasets without decoys. */
  decoy: DecoyEvaluation | null;
  /** Null for datasets without a known bias attribute; absent in evaluations written before it existed. */
  bias?: BiasEvaluation | null;
  faithfulness: FaithfulnessEvaluation;
  figures: Figures;
}

/** The top-level keys of evaluation.json, in order. */
export const EVALUATION_KEYS = [
  'dataset', 'model', 'checkpoint', 'n', 'camTarget', 'accuracy', 'perClassAccuracy', 'coherence', 'reconstruction',
  'maps', 'specificity', 'decoy', 'bias', 'faithfulness', 'figures',
] as const;
