import { scope, zeros, type Tensor } from '../torch/index.js';
import { Module } from './module.js';

/**
 * Global Response Normalisation (ConvNeXt-V2) on channels-last input N×H×W×C:
 * Gx = ‖x‖₂ over H,W; Nx = Gx / (mean_C Gx + 1e-6); y = γ·(x·Nx) + β + x. Per sample: no cross-batch terms.
 */
export class GRN extends Module {
  readonly gamma: Tensor;
  readonly beta: Tensor;

  constructor(channels: number) {
    super();
    this.gamma = this.param('gamma', zeros([1, 1, 1, channels]));
    this.beta = this.param('beta', zeros([1, 1, 1, channels]));
  }

  forward(x: Tensor): Tensor {
    return scope(() => {
      const gx = x.norm([1, 2], true);
      const nx = gx.div(gx.mean(-1, true).add(1e-6));
      return this.gamma.mul(x.mul(nx)).add(this.beta).add(x);
    });
  }
}
