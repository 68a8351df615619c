import { batchNorm, noGrad, ones, scope, zeros, type BatchShards, type Tensor } from '../torch/index.js';
import type { ForwardContext } from './forward-context.js';
import { Module } from './module.js';

/**
 * Batch normalisation over N, H, W per channel. Keys as PyTorch: weight, bias, running_mean, running_var,
 * num_batches_tracked. Note: in training mode its output for one sample depends on the others in the batch.
 * In training mode the forward context decides the statistics: with `ctx.shards` (data-parallel `--sync-bn`, as
 * torch.nn.SyncBatchNorm) those of the whole batch across processes — per-channel sums and counts summed over the
 * shards, differentiably, so the gradient also flows through the other processes' samples; with
 * `ctx.runningStats: 'frozen'` (and no shards) the batch's own, leaving the running statistics alone.
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

  forward(x: Tensor, ctx: ForwardContext = {}): Tensor {
    if (this.training && ctx.runningStats === 'frozen' && !ctx.shards) {
      return batchNorm(x, null, null, { weight: this.weight, bias: this.bias, training: true, momentum: this.momentum, eps: this.eps });
    }
    if (this.training) this.numBatchesTracked.add_(1n);
    if (this.training && ctx.shards) return this.#syncForward(x, ctx.shards);
    return batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight, bias: this.bias, training: this.training, momentum: this.momentum, eps: this.eps,
    });
  }

  /** Training-mode batch norm over the whole sharded batch: two-pass mean and variance of every shard's N·H·W values. */
  #syncForward(x: Tensor, shards: BatchShards): Tensor {
    return scope(() => {
      const [b, c, h, w] = x.shape as [number, number, number, number];
      const n = shards.sum(zeros([1], { device: x.device }).add(b * h * w)); // values per channel in the whole batch
      const mean = shards.sum(x.sum([0, 2, 3])).div(n); // C
      const centred = x.sub(mean.reshape([1, c, 1, 1]));
      const variance = shards.sum(centred.square().sum([0, 2, 3])).div(n); // biased, as batch_norm normalises by
      const y = centred.div(variance.add(this.eps).sqrt().reshape([1, c, 1, 1]))
        .mul(this.weight.reshape([1, c, 1, 1])).add(this.bias.reshape([1, c, 1, 1]));
      noGrad(() => {
        const m = this.momentum;
        // The running variance is the unbiased one, n/(n−1) times the biased, as batch_norm keeps it.
        const unbiased = variance.detach().mul(n.div(n.sub(1).clamp(1)));
        this.runningMean.copy_(this.runningMean.mul(1 - m).add(mean.detach().mul(m)));
        this.runningVar.copy_(this.runningVar.mul(1 - m).add(unbiased.mul(m)));
      });
      return y;
    });
  }
}
