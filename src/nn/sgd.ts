import { foreachAdd, foreachAdd_, foreachMul_, type Tensor } from '../torch/index.js';
import { Optimizer } from './optimizer.js';

/** Options of `SGD`; the defaults are torch.optim.SGD's. */
export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** L2 penalty added to the gradient (coupled, unlike AdamW's). */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay,
 * the same arithmetic as torch.optim.SGD (1.13, non-foreach path): d = g + wd·p; buf = d on the first step,
 * else buf = momentum·buf + (1 − dampening)·d; d = nesterov ? d + momentum·buf : buf; p −= lr·d.
 * State: `state.<i>.momentum_buffer` when momentum ≠ 0. Gradients are never modified.
 */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(params: Iterable<Tensor>, o: SGDOptions) {
    const momentum = o.momentum ?? 0;
    super(params, o.lr, { names: momentum !== 0 ? ['momentum_buffer'] : [], perParamStep: false });
    this.momentum = momentum;
    this.dampening = o.dampening ?? 0;
    this.nesterov = o.nesterov ?? false;
    this.weightDecay = o.weightDecay ?? 0;
    for (const [k, v] of [['momentum', this.momentum], ['dampening', this.dampening], ['weightDecay', this.weightDecay]] as const) {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`SGD: ${k} must be a finite number ≥ 0, got ${v}`);
    }
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('SGD: Nesterov momentum requires momentum > 0 and dampening = 0');
    }
  }

  protected override update(idx: readonly number[], grads: readonly Tensor[]): void {
    const ps = idx.map((i) => this.params[i]);
    let d: readonly Tensor[] = this.weightDecay !== 0 ? foreachAdd(grads, ps, this.weightDecay) : grads;
    if (this.momentum !== 0) {
      const bufs: Tensor[] = [];
      const old: Tensor[] = [];
      const oldD: Tensor[] = [];
      idx.forEach((i, k) => {
        const slot = this.slots[i];
        if (slot) {
          const b = slot.get('momentum_buffer')!;
          old.push(b);
          oldD.push(d[k]);
          bufs.push(b);
        } else {
          // torch starts the buffer at the (decayed) gradient itself, without dampening.
          bufs.push(this.initSlot(i, { momentum_buffer: d[k].clone() }).get('momentum_buffer')!);
        }
      });
      if (old.length > 0) {
        foreachMul_(old, this.momentum);
        foreachAdd_(old, oldD, 1 - this.dampening);
      }
      // Out of place: torch's foreach path would add into the gradients themselves when weightDecay is 0.
      d = this.nesterov ? foreachAdd(d, bufs, this.momentum) : bufs;
    }
    for (const [scale, ks] of this.byLrScale(idx)) foreachAdd_(ks.map((k) => ps[k]!), ks.map((k) => d[k]!), -this.lr * scale);
  }
}
