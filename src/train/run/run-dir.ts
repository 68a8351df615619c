import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RunDirError } from '../../errors.js';
import { TEMP_FILE_PATTERN } from '../../io/atomic-file.js';
import { resolveConfig, type TrainConfig } from '../options.js';
import { LOCK_FILE, processAlive } from './run-lock.js';

/** The files of a run directory. */
export interface RunPaths {
  dir: string;
  config: string;
  metrics: string;
  /** Step-level means every `logEvery` steps (StepRecord per line). */
  steps: string;
  checkpoint: string;
  model: string;
  /** The best epoch's weights by the validation metric (`--val-fraction`), in model.safetensors' format. */
  best: string;
  summary: string;
  /** The CAM timeline: its probe set (probes.json) and records (probes.bin), see ./probe-log.ts. */
  probeIndex: string;
  probeRecords: string;
}

export function runPaths(dir: string): RunPaths {
  return {
    dir,
    config: join(dir, 'config.json'),
    metrics: join(dir, 'metrics.jsonl'),
    steps: join(dir, 'steps.jsonl'),
    checkpoint: join(dir, 'checkpoint.safetensors'),
    model: join(dir, 'model.safetensors'),
    best: join(dir, 'best.safetensors'),
    summary: join(dir, 'summary.json'),
    probeIndex: join(dir, 'probes.json'),
    probeRecords: join(dir, 'probes.bin'),
  };
}

/** The resolved config.json of the run in `dir`, or null when there is none or it does not parse. */
export function readRunConfig(dir: string): TrainConfig | null {
  try {
    return resolveConfig(JSON.parse(readFileSync(runPaths(dir).config, 'utf8')) as Record<string, unknown>);
  } catch {
    return null;
  }
}

/**
 * What `--overwrite` replaces: the files `train` writes, and those later commands derive from them
 * (evaluate, report, explain, experiment), which would describe the old run. Anything else in the directory stays.
 */
export const RUN_ENTRIES = [
  'config.json', 'metrics.jsonl', 'steps.jsonl', 'checkpoint.safetensors', 'model.safetensors', 'best.safetensors', 'summary.json',
  'probes.json', 'probes.bin', 'evaluation.json', 'report.html', 'explain', 'timing.json', 'failed.json',
] as const;

/**
 * Where `--overwrite` keeps the old run until the new one has written its first checkpoint. Two names make every
 * moment of the move recoverable: files in transit (out of the directory, or back into it) are in STAGING, and the
 * directory then holds no file of the new run; a complete backup is in BACKUP, and the directory may hold new files.
 */
const BACKUP = '.batchcam-previous-run';
const STAGING = '.batchcam-previous-run.moving';

function present(dir: string): string[] {
  return RUN_ENTRIES.filter((f) => existsSync(join(dir, f)));
}

/**
 * Checks, changing nothing, that the directory can be used: an existing non-empty one is never silently reused,
 * it needs `resume` (continue from its checkpoint) or `overwrite` (start afresh, replacing the old run).
 */
export function checkRunDir(dir: string, o: { resume?: boolean; overwrite?: boolean }): RunPaths {
  const paths = runPaths(dir);
  if (o.resume) {
    if (!existsSync(paths.checkpoint)) {
      throw new RunDirError(`--resume: ${paths.checkpoint} does not exist; start the run without --resume`);
    }
  } else if (existsSync(dir) && readdirSync(dir).some((f) => f !== LOCK_FILE) && !o.overwrite) {
    throw new RunDirError(`output directory ${dir} already holds a run; pass --resume to continue it or --overwrite to replace it`);
  }
  return paths;
}

/** Moves every entry of `from` into `to` that `to` does not have; then removes `from` if empty. */
function moveBack(from: string, to: string): void {
  for (const f of readdirSync(from)) if (!existsSync(join(to, f))) renameSync(join(from, f), join(to, f));
  try { rmdirSync(from); } catch { /* a name was taken meanwhile: keep the rest where it is */ }
}

/** Removes the new run's files from the directory (its temp files: the writer removes its own on failure). */
function removeNewFiles(dir: string): void {
  for (const f of present(dir)) rmSync(join(dir, f), { recursive: true, force: true });
}

/** The in-flight replacement of an old run by a new one (see {@link replaceRun}). */
export interface RunReplacement {
  /** The new run has its first checkpoint: delete the old run's files. */
  commit(): void;
  /** The new run failed before its first checkpoint: delete its files and put the old run back as it was. */
  rollback(): void;
}

/**
 * Starts a fresh run in `dir` (held under its lock): the old run's files, if any, move aside into a hidden
 * subdirectory. Nothing is deleted until `commit()`; `rollback()` leaves the directory byte-for-byte as before.
 */
export function replaceRun(dir: string): RunReplacement {
  const old = present(dir);
  if (old.length > 0) {
    const staging = join(dir, STAGING);
    mkdirSync(staging);
    try {
      for (const f of old) renameSync(join(dir, f), join(staging, f));
    } catch (e) {
      moveBack(staging, dir);
      throw new RunDirError(`cannot move the old run in ${dir} aside (${(e as Error).message}); it was left in place`, { cause: e });
    }
    renameSync(staging, join(dir, BACKUP));
  }
  let done = false;
  return {
    commit(): void {
      if (done) return;
      done = true;
      rmSync(join(dir, BACKUP), { recursive: true, force: true });
    },
    rollback(): void {
      if (done) return;
      done = true;
      removeNewFiles(dir);
      if (old.length > 0) {
        renameSync(join(dir, BACKUP), join(dir, STAGING));
        moveBack(join(dir, STAGING), dir);
      }
    },
  };
}

/**
 * Finishes what a killed process left in `dir` (call with the lock held): an interrupted `--overwrite` is rolled
 * back (the new run never wrote a checkpoint) or committed (it did); temp files of dead writers are removed.
 */
export function recoverRunDir(dir: string): void {
  if (!existsSync(dir)) return;
  const staging = join(dir, STAGING);
  const backup = join(dir, BACKUP);
  if (existsSync(staging)) moveBack(staging, dir);
  if (existsSync(backup)) {
    if (existsSync(join(dir, 'checkpoint.safetensors'))) {
      rmSync(backup, { recursive: true, force: true });
    } else {
      removeNewFiles(dir);
      renameSync(backup, staging);
      moveBack(staging, dir);
    }
  }
  for (const f of readdirSync(dir)) {
    const m = TEMP_FILE_PATTERN.exec(f);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) rmSync(join(dir, f), { force: true });
  }
}
