import { adaptiveAvgPool2d, scope, type Tensor } from '../torch/index.js';
import { BatchNorm2d } from '../nn/batch-norm2d.js';
import { Conv2d } from '../nn/conv2d.js';
import { Linear } from '../nn/linear.js';
import type { ForwardContext } from '../nn/forward-context.js';
import { Sequential } from '../nn/sequential.js';
import { Classifier, type SplitForward } from './classifier.js';
import { BasicBlock } from './resnet-blocks.js';

const WIDTHS = [64, 128, 256, 512];
const STRIDES = [1, 2, 2, 2];

/**
 * ResNet18 for 1×28×28: 3×3 stride-1 stem without max-pool (28), then layer1..layer4 of two BasicBlocks
 * (28, 14, 7, 4), global average pooling and FC. CAM layers: 'layer4' (default) and 'layer3'.
 * At layer3 the head contains layer4's batch norms, which couple samples in training mode.
 */
export class ResNet18 extends Classifier {
  readonly camLayers = ['layer4', 'layer3'] as const;
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

  forwardSplit(x: Tensor, layer = 'layer4', ctx: ForwardContext = {}): SplitForward {
    this.checkLayer(layer);
    const stop = Number(layer.slice(5)) - 1;
    return scope(() => {
      let h = scope(() => this.bn1.forward(this.conv1.forward(x), ctx).relu_()); // own scope: conv, BN freed before layer1
      let activation: Tensor | null = null;
      for (let i = 0; i < 4; i++) {
        const next = this.layers[i]!.forward(h, ctx);
        // Released stage by stage, not at the scope's end: without autograd one stage's input is alive, not all four.
        if (h !== activation) h.dispose();
        h = next;
        if (i === stop) activation = h;
      }
      const logits = this.fc.forward(adaptiveAvgPool2d(h, 1).flatten(1));
      return { activation: activation!, logits };
    });
  }

  override headIsPerSample(layer: string): boolean {
    return layer === 'layer4' || !this.training;
  }

  macsPerImage(): number {
    let macs = 28 * 28 * 64 * 9 * this.inChannels;
    let inC = 64;
    let hw = 28;
    WIDTHS.forEach((w, i) => {
      hw = Math.ceil(hw / STRIDES[i]!);
      macs += (this.layers[i]!.layers[0] as BasicBlock).macs(inC, w, hw, STRIDES[i]!);
      macs += (this.layers[i]!.layers[1] as BasicBlock).macs(w, w, hw, 1);
      inC = w;
    });
    return macs + 512 * this.numClasses;
  }
}
