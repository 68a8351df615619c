import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_FILE, processAlive } from '../train/run/run-lock.js';

/** What a run directory says about its trainer: training now, done, given up, or stopped part-way (resumable). */
export type RunStatus = 'running' | 'finished' | 'failed' | 'stopped';

/**
 * The status of the run in `dir`, from the files the trainer leaves: a lock held by a live process is a running
 * trainer; summary.json a finished run; failed.json (written by `experiment` for a diverged run) a failed one;
 * anything else stopped (killed or interrupted; `--resume` continues it).
 */
export function runStatus(dir: string): RunStatus {
  try {
    const pid = Number(readFileSync(join(dir, LOCK_FILE), 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) return 'running';
  } catch {
    // no lock: nobody trains here
  }
  if (existsSync(join(dir, 'summary.json'))) return 'finished';
  if (existsSync(join(dir, 'failed.json'))) return 'failed';
  return 'stopped';
}
