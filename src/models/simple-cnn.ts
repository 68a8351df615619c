import { dropout, maxPool2d, scope, type Tensor } from '../torch/index.js';
import { Conv2d } from '../nn/conv2d.js';
import { Linear } from '../nn/linear.js';
import type { ForwardContext } from '../nn/forward-context.js';
import { keyedDropout } from '../nn/keyed-dropout.js';
import { Classifier, type SplitForward } from './classifier.js';

/**
 * The classic PyTorch MNIST example net: conv3×3(32)-ReLU, conv3×3(64)-ReLU (target 'conv2', 24×24), maxpool 2,
 * dropout 0.25, FC 9216→128-ReLU, dropout 0.5, FC 128→C. Dropout is elementwise, so the head is per-sample; its masks come
 * from the forward context's `sampleKeys` when given (training), so they do not depend on how a batch is composed or split.
 * For an H×W input other than 28×28 the first FC takes 64·⌊(H−4)/2⌋·⌊(W−4)/2⌋ features.
 */
export class SimpleCNN extends Classifier {
  override readonly headPrefix = 'fc2.';
  readonly camLayers = ['conv2'] as const;
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly fc1: Linear;
  readonly fc2: Linear;

  /** H×W of the input the first FC layer is sized for. */
  readonly inputSize: readonly [number, number];

  constructor(readonly numClasses = 10, readonly inChannels = 1, inputSize: readonly [number, number] = [28, 28]) {
    super();
    this.inputSize = inputSize;
    this.conv1 = this.child('conv1', new Conv2d(inChannels, 32, 3));
    this.conv2 = this.child('conv2', new Conv2d(32, 64, 3));
    this.fc1 = this.child('fc1', new Linear(this.flatFeatures, 128));
    this.fc2 = this.child('fc2', new Linear(128, numClasses));
  }

  forwardSplit(x: Tensor, layer = 'conv2', ctx: ForwardContext = {}): SplitForward {
    this.checkLayer(layer);
    return scope(() => {
      const activation = this.conv2.forward(this.conv1.forward(x).relu_()).relu_(); // in place: a conv keeps its input, not its output
      const pooled = maxPool2d(activation, 2);
      const h = this.#dropout(pooled, 0.25, 1, ctx).flatten(1);
      const logits = this.fc2.forward(this.#dropout(this.fc1.forward(h).relu(), 0.5, 2, ctx));
      return { activation, logits, pooled };
    });
  }

  /** Dropout in training mode: keyed per sample when the context has `sampleKeys`, else libtorch's generator. */
  #dropout(x: Tensor, p: number, salt: number, ctx: ForwardContext): Tensor {
    if (this.training && ctx.sampleKeys) return keyedDropout(x, p, ctx.sampleKeys, salt);
    return dropout(x, p, this.training);
  }

  /** Features after conv2 and the 2×2 max-pool: 64·⌊(H−4)/2⌋·⌊(W−4)/2⌋ (9216 for 28×28). */
  get flatFeatures(): number {
    const [h, w] = this.inputSize;
    return 64 * Math.floor((h - 4) / 2) * Math.floor((w - 4) / 2);
  }

  macsAt(height: number, width: number): number {
    return this.conv1.macsAt(height, width) + this.conv2.macsAt(...this.conv1.outputSize(height, width)) +
      this.fc1.weight.numel + this.fc2.weight.numel;
  }
}
