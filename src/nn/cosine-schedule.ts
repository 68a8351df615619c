import type { Optimizer } from './optimizer.js';

/** Options of `CosineSchedule`. */
export interface CosineScheduleOptions {
  /** Peak learning rate, reached at the end of warm-up. */
  baseLr: number;
  /** Updates of linear warm-up (0: start at baseLr). */
  warmupSteps: number;
  /** Updates in the whole run; the rate reaches minLr after this many. */
  totalSteps: number;
  /** Final learning rate (default 0). */
  minLr?: number;
}

/**
 * Linear warm-up then cosine decay. `step` counts the updates already done, so `lrAt(step)` is the rate of
 * update number step+1 (the first update uses `lrAt(0)`):
 *   step < W:  baseLr · (step + 1) / W        — warm-up starts at baseLr/W, never at 0, and ends at baseLr;
 *   step ≥ W:  minLr + (baseLr − minLr) · ½(1 + cos(π · min(1, (step − W) / (T − W))))
 * so `lrAt(T)` (after the last update) is exactly minLr, and later steps stay there. Equal to torch's
 * LambdaLR with lambda(step) = lrAt(step) / baseLr, stepped once after every optimiser step.
 */
export class CosineSchedule {
  readonly baseLr: number;
  readonly warmupSteps: number;
  readonly totalSteps: number;
  readonly minLr: number;

  constructor(o: CosineScheduleOptions) {
    this.baseLr = o.baseLr;
    this.warmupSteps = o.warmupSteps;
    this.totalSteps = o.totalSteps;
    this.minLr = o.minLr ?? 0;
    if (!Number.isFinite(this.baseLr) || this.baseLr < 0) throw new RangeError(`CosineSchedule: baseLr must be a finite number ≥ 0, got ${this.baseLr}`);
    if (!Number.isSafeInteger(this.warmupSteps) || this.warmupSteps < 0) {
      throw new RangeError(`CosineSchedule: warmupSteps must be an integer ≥ 0, got ${this.warmupSteps}`);
    }
    if (!Number.isSafeInteger(this.totalSteps) || this.totalSteps < this.warmupSteps) {
      throw new RangeError(`CosineSchedule: totalSteps must be an integer ≥ warmupSteps (${this.warmupSteps}), got ${this.totalSteps}`);
    }
    if (!Number.isFinite(this.minLr) || this.minLr < 0 || this.minLr > this.baseLr) {
      throw new RangeError(`CosineSchedule: minLr must be in [0, baseLr = ${this.baseLr}], got ${this.minLr}`);
    }
  }

  /** The learning rate of the update that follows `step` completed updates. */
  lrAt(step: number): number {
    if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`CosineSchedule.lrAt: step must be an integer ≥ 0, got ${step}`);
    const { baseLr, warmupSteps: w, totalSteps: t, minLr } = this;
    if (step < w) return (baseLr * (step + 1)) / w;
    const progress = t > w ? Math.min(1, (step - w) / (t - w)) : 1;
    return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  }

  /** Sets `optimizer.lr` for its next update (default: after `optimizer.stepCount` updates) and returns it. */
  apply(optimizer: Optimizer, step = optimizer.stepCount): number {
    const lr = this.lrAt(step);
    optimizer.lr = lr;
    return lr;
  }
}
