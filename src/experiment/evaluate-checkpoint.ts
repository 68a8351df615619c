import { checkDevice, setNumThreads } from '../torch/index.js';
import { loadDataset } from '../data/load-dataset.js';
import type { LoadedDataset } from '../data/dataset.js';
import { loadTrainedModel } from '../train/trained-model.js';
import { inputOptions, type TrainConfig } from '../train/options.js';
import { evaluateModel, type EvaluateOptions } from '../eval/evaluate-model.js';
import type { Evaluation } from '../eval/evaluation.js';

/** Options of {@link evaluateCheckpoint}: those of `evaluateModel` plus where the test data comes from. */
export interface EvaluateCheckpointOptions extends Omit<EvaluateOptions, 'bank' | 'dataset' | 'model' | 'checkpoint'> {
  /** cpu or cuda[:N]: the model is moved there and evaluated there [cpu]. Checked before anything is read. */
  device?: string | null;
  /** Stratified subset of the test split; default null: the whole official test split. */
  testLimit?: number | null;
  /** Directory with the idx files (default: the run's --data-dir, else the usual search). */
  dataDir?: string | null;
  /** An already loaded dataset matching the run's config and `testLimit` (the experiment grid reuses one). */
  data?: LoadedDataset;
}

/** The dataset an evaluation of a run reads: the run's dataset, training subset and preprocessing, the chosen test subset. */
export function evaluationData(cfg: TrainConfig, o: { testLimit?: number | null; dataDir?: string | null } = {}): Promise<LoadedDataset> {
  return loadDataset(cfg.dataset, {
    dataDir: o.dataDir ?? cfg.dataDir ?? undefined,
    // The run's training subset: the reconstruction reference is the mean image of what the model learnt from.
    trainLimit: cfg.trainLimit ?? undefined,
    testLimit: o.testLimit ?? undefined,
    ...inputOptions(cfg),
  });
}

/**
 * Loads a training checkpoint (its metadata names model, dataset and CAM settings), evaluates it with
 * `evaluateModel` on the test split (CAM layer and normalisation as in training) and returns the evaluation with
 * the run's config, on `device` (the checkpoint is device-independent: loaded on the CPU, then moved). The
 * checkpoint's prototype bank, when it has one, goes to the figures. Global RNG state is left alone: evaluation
 * draws no random numbers.
 */
export async function evaluateCheckpoint(path: string, o: EvaluateCheckpointOptions = {}): Promise<{ evaluation: Evaluation; config: TrainConfig }> {
  const device = o.device ?? 'cpu';
  checkDevice(device);
  const { model, config: cfg, bank, path: file } = loadTrainedModel(path);
  try {
    setNumThreads(cfg.threads);
    if (device !== 'cpu') model.toDevice(device);
    const data = o.data ?? (await evaluationData(cfg, o));
    const { device: _device, ...rest } = o;
    const evaluation = evaluateModel(model, data, {
      ...rest, layer: o.layer ?? cfg.camLayer ?? undefined, norm: o.norm ?? cfg.camNorm,
      bank, dataset: cfg.dataset, model: cfg.model, checkpoint: file,
    });
    return { evaluation, config: cfg };
  } finally {
    model.dispose();
    bank?.prototypes.dispose();
    bank?.initialised?.dispose();
  }
}
