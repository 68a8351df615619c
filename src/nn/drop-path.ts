import { rand, type Tensor } from '../torch/index.js';
import { Module } from './module.js';

/**
 * Stochastic depth: in training, drops a residual branch for whole samples with probability p and scales the kept
 * ones by 1/(1−p). Per-sample by construction, so it never couples samples of a batch.
 */
export class DropPath extends Module {
  constructor(readonly p = 0) {
    super();
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    const shape = [x.shape[0]!, ...x.shape.slice(1).map(() => 1)];
    const u = rand(shape);
    const keepMask = u.ge(this.p).float();
    const scaled = keepMask.div(1 - this.p);
    const out = x.mul(scaled);
    for (const t of [u, keepMask, scaled]) t.dispose();
    return out;
  }
}
