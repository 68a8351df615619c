import { callOp, op, opList, Tensor, type TensorLike } from './tensor.js';

/** Pair arguments: one number for both spatial dims, or [h, w]. */
export type Pair = number | readonly [number, number];
const pair = (p: Pair): number[] => (typeof p === 'number' ? [p, p] : [p[0], p[1]]);

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/** 2-D convolution (NCHW input, OIHW weight), PyTorch's `F.conv2d`. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: Conv2dOptions = {}): Tensor {
  return op('aten::conv2d', x, weight, bias, pair(o.stride ?? 1), pair(o.padding ?? 0), pair(o.dilation ?? 1), o.groups ?? 1);
}

/** x·Wᵀ + b. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return op('aten::linear', x, weight, bias);
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training: boolean;
  momentum?: number;
  eps?: number;
}

/** Batch normalisation; in training it normalises by batch statistics and updates the running ones in place. */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, o: BatchNormOptions): Tensor {
  return op('aten::batch_norm', x, o.weight ?? null, o.bias ?? null, runningMean, runningVar, o.training,
    o.momentum ?? 0.1, o.eps ?? 1e-5, true);
}

/** Layer normalisation over the trailing `normalizedShape` dims. */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null,
  bias: Tensor | null = null, eps = 1e-5): Tensor {
  return op('aten::layer_norm', x, normalizedShape, weight, bias, eps, true);
}

export function relu(x: Tensor): Tensor {
  return op('aten::relu', x);
}
/** Exact (erf) GELU, PyTorch's default. */
export function gelu(x: Tensor): Tensor {
  return op('aten::gelu', x, 'none');
}
/** GELU written over x (inference, where nothing reads x again); returns x. */
export function gelu_(x: Tensor): Tensor {
  callOp('aten::gelu_', x, 'none');
  return x;
}
export function sigmoid(x: Tensor): Tensor {
  return op('aten::sigmoid', x);
}
export function softmax(x: Tensor, dim: number): Tensor {
  return op('aten::softmax.int', x, dim);
}
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return op('aten::log_softmax.int', x, dim);
}

export function maxPool2d(x: Tensor, kernel: Pair, stride: Pair = kernel, padding: Pair = 0): Tensor {
  return op('aten::max_pool2d', x, pair(kernel), pair(stride), pair(padding), [1, 1], false);
}
export function avgPool2d(x: Tensor, kernel: Pair, stride: Pair = kernel, padding: Pair = 0): Tensor {
  return op('aten::avg_pool2d', x, pair(kernel), pair(stride), pair(padding), false, true, null);
}
export function adaptiveAvgPool2d(x: Tensor, size: Pair): Tensor {
  return op('aten::adaptive_avg_pool2d', x, pair(size));
}

/** Inverted dropout: zeroes elements with probability p and scales the rest by 1/(1−p) while training. */
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return op('aten::dropout', x, p, training);
}

/** Bilinear resize of an NCHW tensor to `size` with align_corners=false (PyTorch's `F.interpolate`). */
export function interpolateBilinear(x: Tensor, size: readonly [number, number]): Tensor {
  return op('aten::upsample_bilinear2d', x, [size[0], size[1]], false, null, null);
}

export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

/** Cross-entropy of logits (N×C) against int64 class indices (N), with optional label smoothing. */
export function crossEntropy(logits: Tensor, target: Tensor, reduction: Reduction = 'mean', labelSmoothing = 0): Tensor {
  return op('aten::cross_entropy_loss', logits, target, null, REDUCTION[reduction], -100, labelSmoothing);
}

/** One-hot int64 encoding of class indices. */
export function oneHot(labels: Tensor, numClasses: number): Tensor {
  return op('aten::one_hot', labels, numClasses);
}

export function cat(ts: readonly Tensor[], dim = 0): Tensor {
  return op('aten::cat', ts, dim);
}
export function stack(ts: readonly Tensor[], dim = 0): Tensor {
  return op('aten::stack', ts, dim);
}
/** cond ? a : b, elementwise with broadcasting. */
/** self + value·t1·t2, broadcasting all three (one fused pass; PyTorch's `torch.addcmul`). */
export function addcmul(self: Tensor, t1: Tensor, t2: Tensor, value = 1): Tensor {
  return op('aten::addcmul', self, t1, t2, value);
}

export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (typeof a === 'number' && typeof b === 'number') return op('aten::where.Scalar', cond, a, b);
  if (typeof a === 'number') return op('aten::where.ScalarSelf', cond, a, b);
  if (typeof b === 'number') return op('aten::where.ScalarOther', cond, a, b);
  return op('aten::where.self', cond, a, b);
}
/** Elementwise a ∨ b of two tensors (non-zero is true), broadcasting; a bool tensor. */
export function logicalOr(a: Tensor, b: Tensor): Tensor {
  return op('aten::logical_or', a, b);
}

export interface ArgsortOptions {
  /** Keep equal elements in their original order (default false: any order). */
  stable?: boolean;
  /** Largest first (default false: smallest first). */
  descending?: boolean;
}

/** The int64 indices that sort x along dim, PyTorch's `torch.argsort(x, dim, descending, stable)`. */
export function argsort(x: Tensor, dim = -1, o: ArgsortOptions = {}): Tensor {
  return op('aten::argsort.stable', x, o.stable ?? false, dim, o.descending ?? false);
}

/** Splits along dim into chunks of `size`. */
export function split(x: Tensor, size: number, dim = 0): Tensor[] {
  return opList('aten::split.Tensor', x, size, dim);
}

/** The k largest (or smallest, `largest = false`) values along `dim` and their int64 indices; differentiable in the values. */
export function topk(x: Tensor, k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
  const [values, indices] = opList('aten::topk', x, k, dim, largest, true);
  return { values: values!, indices: indices! };
}

/** Elementwise a XOR b of integer tensors, or of an integer tensor and an integer constant. */
export function bitwiseXor(a: Tensor, b: Tensor | bigint): Tensor {
  return typeof b === 'bigint' ? op('aten::bitwise_xor.Scalar', a, b) : op('aten::bitwise_xor.Tensor', a, b);
}

/** Elementwise a AND mask of an integer tensor (an integer constant). */
export function bitwiseAnd(a: Tensor, mask: bigint): Tensor {
  return op('aten::bitwise_and.Scalar', a, mask);
}

/** Elementwise a >> bits (arithmetic shift) of an integer tensor. */
export function rightShift(a: Tensor, bits: number): Tensor {
  return op('aten::bitwise_right_shift.Tensor_Scalar', a, BigInt(bits));
}

/** Elementwise a ≥ k of an integer tensor and an integer constant, compared as integers (a JS number would compare in float). */
export function geInt(a: Tensor, k: bigint): Tensor {
  return op('aten::ge.Scalar', a, k);
}

/** Elementwise a·k with an integer constant, keeping an integer tensor integer (a JS number would promote it to float). */
export function mulInt(a: Tensor, k: bigint): Tensor {
  return op('aten::mul.Scalar', a, k);
}
