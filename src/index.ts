/**
 * batchcam: explanation-guided training of image classifiers with Batch-CAM (arXiv 2510.00664) on libtorch.
 * Floors, bottom up: torch (tensors, autograd) → nn (modules, optimisers, safetensors) → models · data →
 * cam · losses → train · eval.
 */
export * as torch from './torch/index.js';
export * from './models/index.js';
export * from './cam/index.js';
export * as data from './data/index.js';
export { train, evaluateAccuracy, loadConfigData, type TrainOptions, type TrainResult, type EpochRecord } from './train/trainer.js';
export { resolveConfig, defaultConfig, TRAIN_OPTIONS, OptionError, type TrainConfig, type DistanceName } from './train/options.js';
export { readCheckpoint, restoreCheckpoint, CheckpointError } from './train/checkpoint.js';
export { NonFiniteError } from './train/non-finite.js';
/** Errors a user can act on, each with the exit code `batchcam` uses for it. */
export * from './errors.js';
export { interruptSignal, withInterrupts } from './train/interrupt.js';
export * as evaluation from './eval/index.js';
