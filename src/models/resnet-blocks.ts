import { adaptiveAvgPool2d, scope, type Tensor } from '../torch/index.js';
import { BatchNorm2d } from '../nn/batch-norm2d.js';
import { Conv2d, type Conv2dConfig } from '../nn/conv2d.js';
import type { ForwardContext } from '../nn/forward-context.js';
import { Module } from '../nn/module.js';
import type { Linear } from '../nn/linear.js';
import { Sequential } from '../nn/sequential.js';
import { Classifier, type SplitForward } from './classifier.js';

/** How a residual block is built: the name of its projection shortcut and its convolutions' initialisation. */
export interface BlockOptions {
  /** Child name of the projection (conv 1×1 + BN) when the shape changes: torchvision's 'downsample'; our 28-px ResNet18's 'shortcut'. */
  readonly shortcutName?: string;
  readonly init?: Conv2dConfig['init'];
}

/** The projection shortcut, conv 1×1 (stride) + BN, when the block changes the shape; null otherwise. */
function projection(inC: number, outC: number, stride: number, init: Conv2dConfig['init']): Sequential | null {
  return stride !== 1 || inC !== outC ? new Sequential([new Conv2d(inC, outC, 1, { stride, bias: false, init }), new BatchNorm2d(outC)]) : null;
}

/** The projection shortcut's multiply–accumulates for an H×W block input (none when the shortcut is the identity). */
function shortcutMacs(shortcut: Sequential | null, height: number, width: number): number {
  return shortcut ? (shortcut.layers[0] as Conv2d).macsAt(height, width) : 0;
}

/** torchvision's BasicBlock: two 3×3 conv-BN with a (projected when the shape changes) shortcut. */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly shortcut: Sequential | null;

  constructor(inC: number, outC: number, stride: number, o: BlockOptions = {}) {
    super();
    const init = o.init;
    this.conv1 = this.child('conv1', new Conv2d(inC, outC, 3, { stride, padding: 1, bias: false, init }));
    this.bn1 = this.child('bn1', new BatchNorm2d(outC));
    this.conv2 = this.child('conv2', new Conv2d(outC, outC, 3, { padding: 1, bias: false, init }));
    this.bn2 = this.child('bn2', new BatchNorm2d(outC));
    const proj = projection(inC, outC, stride, init);
    this.shortcut = proj && this.child(o.shortcutName ?? 'shortcut', proj);
  }

  forward(x: Tensor, ctx: ForwardContext = {}): Tensor {
    return scope(() => {
      // ReLU and the residual add in place, as torchvision's inplace=True: batch norm and the add keep nothing that
      // backward reads from their outputs, so no N×C×H×W buffer is written twice.
      const out = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x), ctx).relu_()), ctx);
      const shortcut = this.shortcut ? this.shortcut.forward(x, ctx) : x;
      return out.add_(shortcut).relu_();
    });
  }

  /** Output H×W for an H×W input (torchvision strides a BasicBlock's first conv). */
  outputSize(height: number, width: number): [number, number] {
    return this.conv1.outputSize(height, width);
  }

  macsAt(height: number, width: number): number {
    return this.conv1.macsAt(height, width) + this.conv2.macsAt(...this.outputSize(height, width)) + shortcutMacs(this.shortcut, height, width);
  }
}

/**
 * torchvision's Bottleneck (ResNet v1.5, the stride on the 3×3): conv 1×1 to `width`, conv 3×3 (stride), conv 1×1 to
 * 4·width, each with BN, and the (projected when the shape changes) shortcut.
 */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly shortcut: Sequential | null;

  constructor(inC: number, width: number, stride: number, o: BlockOptions = {}) {
    super();
    const init = o.init;
    const outC = width * Bottleneck.expansion;
    this.conv1 = this.child('conv1', new Conv2d(inC, width, 1, { bias: false, init }));
    this.bn1 = this.child('bn1', new BatchNorm2d(width));
    this.conv2 = this.child('conv2', new Conv2d(width, width, 3, { stride, padding: 1, bias: false, init }));
    this.bn2 = this.child('bn2', new BatchNorm2d(width));
    this.conv3 = this.child('conv3', new Conv2d(width, outC, 1, { bias: false, init }));
    this.bn3 = this.child('bn3', new BatchNorm2d(outC));
    const proj = projection(inC, outC, stride, init);
    this.shortcut = proj && this.child(o.shortcutName ?? 'shortcut', proj);
  }

  forward(x: Tensor, ctx: ForwardContext = {}): Tensor {
    return scope(() => {
      const a = this.bn1.forward(this.conv1.forward(x), ctx).relu_();
      const b = this.bn2.forward(this.conv2.forward(a), ctx).relu_();
      const out = this.bn3.forward(this.conv3.forward(b), ctx);
      const shortcut = this.shortcut ? this.shortcut.forward(x, ctx) : x;
      return out.add_(shortcut).relu_();
    });
  }

  /** Output H×W for an H×W input (ResNet v1.5: the stride is on the 3×3). */
  outputSize(height: number, width: number): [number, number] {
    return this.conv2.outputSize(height, width);
  }

  macsAt(height: number, width: number): number {
    return this.conv1.macsAt(height, width) + this.conv2.macsAt(height, width) + this.conv3.macsAt(...this.outputSize(height, width)) +
      shortcutMacs(this.shortcut, height, width);
  }
}

/**
 * What every ResNet here shares after its stem: layer1..layer4, global average pooling and FC, split at 'layer4'
 * (default) or 'layer3'. At layer3 the head contains layer4's batch norms, which couple samples in training mode.
 */
export abstract class ResNetClassifier extends Classifier {
  readonly camLayers = ['layer4', 'layer3'] as const;
  abstract readonly layers: Sequential[];
  abstract readonly fc: Linear;

  /** The stem's output (the input of layer1). */
  protected abstract stem(x: Tensor, ctx: ForwardContext): Tensor;

  /** The stem's multiply–accumulates for an H×W image, and the H×W it hands to layer1. */
  protected abstract stemMacsAt(height: number, width: number): { macs: number; size: [number, number] };

  macsAt(height: number, width: number): number {
    let { macs, size } = this.stemMacsAt(height, width);
    for (const stage of this.layers) {
      for (const block of stage.layers as unknown as (BasicBlock | Bottleneck)[]) {
        macs += block.macsAt(...size);
        size = block.outputSize(...size);
      }
    }
    return macs + this.fc.weight.numel;
  }

  forwardSplit(x: Tensor, layer = 'layer4', ctx: ForwardContext = {}): SplitForward {
    this.checkLayer(layer);
    const stop = Number(layer.slice(5)) - 1;
    return scope(() => {
      let h = scope(() => this.stem(x, ctx)); // own scope: the stem's full-resolution buffers are freed before layer1
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
}
