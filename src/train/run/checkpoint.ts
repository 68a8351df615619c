import { getRngState, setRngState, type Tensor } from '../../torch/index.js';
import { loadSafetensors, saveSafetensors } from '../../nn/safetensors.js';
import type { Optimizer } from '../../nn/optimizer.js';
import type { Classifier } from '../../models/classifier.js';
import type { PrototypeBank } from '../../losses/prototype-bank.js';
import type { LoadedDataset } from '../../data/dataset.js';
import { CheckpointError } from '../../errors.js';
import { resolveConfig, type TrainConfig } from '../options.js';
import { sumsFromJson } from '../running-sums.js';
import type { Position } from '../position.js';

const FORMAT = 'batchcam-checkpoint-1';

/**
 * What a checkpoint records of its data (metadata `data`), so that evaluate / explain / report need nothing else:
 * the dataset spec, the image shape C×H×W the model takes, the class names and the input normalisation.
 */
export interface DataRecord {
  dataset: string;
  imageShape: [number, number, number];
  classNames: string[];
  /** Per-channel mean/std the inputs were standardised with (older checkpoints: one number each), or null for pixels in [0, 1]. */
  normalisation: { mean: number[] | number; std: number[] | number } | null;
}

/** The data record of a loaded dataset. */
export function dataRecord(data: Pick<LoadedDataset, 'info' | 'normalisation'>): DataRecord {
  const [c, h, w] = data.info.imageShape;
  return {
    dataset: data.info.name, imageShape: [c, h, w], classNames: [...data.info.classNames],
    normalisation: data.normalisation ? { mean: [...data.normalisation.mean], std: [...data.normalisation.std] } : null,
  };
}

/** Parses metadata `data` (null when absent: checkpoints written before it existed are of the built-in datasets). */
export function readDataRecord(json: string | undefined): DataRecord | null {
  if (json === undefined) return null;
  const d = JSON.parse(json) as DataRecord;
  const shapeOk = Array.isArray(d?.imageShape) && d.imageShape.length === 3 && d.imageShape.every((v) => Number.isInteger(v) && v > 0);
  if (!shapeOk || !Array.isArray(d.classNames) || d.classNames.some((n) => typeof n !== 'string') || typeof d.dataset !== 'string') {
    throw new Error(`data record ${json.slice(0, 200)} lacks dataset, imageShape [C, H, W] or classNames`);
  }
  return d;
}

/** Thrown for a checkpoint that is not ours or does not fit (defined in src/errors.ts; exit 4). */
export { CheckpointError };

/**
 * Writes everything a bit-identical resume needs into one safetensors file (atomically): weights under
 * `model.*` (plain PyTorch keys after the prefix), optimiser state `optim.*`, prototype bank `bank.*`,
 * libtorch's RNG `rng.torch`; config, position and metrics history in `__metadata__`.
 */
export function saveCheckpoint(path: string, parts: {
  model: Classifier; optimizer: Optimizer; bank: PrototypeBank | null; config: TrainConfig; position: Position;
  history: unknown[]; data?: DataRecord;
}): void {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of parts.model.stateDict()) tensors.set(`model.${k}`, t);
  const optState = parts.optimizer.stateDict();
  for (const [k, t] of optState.tensors) tensors.set(`optim.${k}`, t);
  if (parts.bank) for (const [k, t] of parts.bank.stateDict()) tensors.set(`bank.${k}`, t);
  const rng = getRngState();
  tensors.set('rng.torch', rng);
  try {
    saveSafetensors(path, tensors, {
      format: FORMAT,
      model: parts.config.model,
      config: JSON.stringify(parts.config),
      position: JSON.stringify(parts.position),
      optimizer: JSON.stringify(optState.scalars),
      history: JSON.stringify(parts.history),
      ...(parts.data ? { data: JSON.stringify(parts.data) } : {}),
    });
  } finally {
    rng.dispose();
  }
}

/** A checkpoint read back, checked to be ours. */
export interface LoadedCheckpoint {
  config: TrainConfig;
  position: Position;
  history: unknown[];
  tensors: Map<string, Tensor>;
  optimizerScalars: Record<string, number>;
  /** The data the run trained on; null in checkpoints older than the record. */
  data: DataRecord | null;
}

/**
 * The position in checkpoint metadata. Older checkpoints keep term sums flat (ce, proto, protoSteps…), and those
 * written before step logging have no open window (it starts empty).
 */
function readPosition(json: string | undefined): Position {
  const p = JSON.parse(json ?? 'null') as Record<string, unknown>;
  for (const k of ['epoch', 'batch', 'step']) if (!Number.isInteger(p?.[k])) throw new Error(`position.${k} is missing`);
  return { epoch: p.epoch as number, batch: p.batch as number, step: p.step as number, sums: sumsFromJson(p.sums), window: sumsFromJson(p.window) };
}

export function readCheckpoint(path: string): LoadedCheckpoint {
  const { tensors, metadata } = loadSafetensors(path);
  if (metadata.format !== FORMAT) {
    for (const t of tensors.values()) t.dispose();
    throw new CheckpointError(`${path} is not a batchcam checkpoint (metadata format is ${JSON.stringify(metadata.format ?? null)}, expected "${FORMAT}"); ` +
      'pass a checkpoint.safetensors written by `batchcam train`');
  }
  try {
    return {
      config: resolveConfig(JSON.parse(metadata.config ?? '{}') as Record<string, unknown>),
      position: readPosition(metadata.position),
      history: JSON.parse(metadata.history ?? '[]') as unknown[],
      optimizerScalars: JSON.parse(metadata.optimizer ?? '{}') as Record<string, number>,
      data: readDataRecord(metadata.data),
      tensors,
    };
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw new CheckpointError(`${path}: malformed checkpoint metadata (${(e as Error).message})`);
  }
}

/** Tensors under `prefix.` with the prefix stripped. */
export function section(tensors: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of tensors) if (k.startsWith(`${prefix}.`)) out.set(k.slice(prefix.length + 1), t);
  return out;
}

/** Restores model, optimiser, bank and RNG from a loaded checkpoint. */
export function restoreCheckpoint(ck: LoadedCheckpoint, parts: { model: Classifier; optimizer?: Optimizer; bank?: PrototypeBank | null }, path: string): void {
  try {
    parts.model.loadStateDict(section(ck.tensors, 'model'));
  } catch (e) {
    throw new CheckpointError(`${path} holds a '${ck.config.model}' checkpoint that does not fit this ${parts.model.constructor.name} (${parts.model.numClasses} classes): ${(e as Error).message}`);
  }
  if (parts.optimizer) parts.optimizer.loadStateDict({ tensors: section(ck.tensors, 'optim'), scalars: ck.optimizerScalars });
  if (parts.bank) parts.bank.loadStateDict(section(ck.tensors, 'bank'));
  const rng = ck.tensors.get('rng.torch');
  if (rng) setRngState(rng);
}
