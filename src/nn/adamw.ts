import { foreachAdd_, foreachAddcdiv_, foreachAddcmul_, foreachDiv_, foreachMul_, foreachSqrt, zerosLike, type Tensor } from '../torch/index.js';
import { Optimizer } from './optimizer.js';

/** Options of `AdamW`; the defaults are torch.optim.AdamW's. */
export interface AdamWOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  /** Decoupled weight decay: p ← p·(1 − lr·weightDecay) before the Adam update. */
  weightDecay?: number;
}

/**
 * Adam with decoupled weight decay, the same arithmetic as torch.optim.AdamW (1.13, amsgrad off):
 * p ← p·(1 − lr·wd); m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
 * p ← p − lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε), with t each parameter's own update count.
 * State: `state.<i>.exp_avg`, `state.<i>.exp_avg_sq` and the scalar `state.<i>.step`.
 */
export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(params: Iterable<Tensor>, o: AdamWOptions = {}) {
    super(params, o.lr ?? 1e-3, { names: ['exp_avg', 'exp_avg_sq'], perParamStep: true });
    [this.beta1, this.beta2] = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 1e-2;
    for (const [k, v] of [['betas[0]', this.beta1], ['betas[1]', this.beta2]] as const) {
      if (!(v >= 0 && v < 1)) throw new RangeError(`AdamW: ${k} must be in [0, 1), got ${v}`);
    }
    if (!Number.isFinite(this.eps) || this.eps < 0) throw new RangeError(`AdamW: eps must be a finite number ≥ 0, got ${this.eps}`);
    if (!Number.isFinite(this.weightDecay) || this.weightDecay < 0) {
      throw new RangeError(`AdamW: weightDecay must be a finite number ≥ 0, got ${this.weightDecay}`);
    }
  }

  protected override update(idx: readonly number[], grads: readonly Tensor[]): void {
    // Parameters that skipped steps (no gradient) have other counts, hence other bias corrections; parameters with
    // another learning-rate scale another rate: one group per (count, scale).
    const groups = new Map<string, { t: number; scale: number; ks: number[] }>();
    idx.forEach((i, k) => {
      if (!this.slots[i]) {
        const p = this.params[i];
        this.initSlot(i, { exp_avg: zerosLike(p), exp_avg_sq: zerosLike(p) });
      }
      const t = ++this.paramSteps[i];
      const scale = this.lrScales[i]!;
      const key = `${t}:${scale}`;
      const g = groups.get(key);
      if (g) g.ks.push(k); else groups.set(key, { t, scale, ks: [k] });
    });
    const { beta1, beta2, eps, weightDecay } = this;
    for (const { t, scale, ks } of groups.values()) {
      const lr = this.lr * scale;
      const ps = ks.map((k) => this.params[idx[k]]);
      const gs = ks.map((k) => grads[k]);
      const ms = ks.map((k) => this.slots[idx[k]]!.get('exp_avg')!);
      const vs = ks.map((k) => this.slots[idx[k]]!.get('exp_avg_sq')!);
      // ×1 when weightDecay is 0 is exact, so skipping it changes nothing.
      if (weightDecay !== 0) foreachMul_(ps, 1 - lr * weightDecay);
      foreachMul_(ms, beta1);
      foreachAdd_(ms, gs, 1 - beta1);
      foreachMul_(vs, beta2);
      foreachAddcmul_(vs, gs, gs, 1 - beta2);
      const stepSize = lr / (1 - beta1 ** t);
      const denom = foreachSqrt(vs);
      foreachDiv_(denom, Math.sqrt(1 - beta2 ** t));
      foreachAdd_(denom, eps);
      foreachAddcdiv_(ps, ms, denom, -stepSize);
    }
  }
}
