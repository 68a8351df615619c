import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOptions, OptionError } from '../config/option-spec.js';
import { EVALUATE_OPTIONS, type EvaluateSettings } from '../eval/evaluate-options.js';
import { resolveConfig, type TrainConfig } from '../train/options.js';
import { DEVICE_PATTERN } from '../torch/index.js';

/** One regularisation setting of a grid: a name (a directory name) and the training options it overrides. */
export interface GridSetting {
  name: string;
  [option: string]: unknown;
}

/** Evaluation settings of a grid: any of EVALUATE_OPTIONS (the flags of `batchcam evaluate`), defaults for the rest. */
export type GridEvaluate = Partial<EvaluateSettings>;

/** An experiment grid: every (model × dataset × setting × seed) is one training run plus its evaluation. */
export interface ExperimentGrid {
  name: string;
  /** Training options shared by every run. */
  base: Record<string, unknown>;
  models: string[];
  datasets: string[];
  /** The CE-only baseline should be among them, named 'ce' (both λ = 0), for the significance tests. */
  settings: GridSetting[];
  seeds: number[];
  evaluate: GridEvaluate;
}

/** One cell of the grid, with its resolved training config. */
export interface GridRun {
  model: string;
  dataset: string;
  setting: string;
  seed: number;
  /** Relative to the experiment directory: `<model>/<dataset>/<setting>/seed<k>`. */
  dir: string;
  config: TrainConfig;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const GRID_KEYS = ['name', 'base', 'models', 'datasets', 'settings', 'seeds', 'evaluate'];
// Set per run by the grid itself; a base or setting that names them would be silently overridden.
const GRID_OWNED = ['model', 'dataset', 'seed'];

function fail(msg: string): never {
  throw new OptionError(`experiment grid: ${msg}`);
}

function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s.length > 0)) {
    fail(`'${what}' must be a non-empty array of strings`);
  }
  if (new Set(v).size !== v.length) fail(`'${what}' has duplicates`);
  return v as string[];
}

/** Checks a parsed grid JSON and resolves every run's config, so a typo fails before hours of training. */
export function parseGrid(raw: unknown): { grid: ExperimentGrid; runs: GridRun[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('expected a JSON object');
  const g = raw as Record<string, unknown>;
  for (const k of Object.keys(g)) if (!GRID_KEYS.includes(k)) fail(`unknown key '${k}' (expected ${GRID_KEYS.join(', ')})`);
  if (typeof g.name !== 'string' || !SAFE_NAME.test(g.name)) fail(`'name' must be a directory-safe string, got ${JSON.stringify(g.name)}`);
  const base = (g.base ?? {}) as Record<string, unknown>;
  if (typeof base !== 'object' || Array.isArray(base)) fail("'base' must be an object of training options");
  for (const k of GRID_OWNED) if (k in base) fail(`'base' must not set '${k}': the grid's ${k === 'seed' ? 'seeds' : `${k}s`} list sets it`);
  const models = stringList(g.models, 'models');
  const datasets = stringList(g.datasets, 'datasets');
  if (!Array.isArray(g.settings) || g.settings.length === 0) fail("'settings' must be a non-empty array of {name, ...options}");
  const settings = g.settings as GridSetting[];
  for (const s of settings) {
    if (s === null || typeof s !== 'object' || typeof s.name !== 'string' || !SAFE_NAME.test(s.name)) {
      fail(`every setting needs a directory-safe 'name', got ${JSON.stringify(s)}`);
    }
    for (const k of GRID_OWNED) if (k in s) fail(`setting '${s.name}' must not set '${k}'`);
  }
  if (new Set(settings.map((s) => s.name)).size !== settings.length) fail('setting names must be unique');
  if (!Array.isArray(g.seeds) || g.seeds.length === 0 || !g.seeds.every((s) => Number.isInteger(s) && s >= 0)) {
    fail("'seeds' must be a non-empty array of non-negative integers");
  }
  const seeds = g.seeds as number[];
  if (new Set(seeds).size !== seeds.length) fail("'seeds' has duplicates");
  const rawEvaluate = g.evaluate ?? {};
  if (rawEvaluate === null || typeof rawEvaluate !== 'object' || Array.isArray(rawEvaluate)) fail("'evaluate' must be an object");
  let evaluate: GridEvaluate;
  try {
    // Only the keys given: grid.json keeps the grid as written, and evaluateCheckpoint fills in the defaults.
    evaluate = checkOptions(EVALUATE_OPTIONS, rawEvaluate as Record<string, unknown>, 'evaluate key');
  } catch (e) {
    fail(`'evaluate': ${(e as Error).message}`);
  }
  if (evaluate.device != null && !DEVICE_PATTERN.test(evaluate.device)) fail(`'evaluate': device '${evaluate.device}': expected cpu or cuda[:N]`);

  const grid: ExperimentGrid = { name: g.name, base, models, datasets, settings, seeds, evaluate };
  const runs: GridRun[] = [];
  for (const model of models) {
    for (const dataset of datasets) {
      for (const s of settings) {
        const { name: setting, ...overrides } = s;
        for (const seed of seeds) {
          let config: TrainConfig;
          try {
            config = resolveConfig({ ...base, ...overrides, model, dataset, seed });
          } catch (e) {
            fail(`run ${model}/${dataset}/${setting}/seed${seed}: ${(e as Error).message}`);
          }
          runs.push({ model, dataset, setting, seed, dir: join(model, dataset, setting, `seed${seed}`), config });
        }
      }
    }
  }
  return { grid, runs };
}

/** Reads and checks a grid file. */
export function readGrid(path: string): { grid: ExperimentGrid; runs: GridRun[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new OptionError(`--config ${path}: cannot read it as JSON (${(e as Error).message})`);
  }
  return parseGrid(raw);
}
