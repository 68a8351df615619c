import { layerNorm, ones, scope, zeros, type Tensor } from '../torch/index.js';
import { Module } from './module.js';

/** LayerNorm over the last dim (channels-last input, or features). Keys: weight, bias. */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly channels: number, readonly eps = 1e-6) {
    super();
    this.weight = this.param('weight', ones([channels]));
    this.bias = this.param('bias', zeros([channels]));
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, [this.channels], this.weight, this.bias, this.eps);
  }
}

/** LayerNorm over the channel dim of an NCHW tensor (ConvNeXt's channels_first LayerNorm). Keys: weight, bias. */
export class LayerNorm2d extends LayerNorm {
  override forward(x: Tensor): Tensor {
    return scope(() => super.forward(x.permute([0, 2, 3, 1])).permute([0, 3, 1, 2]));
  }
}
