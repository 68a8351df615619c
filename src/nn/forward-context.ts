import type { BatchShards, Tensor } from '../torch/index.js';

/**
 * What a forward pass depends on besides its input, its weights and the train/eval mode: passed down through
 * every layer's `forward(x, ctx)` rather than set on the modules, so that a reader of a forward call sees all of it.
 * Each field is optional; `{}` is a plain forward pass.
 */
export interface ForwardContext {
  /**
   * Per-sample int64 keys (B, `sampleKeys` of ./keyed-dropout.ts) that training-mode dropout draws its masks from,
   * so a sample's mask depends on neither its batch nor how the batch is split across processes. Absent: libtorch's
   * generator.
   */
  readonly sampleKeys?: Tensor;
  /**
   * Data-parallel `--sync-bn` (torch.nn.SyncBatchNorm): the processes whose batch statistics training-mode batch
   * norm shares. Absent: this process's batch alone.
   */
  readonly shards?: BatchShards;
  /**
   * 'frozen': training-mode batch norm normalises with the batch's statistics but neither updates running_mean/var
   * nor counts the batch (F.batch_norm with running stats None): for an extra pass over images that are not
   * training data (attention mining's erased batch). Default 'update'.
   */
  readonly runningStats?: 'update' | 'frozen';
}
