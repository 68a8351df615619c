import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../torch/index.js';
import type { Classifier } from '../models/classifier.js';
import { createModel } from '../models/registry.js';
import { datasetInfo, isDatasetName } from '../data/builtin/datasets.js';
import { loadSafetensors } from '../nn/safetensors.js';
import { normalisationFromRecord, type Normalisation } from '../data/preprocess/normalisation.js';
import { CheckpointError, readCheckpoint, readDataRecord, section, type DataRecord } from './run/checkpoint.js';
import { resolveConfig, type TrainConfig } from './options.js';

/** A trained classifier ready for inference, with the configuration it was trained under. */
export interface LoadedModel {
  model: Classifier;
  config: TrainConfig;
  classNames: string[];
  /** C×H×W of the images the model takes. */
  imageShape: [number, number, number];
  /**
   * The mean/std the training inputs were standardised with (null: pixels in [0, 1], or a checkpoint older than the
   * data record, whose normalisation must then be recomputed from the dataset when the config standardises with the dataset's statistics).
   */
  normalisation: Normalisation | null;
  /** The weights file actually read. */
  path: string;
  /** The prototype bank a training checkpoint carries (caller disposes), else null. */
  bank: { prototypes: Tensor; initialised: Tensor | undefined } | null;
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
  let data: DataRecord | null;
  try {
    if (metadata.format === 'pytorch-state-dict' && metadata.config) {
      config = resolveConfig(JSON.parse(metadata.config) as Record<string, unknown>);
      data = readDataRecord(metadata.data);
      weights = tensors;
    } else {
      for (const t of tensors.values()) t.dispose();
      // readCheckpoint checks the format and explains a foreign file.
      const ck = readCheckpoint(file);
      config = ck.config;
      data = ck.data;
      bank = section(ck.tensors, 'bank');
      for (const [k, t] of ck.tensors) if (!k.startsWith('model.') && !k.startsWith('bank.')) t.dispose();
      weights = section(ck.tensors, 'model');
    }
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    for (const t of tensors.values()) t.dispose();
    throw new CheckpointError(`${file}: malformed metadata (${(e as Error).message})`);
  }
  const builtin = isDatasetName(config.dataset) ? datasetInfo(config.dataset) : null;
  if (!data && !builtin) {
    for (const t of [...weights.values(), ...bank.values()]) t.dispose();
    throw new CheckpointError(`${file} trained on ${config.dataset} but records no image shape or class names; retrain it with this batchcam`);
  }
  const classNames = data?.classNames ?? [...builtin!.classNames];
  const imageShape = data?.imageShape ?? ([...builtin!.imageShape] as [number, number, number]);
  const model = createModel(config.model, classNames.length, { dropPath: config.dropPath, inputShape: imageShape });
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
    model, config, path: file, classNames, imageShape,
    normalisation: normalisationFromRecord(data?.normalisation),
    bank: prototypes ? { prototypes, initialised: bank.get('initialized') } : null,
  };
}
