import { rand, scope, type Tensor } from '../torch/index.js';
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
    return scope(() => {
      const keepMask = rand([x.shape[0]!, ...x.shape.slice(1).map(() => 1)]).ge(this.p).float(); // one draw per sample
      return x.mul(keepMask.div(1 - this.p));
    });
  }
}
