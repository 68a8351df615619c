import type { Tensor } from '../torch/index.js';
import { BatchNorm2d } from '../nn/batch-norm2d.js';
import { Conv2d } from '../nn/conv2d.js';
import { Linear } from '../nn/linear.js';
import type { ForwardContext } from '../nn/forward-context.js';
import { Sequential } from '../nn/sequential.js';
import { BasicBlock, ResNetClassifier } from './resnet-blocks.js';

const WIDTHS = [64, 128, 256, 512];
const STRIDES = [1, 2, 2, 2];

/**
 * ResNet18 for 1×28×28: 3×3 stride-1 stem without max-pool (28), then layer1..layer4 of two BasicBlocks
 * (28, 14, 7, 4), global average pooling and FC. CAM layers: 'layer4' (default) and 'layer3'.
 * At layer3 the head contains layer4's batch norms, which couple samples in training mode.
 */
export class ResNet18 extends ResNetClassifier {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layers: Sequential[];
  readonly fc: Linear;

  constructor(readonly numClasses = 10, readonly inChannels = 1) {
    super();
    this.conv1 = this.child('conv1', new Conv2d(inChannels, 64, 3, { padding: 1, bias: false }));
    this.bn1 = this.child('bn1', new BatchNorm2d(64));
    let inC = 64;
    this.layers = WIDTHS.map((w, i) => {
      const stage = new Sequential([new BasicBlock(inC, w, STRIDES[i]!), new BasicBlock(w, w, 1)]);
      inC = w;
      return this.child(`layer${i + 1}`, stage);
    });
    this.fc = this.child('fc', new Linear(512, numClasses));
  }

  protected stem(x: Tensor, ctx: ForwardContext): Tensor {
    return this.bn1.forward(this.conv1.forward(x), ctx).relu_();
  }


  protected stemMacsAt(height: number, width: number): { macs: number; size: [number, number] } {
    return { macs: this.conv1.macsAt(height, width), size: this.conv1.outputSize(height, width) };
  }
}
