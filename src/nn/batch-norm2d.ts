import { batchNorm, ones, zeros, type Tensor } from '../torch/index.js';
import { Module } from './module.js';

/**
 * Batch normalisation over N, H, W per channel. Keys as PyTorch: weight, bias, running_mean, running_var,
 * num_batches_tracked. Note: in training mode its output for one sample depends on the others in the batch.
 */
export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;

  constructor(channels: number, readonly momentum = 0.1, readonly eps = 1e-5) {
    super();
    this.weight = this.param('weight', ones([channels]));
    this.bias = this.param('bias', zeros([channels]));
    this.runningMean = this.buffer('running_mean', zeros([channels]));
    this.runningVar = this.buffer('running_var', ones([channels]));
    this.numBatchesTracked = this.buffer('num_batches_tracked', zeros([], { dtype: 'int64' }));
  }

  forward(x: Tensor): Tensor {
    if (this.training) this.numBatchesTracked.add_(1n);
    return batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight, bias: this.bias, training: this.training, momentum: this.momentum, eps: this.eps,
    });
  }
}
