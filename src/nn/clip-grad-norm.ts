import { foreachMul_, foreachNorm, noGrad, scope, stack, type Tensor } from '../torch/index.js';

/** The gradients that exist (wrappers owned by the caller's scope). */
export function presentGrads(params: readonly Tensor[]): Tensor[] {
  return params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
}

/**
 * Σ‖∇p‖² over the parameters' gradients as a 0-d tensor (one fused `_foreach_norm`), left on the device so the
 * caller can read it together with its other per-step values in one transfer; NaN/Inf in any gradient makes it
 * non-finite. Null when no parameter has a gradient.
 */
export function gradNormSquared(params: readonly Tensor[]): Tensor | null {
  const grads = presentGrads(params);
  if (grads.length === 0) return null;
  return scope(() => {
    return stack(foreachNorm(grads, 2)).square().sum();
  });
}

/**
 * torch.nn.utils.clip_grad_norm_ given the global norm already read (see {@link gradNormSquared}): when
 * `totalNorm > maxNorm`, multiplies every gradient in place by maxNorm / totalNorm (one fused call). Returns
 * whether it clipped. Unlike torch, no 1e-6 is added to the norm: the factor is exactly maxNorm / totalNorm.
 */
export function clipGradNorm_(params: readonly Tensor[], maxNorm: number, totalNorm: number): boolean {
  if (!(maxNorm > 0 && totalNorm > maxNorm)) return false;
  scope(() => {
    const grads = presentGrads(params);
    noGrad(() => foreachMul_(grads, maxNorm / totalNorm));
  });
  return true;
}
