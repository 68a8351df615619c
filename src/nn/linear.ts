import { conv2d, linear, scope, zeros, type Tensor } from '../torch/index.js';
import { truncNormal, uniform } from './init.js';
import { Module } from './module.js';

/** y = x·Wᵀ + b. Keys: weight (out×in), bias (out). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(inFeatures: number, outFeatures: number, init: 'torch' | 'trunc-normal' = 'torch') {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', init === 'torch' ? uniform([outFeatures, inFeatures], bound)
      : truncNormal([outFeatures, inFeatures], 0.02));
    this.bias = this.param('bias', init === 'torch' ? uniform([outFeatures], bound) : zeros([outFeatures]));
  }

  /**
   * A batch of vectors of any rank (…×in) is flattened to 2-D first: aten::linear then runs one addmm with the bias
   * fused, where on a 4-D input it runs matmul and a separate bias pass over the output (ConvNeXt's N×H×W×C).
   */
  forward(x: Tensor): Tensor {
    if (x.ndim <= 2) return linear(x, this.weight, this.bias);
    const lead = x.shape.slice(0, -1);
    return scope(() => linear(x.reshape([-1, x.shape[x.ndim - 1]!]), this.weight, this.bias).view([...lead, this.weight.shape[0]!]));
  }

  /**
   * The Linear over the channel dim of an N×C×H×W tensor: the 1×1 convolution it is. On channels-last input oneDNN
   * runs it in that layout and returns channels-last; for ConvNeXt's pointwise layers (C = 40…640 over N·H·W rows)
   * that is faster, forward and backward, than the GEMM libtorch's CPU BLAS runs for a Linear.
   */
  forwardChannels(x: Tensor): Tensor {
    return scope(() => conv2d(x, this.weight.view([...this.weight.shape, 1, 1]), this.bias));
  }
}
