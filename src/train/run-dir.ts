import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RunDirError } from '../errors.js';

/** The files of a run directory. */
export interface RunPaths {
  dir: string;
  config: string;
  metrics: string;
  /** Step-level means every `logEvery` steps (StepRecord per line). */
  steps: string;
  checkpoint: string;
  model: string;
  summary: string;
}

export function runPaths(dir: string): RunPaths {
  return {
    dir,
    config: join(dir, 'config.json'),
    metrics: join(dir, 'metrics.jsonl'),
    steps: join(dir, 'steps.jsonl'),
    checkpoint: join(dir, 'checkpoint.safetensors'),
    model: join(dir, 'model.safetensors'),
    summary: join(dir, 'summary.json'),
  };
}

/**
 * Makes the run directory ready. An existing non-empty one is never silently reused: it needs `resume`
 * (continue from its checkpoint) or `overwrite` (start afresh, removing the old run's files).
 */
export function prepareRunDir(dir: string, o: { resume?: boolean; overwrite?: boolean }): RunPaths {
  const paths = runPaths(dir);
  const nonEmpty = existsSync(dir) && readdirSync(dir).length > 0;
  if (o.resume) {
    if (!existsSync(paths.checkpoint)) {
      throw new RunDirError(`--resume: ${paths.checkpoint} does not exist; start the run without --resume`);
    }
  } else if (nonEmpty) {
    if (!o.overwrite) {
      throw new RunDirError(`output directory ${dir} already holds a run; pass --resume to continue it or --overwrite to replace it`);
    }
    for (const f of Object.values(paths)) if (f !== dir) rmSync(f, { force: true });
  }
  mkdirSync(dir, { recursive: true });
  return paths;
}
