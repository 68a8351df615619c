import { linear, zeros, type Tensor } from '../torch/index.js';
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

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
