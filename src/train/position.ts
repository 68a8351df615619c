import { emptySums, type EpochSums } from './running-sums.js';

/** Where a run stands: the next step to run, and the epoch's sums so far (so a resumed epoch reports the same means). */
export interface Position {
  epoch: number;
  /** Batch index within `epoch` of the next step. */
  batch: number;
  /** Optimiser steps taken so far. */
  step: number;
  sums: EpochSums;
  /** Sums since the last steps.jsonl line. */
  window: EpochSums;
}

/** The position of a run that has not started. */
export function startPosition(): Position {
  return { epoch: 0, batch: 0, step: 0, sums: emptySums(), window: emptySums() };
}
