import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../torch/index.js';
import type { Classifier } from '../models/classifier.js';
import { createModel } from '../models/registry.js';
import { datasetInfo, isDatasetName } from '../data/datasets.js';
import { loadSafetensors } from '../nn/safetensors.js';
import { CheckpointError, readCheckpoint, section } from './checkpoint.js';
import { resolveConfig, type TrainConfig } from './options.js';

/** A trained classifier ready for inference, with the configuration it was trained under. */
export interface LoadedModel {
  model: Classifier;
  config: TrainConfig;
  classNames: string[];
  /** The weights file actually read. */
  path: string;
  /** The prototype bank a training checkpoint carries (caller disposes), else null. */
  bank: { prototypes: Tensor; initialized: Tensor | undefined } | null;
}

/**
 * The weights file behind `path`: a checkpoint.safetensors or model.safetensors as given, or for a run
 * directory its checkpoint (which, after training, holds the same final weights as model.safetensors).
 */
export function weightsFile(path: string): string {
  if (!existsSync(path)) throw new CheckpointError(`${path} does not exist; pass a run directory or its checkpoint.safetensors`);
  if (!statSync(path).isDirectory()) return path;
  for (const f of ['checkpoint.safetensors', 'model.safetensors']) if (existsSync(join(path, f))) return join(path, f);
  throw new CheckpointError(`${path} has neither checkpoint.safetensors nor model.safetensors; pass a run directory written by \`batchcam train\``);
}

/**
 * Loads a model from a batchcam checkpoint (config in its metadata) or from the model.safetensors a run ends with
 * (plain state dict, config in metadata), in eval mode. The RNG state a checkpoint carries is not restored:
 * explanations do not draw random numbers, and loading a model should not change the caller's seed.
 */
export function loadTrainedModel(path: string): LoadedModel {
  const file = weightsFile(path);
  const { tensors, metadata } = loadSafetensors(file);
  let config: TrainConfig;
  let weights: Map<string, Tensor>;
  let bank: Map<string, Tensor> = new Map();
  try {
    if (metadata.format === 'pytorch-state-dict' && metadata.config) {
      config = resolveConfig(JSON.parse(metadata.config) as Record<string, unknown>);
      weights = tensors;
    } else {
      for (const t of tensors.values()) t.dispose();
      // readCheckpoint checks the format and explains a foreign file.
      const ck = readCheckpoint(file);
      config = ck.config;
      bank = section(ck.tensors, 'bank');
      for (const [k, t] of ck.tensors) if (!k.startsWith('model.') && !k.startsWith('bank.')) t.dispose();
      weights = section(ck.tensors, 'model');
    }
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    for (const t of tensors.values()) t.dispose();
    throw new CheckpointError(`${file}: malformed metadata (${(e as Error).message})`);
  }
  const classNames = isDatasetName(config.dataset) ? [...datasetInfo(config.dataset).classNames] : [];
  const model = createModel(config.model, classNames.length || 10, { dropPath: config.dropPath });
  try {
    model.loadStateDict(weights);
  } catch (e) {
    for (const t of bank.values()) t.dispose();
    model.dispose();
    throw new CheckpointError(`${file} does not fit model '${config.model}': ${(e as Error).message}`);
  } finally {
    for (const t of weights.values()) t.dispose();
  }
  model.eval();
  const prototypes = bank.get('prototypes');
  return {
    model, config, path: file,
    classNames: classNames.length ? classNames : Array.from({ length: 10 }, (_, i) => String(i)),
    bank: prototypes ? { prototypes, initialized: bank.get('initialized') } : null,
  };
}
