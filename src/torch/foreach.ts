import { callOp, opList, type Tensor } from './tensor.js';

/*
 * ATen's `_foreach_*` family: one dispatcher call applies an op to every tensor of a list (PyTorch's
 * `torch._foreach_*`, what its optimisers and `clip_grad_norm_` use), so a step over many parameters costs a handful
 * of addon calls rather than a few per tensor. List arguments must have the same length; the ones ending in `_`
 * work in place and return nothing. In-place updates of leaves that require grad belong under `noGrad`.
 */

/** tᵢ ← tᵢ · scalar for every tensor. */
export function foreachMul_(tensors: readonly Tensor[], scalar: number): void {
  callOp('aten::_foreach_mul_.Scalar', tensors, scalar);
}

/** tᵢ ← tᵢ / scalar for every tensor. */
export function foreachDiv_(tensors: readonly Tensor[], scalar: number): void {
  callOp('aten::_foreach_div_.Scalar', tensors, scalar);
}

/** tᵢ ← tᵢ + scalar, or tᵢ ← tᵢ + alpha · oᵢ for a list of others. */
export function foreachAdd_(tensors: readonly Tensor[], scalar: number): void;
export function foreachAdd_(tensors: readonly Tensor[], others: readonly Tensor[], alpha?: number): void;
export function foreachAdd_(tensors: readonly Tensor[], other: number | readonly Tensor[], alpha = 1): void {
  if (typeof other === 'number') callOp('aten::_foreach_add_.Scalar', tensors, other);
  else callOp('aten::_foreach_add_.List', tensors, other, alpha);
}

/** New tensors tᵢ + scalar, or tᵢ + alpha · oᵢ for a list of others. */
export function foreachAdd(tensors: readonly Tensor[], scalar: number): Tensor[];
export function foreachAdd(tensors: readonly Tensor[], others: readonly Tensor[], alpha?: number): Tensor[];
export function foreachAdd(tensors: readonly Tensor[], other: number | readonly Tensor[], alpha = 1): Tensor[] {
  return typeof other === 'number'
    ? opList('aten::_foreach_add.Scalar', tensors, other)
    : opList('aten::_foreach_add.List', tensors, other, alpha);
}

/** tᵢ ← tᵢ + value · aᵢ · bᵢ for every tensor. */
export function foreachAddcmul_(tensors: readonly Tensor[], a: readonly Tensor[], b: readonly Tensor[], value = 1): void {
  callOp('aten::_foreach_addcmul_.Scalar', tensors, a, b, value);
}

/** tᵢ ← tᵢ + value · aᵢ / bᵢ for every tensor. */
export function foreachAddcdiv_(tensors: readonly Tensor[], a: readonly Tensor[], b: readonly Tensor[], value = 1): void {
  callOp('aten::_foreach_addcdiv_.Scalar', tensors, a, b, value);
}

/** New tensors √tᵢ. */
export function foreachSqrt(tensors: readonly Tensor[]): Tensor[] {
  return opList('aten::_foreach_sqrt', tensors);
}

/** The ord-norm of each tensor over all its elements, as 0-d tensors (ord 2: Euclidean). */
export function foreachNorm(tensors: readonly Tensor[], ord = 2): Tensor[] {
  return opList('aten::_foreach_norm.Scalar', tensors, ord);
}
