import { conv2d, zeros, type Tensor } from '../torch/index.js';
import { kaimingNormalFanOut, uniform, truncNormal } from './init.js';
import { Module } from './module.js';

export interface Conv2dConfig {
  stride?: number;
  padding?: number;
  groups?: number;
  bias?: boolean;
  /** 'torch' (default, kaiming-uniform) or 'trunc-normal' (std 0.02, bias 0; ConvNeXt). */
  init?: 'torch' | 'trunc-normal' | 'kaiming-fan-out';
}

/** 2-D convolution with a square kernel. Keys: weight (O×I/g×k×k), bias (O). */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;
  readonly groups: number;

  constructor(inChannels: number, outChannels: number, kernel: number, c: Conv2dConfig = {}) {
    super();
    this.stride = c.stride ?? 1;
    this.padding = c.padding ?? 0;
    this.groups = c.groups ?? 1;
    const fanIn = (inChannels / this.groups) * kernel * kernel;
    const shape = [outChannels, inChannels / this.groups, kernel, kernel];
    const tn = c.init === 'trunc-normal';
    this.weight = this.param('weight', tn ? truncNormal(shape, 0.02)
      : c.init === 'kaiming-fan-out' ? kaimingNormalFanOut(shape) : uniform(shape, 1 / Math.sqrt(fanIn)));
    this.bias = c.bias === false ? null
      : this.param('bias', tn ? zeros([outChannels]) : uniform([outChannels], 1 / Math.sqrt(fanIn)));
  }

  /** Output height and width for an H×W input. */
  outputSize(height: number, width: number): [number, number] {
    const k = this.weight.shape[2]!;
    const out = (n: number): number => Math.floor((n + 2 * this.padding - k) / this.stride) + 1;
    return [out(height), out(width)];
  }

  /** Multiply–accumulates for one H×W input image: every weight once per output pixel. */
  macsAt(height: number, width: number): number {
    const [h, w] = this.outputSize(height, width);
    return h * w * this.weight.numel;
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, groups: this.groups });
  }
}
