import { addcmul, scope, zeros, type Tensor } from '../torch/index.js';
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

  /**
   * Fused: γ·(x·Nx) + β + x = β + x·(1 + γ·Nx), so the N×H×W×C tensor is read once for the norm and once for the
   * output (one addcmul), all the rest works on N×1×1×C. ‖x‖₂ as √(Σx²), a plain reduction over H, W that is several
   * times faster than aten::norm over non-last dims; clamped at 1e-30 (far below any real Σx²) so that an all-zero
   * channel has gradient 0, as norm's, instead of 0·∞.
   */
  forward(x: Tensor): Tensor {
    return scope(() => addcmul(this.beta, x, this.#scale(x)));
  }

  /** The same, written over x (inference, where nothing reads x again: no N×H×W×C output to allocate); returns x. */
  forward_(x: Tensor): Tensor {
    scope(() => { x.mul_(this.#scale(x)).add_(this.beta); });
    return x;
  }

  /** 1 + γ·Nx, N×1×1×C. */
  #scale(x: Tensor): Tensor {
    const gx = x.square().sum([1, 2], true).clamp(1e-30).sqrt();
    return this.gamma.mul(gx.div(gx.mean(-1, true).add(1e-6))).add(1);
  }
}
