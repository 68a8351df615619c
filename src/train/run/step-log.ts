import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { termMeans, type EpochSums } from '../running-sums.js';

/**
 * One line of steps.jsonl: the means over the `logEvery` steps that end at `step` (metrics.jsonl extends it per
 * epoch). The loss fields are the objective's LOGGED_TERMS, in that order.
 */
export interface StepRecord {
  /** 1-based epoch of the window's last step. */
  epoch: number;
  /** Optimiser steps taken when the line was written. */
  step: number;
  /** Learning rate of the window's last step. */
  lr: number;
  ce: number;
  /** Null where the regulariser was off for the whole window. */
  proto: number | null;
  batch: number | null;
  /** The anti-collapse terms (docs/method.md §5.1); null where off. */
  protoContrast: number | null;
  batchContrast: number | null;
  background: number | null;
  /** GAIN's attention-mining term; null where off. */
  mining: number | null;
  loss: number;
  trainAccuracy: number;
  imagesPerSecond: number;
}

/** The window's means as a steps.jsonl record. */
export function stepRecord(w: EpochSums, epoch: number, step: number, lr: number): StepRecord {
  return {
    epoch, step, lr, ...termMeans(w), trainAccuracy: w.correct / w.n, imagesPerSecond: w.n / w.seconds,
  } as StepRecord;
}

/** Appends one record. A kill mid-append leaves at most a torn last line, which `truncateStepLog` drops on resume. */
export function appendStepRecord(path: string, r: StepRecord): void {
  appendFileSync(path, JSON.stringify(r) + '\n');
}

/**
 * Keeps the records up to `step` (the resumed checkpoint's position) and drops the rest, so a resumed run writes
 * the same steps.jsonl as an uninterrupted one: lines logged after the checkpoint are logged again.
 */
export function truncateStepLog(path: string, step: number): void {
  if (!existsSync(path)) {
    writeFileAtomic(path, Buffer.alloc(0));
    return;
  }
  const kept = readFileSync(path, 'utf8').split('\n').filter((line) => {
    try {
      const r = JSON.parse(line) as Partial<StepRecord>;
      return typeof r.step === 'number' && r.step <= step;
    } catch {
      return false; // blank or torn line
    }
  });
  writeFileAtomic(path, Buffer.from(kept.map((l) => l + '\n').join('')));
}
