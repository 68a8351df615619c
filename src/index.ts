/**
 * batchcam: explanation-guided training of image classifiers with Batch-CAM (arXiv 2510.00664) on libtorch.
 * The method as implemented is docs/method.md; the floors below, bottom up, are docs/architecture.md:
 * torch · config → nn → models · data → cam · losses → train · eval → experiment → report → server.
 * Large floors are namespaces (`torch.rand`, `nn.AdamW`, `data.loadDataset`, `evaluation.coherence`,
 * `report.writeReport`); the method itself — models, Batch-CAM, losses, training, experiments — is exported flat.
 */

/** Tensors over libtorch: creation, ops, autograd (`grad`, `backward`, `noGrad`), memory (`scope`, `dispose`). */
export * as torch from './torch/index.js';
/** glibc malloc tuned for training (freed activation buffers kept for reuse); programs call it once at start. */
export { tuneAllocator } from './torch/allocator.js';

/** Modules, layers, initialisers, optimisers (SGD, AdamW), the cosine schedule, safetensors. */
export * as nn from './nn/index.js';

/** Option tables: the machinery behind TRAIN_OPTIONS and EVALUATE_OPTIONS (validation, defaults, help). */
export {
  OptionError, coerceOption, describeKind, resolveOptions, checkOptions, optionDefaults,
  type OptionSpec, type OptionKind, type OptionValue, type OptionValues,
} from './config/option-spec.js';

/** The classifiers (SimpleCNN, ResNet18, ConvNeXt-V2), each splittable at its CAM layers (docs/method.md §6). */
export * from './models/index.js';

/** MNIST / Fashion-MNIST and their decoy variants: loading, subsets, batches. */
export * as data from './data/index.js';

/** Batch-CAM, Grad-CAM for a whole batch in one autograd call, and the per-sample oracle (docs/method.md §1). */
export * from './cam/index.js';

/** The regularisers: map distances, the prototype bank, the Prototype and Batch-CAM losses (docs/method.md §2–§4). */
export * from './losses/index.js';

/** Training: options, the objective of one step, the trainer, checkpoints and trained models (docs/method.md §5). */
export { resolveConfig, defaultConfig, TRAIN_OPTIONS, OPTIMIZERS, type TrainConfig } from './train/options.js';
export { objective, regularised } from './train/objective.js';
export type { Position } from './train/position.js';
export type { ObjectiveTerms } from './train/objective-terms.js';
export { train, type TrainOptions, type TrainResult } from './train/trainer.js';
export { evaluateAccuracy } from './train/test-pass.js';
export { loadConfigData, type EpochRecord } from './train/session.js';
export { readCheckpoint, restoreCheckpoint, CheckpointError } from './train/run/checkpoint.js';
export { loadTrainedModel, weightsFile, type LoadedModel } from './train/trained-model.js';
export { NonFiniteError } from './train/non-finite.js';
/** Data-parallel training on c10d (torch.distributed's TCPStore and Gloo process group; `torch.ProcessGroup`). */
export { DataParallel, distEnv, type DistEnv } from './train/data-parallel.js';
/** Errors a user can act on, each with the exit code `batchcam` uses for it. */
export * from './errors.js';
export { interruptSignal, withInterrupts } from './train/run/interrupt.js';

/** Evaluation: every metric as a function over tensors, `evaluateModel`, statistics and the aggregate (docs/method.md §7). */
export * as evaluation from './eval/index.js';

/** Evaluating a checkpoint, and experiment grids of models × datasets × settings × seeds with Welch's tests. */
export * from './experiment/index.js';

/** Reports: PNG and colour maps, explanations of images, SVG charts, the HTML report of a run or experiment. */
export * as report from './report/index.js';
/** `batchcam serve` as a library: `server.startServer({ dir })` starts the local run explorer (loopback, token-protected). */
export * as server from './server/index.js';
