import { optionDefaults, type OptionSpec, type OptionValues } from '../config/option-spec.js';
import { CAM_TARGETS } from '../cam/options.js';
import { INSERTION_STARTS } from './deletion-insertion.js';

/**
 * The settings of an evaluation: the flags of `batchcam evaluate` and the keys of an experiment grid's `evaluate`
 * block (docs/method.md §7). A new setting is one new row.
 */
export const EVALUATE_OPTIONS = [
  { key: 'testLimit', flag: 'test-limit', kind: 'int', def: null, min: 10, nullable: true, help: 'class-stratified subset of the test split (default: all of it)' },
  { key: 'faithfulnessN', flag: 'faithfulness-n', kind: 'int', def: 200, min: 0, help: 'test images (evenly spaced) for deletion/insertion AUC and average drop; 0 skips them' },
  { key: 'steps', flag: 'steps', kind: 'int', def: 28, min: 1, help: 'deletion/insertion steps K (784/K pixels each on 28×28)' },
  { key: 'insertionStart', flag: 'insertion-start', kind: INSERTION_STARTS, def: 'blur', help: 'insertion starts from a blurred image (RISE: σ 5, 11×11) or black' },
  { key: 'camTarget', flag: 'cam-target', kind: CAM_TARGETS, def: 'pred', help: 'class each CAM explains' },
  { key: 'device', flag: 'device', kind: 'string', def: null, nullable: true, help: 'cpu or cuda[:N]: where the model, batches and metrics run (CUDA needs a CUDA libtorch via LIBTORCH); default cpu, in a grid the device its runs trained on' },
  { key: 'samplesPerClass', flag: 'samples-per-class', kind: 'int', def: 3, min: 0, help: 'correctly classified figure samples per class' },
] as const satisfies readonly OptionSpec[];

/** One value per row of EVALUATE_OPTIONS. */
export type EvaluateSettings = OptionValues<typeof EVALUATE_OPTIONS>;

/** The defaults of EVALUATE_OPTIONS. */
export const EVALUATE_DEFAULTS: Readonly<EvaluateSettings> = Object.freeze(optionDefaults(EVALUATE_OPTIONS));
