import { isGradEnabled, maxPool2d, type Tensor } from '../torch/index.js';
import { BatchNorm2d } from '../nn/batch-norm2d.js';
import { Conv2d } from '../nn/conv2d.js';
import type { ForwardContext } from '../nn/forward-context.js';
import { Linear } from '../nn/linear.js';
import { Sequential } from '../nn/sequential.js';
import { BasicBlock, Bottleneck, ResNetClassifier } from './resnet-blocks.js';

/** The ImageNet ResNets torchvision and timm build: block type and blocks per stage. */
export const RESNET_DEPTHS = {
  18: { block: 'basic', layers: [2, 2, 2, 2] },
  34: { block: 'basic', layers: [3, 4, 6, 3] },
  50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
} as const;

export type ResNetDepth = keyof typeof RESNET_DEPTHS;

const WIDTHS = [64, 128, 256, 512];

/**
 * torchvision's ImageNet ResNet (`torchvision.models.resnet18/34/50`; timm's `resnet18/34/50` have the same layout
 * and key names): a 7×7 stride-2 stem with a 3×3 stride-2 max-pool (input/4), layer1..layer4 (strides 1, 2, 2, 2:
 * input/4 … input/32), global average pooling and FC. Key names are torchvision's (`layer1.0.downsample.0.weight`, …),
 * so its state dicts load as they are; convolutions start from its kaiming-normal (fan-out) initialisation. CAM layers
 * 'layer4' (default; 7×7 at 224 px, at least 2×2 from 33 px) and 'layer3'.
 */
export class ResNet extends ResNetClassifier {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layers: Sequential[];
  readonly fc: Linear;
  readonly features: number;

  constructor(readonly depth: ResNetDepth, readonly numClasses = 1000, readonly inChannels = 3) {
    super();
    const spec = RESNET_DEPTHS[depth];
    if (!spec) throw new RangeError(`ResNet: depth ${depth} is not one of ${Object.keys(RESNET_DEPTHS).join(', ')}`);
    const o = { shortcutName: 'downsample', init: 'kaiming-fan-out' } as const;
    this.conv1 = this.child('conv1', new Conv2d(inChannels, 64, 7, { stride: 2, padding: 3, bias: false, init: o.init }));
    this.bn1 = this.child('bn1', new BatchNorm2d(64));
    const expansion = spec.block === 'basic' ? BasicBlock.expansion : Bottleneck.expansion;
    let inC = 64;
    this.layers = WIDTHS.map((w, i) => {
      const blocks = Array.from({ length: spec.layers[i]! }, (_, b) => {
        const stride = b === 0 && i > 0 ? 2 : 1;
        const block = spec.block === 'basic' ? new BasicBlock(inC, w, stride, o) : new Bottleneck(inC, w, stride, o);
        inC = w * expansion;
        return block;
      });
      return this.child(`layer${i + 1}`, new Sequential(blocks));
    });
    this.features = 512 * expansion;
    this.fc = this.child('fc', new Linear(this.features, numClasses));
  }

  /**
   * Without autograd (evaluation, inference) the input goes channels-last: oneDNN keeps that layout through every
   * block, and at 224 px ResNet-50's forward is ~8 % faster than NCHW. Training stays NCHW: channels-last weight
   * gradients round differently per batch size (the stem's 3× farther from float64 than NCHW's, in PyTorch too), which
   * would break "2 processes × 32 = 1 process × 64" (README, "At ImageNet sizes").
   */
  protected stem(x: Tensor, ctx: ForwardContext): Tensor {
    return maxPool2d(this.bn1.forward(this.conv1.forward(isGradEnabled() ? x : x.contiguous('channels-last')), ctx).relu_(), 3, 2, 1);
  }


  protected stemMacsAt(height: number, width: number): { macs: number; size: [number, number] } {
    const pool = (n: number): number => Math.floor((n - 1) / 2) + 1; // max-pool 3×3, stride 2, padding 1
    const [h, w] = this.conv1.outputSize(height, width);
    return { macs: this.conv1.macsAt(height, width), size: [pool(h), pool(w)] };
  }
}
