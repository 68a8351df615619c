/**
 * Evaluation (docs/method.md §7): metrics as functions over tensors (coherence, reconstruction, map shape, decoy energy,
 * deletion/insertion AUC, Average Drop), statistics over seeds (mean ± std, Welch's t), `evaluateModel` producing
 * evaluation.json, and the aggregate over seeds. (Evaluating a checkpoint and running grids: src/experiment/.)
 */
export { meanStd, welchTTest, studentTTwoSided, studentTCdf, regularizedIncompleteBeta, logGamma, type MeanStd, type TTest } from './stats.js';
export { classSums, classMeans, meansFromSums, scaleByMax, type ClassSums } from './class-means.js';
export { summariseByClass, type ClassSummary } from './class-summary.js';
export { distanceToClassReference, DISTANCE_CHUNK } from './class-distance.js';
export { coherence, coherenceDistances } from './coherence.js';
export { reconstruction, reconstructionDistances } from './reconstruction.js';
export { decoyEnergy } from './decoy-energy.js';
export { mapShape, type MapShape } from './map-shape.js';
export { classProbability } from './class-probability.js';
export {
  deletionInsertion, saliencyRanks, trapezoidAuc, blurImages, INSERTION_STARTS,
  type InsertionStart, type DeletionInsertionOptions, type DeletionInsertionResult,
} from './deletion-insertion.js';
export { averageDrop } from './average-drop.js';
export { mapRows, pickSamples, figureSamples, round4 } from './figures.js';
export {
  EVALUATION_KEYS, type Evaluation, type Figures, type FigureSample, type DecoyEvaluation, type FaithfulnessEvaluation,
} from './evaluation.js';
export { EVALUATE_OPTIONS, EVALUATE_DEFAULTS, type EvaluateSettings } from './evaluate-options.js';
export { evaluateModel, type EvaluateOptions } from './evaluate-model.js';
