import { native } from './native.js';
import { Tensor } from './tensor.js';

export interface GradOptions {
  /** Build the graph of the gradient itself, for higher-order derivatives (default false). */
  createGraph?: boolean;
  /** Keep the forward graph for another backward (default: createGraph). */
  retainGraph?: boolean;
  /** Seed gradients for non-scalar outputs. */
  gradOutputs?: readonly (Tensor | null)[];
  /** Return null for inputs the outputs do not depend on, instead of throwing (default false). */
  allowUnused?: boolean;
}

/** d(outputs)/d(inputs) as new tensors, like `torch.autograd.grad`. */
export function grad(outputs: Tensor | readonly Tensor[], inputs: readonly Tensor[], o: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs as Tensor];
  const create = o.createGraph ?? false;
  const gs = native.grad(outs.map((t) => t.handle), inputs.map((t) => t.handle),
    o.gradOutputs ? o.gradOutputs.map((t) => t?.handle ?? null) : null, o.retainGraph ?? create, create, o.allowUnused ?? false);
  return gs.map((h) => (h ? new Tensor(h) : null));
}

/** Accumulates d(tensor)/d(leaf) into every leaf's `.grad`, like `loss.backward()`. */
export function backward(t: Tensor, o: { retainGraph?: boolean; createGraph?: boolean; gradient?: Tensor } = {}): void {
  native.backward([t.handle], o.gradient ? [o.gradient.handle] : null, o.retainGraph ?? false, o.createGraph ?? false);
}

/** Runs fn with autograd recording off (restores the previous mode, also on throw). */
export function noGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

/** Runs fn with autograd recording on. */
export function enableGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(true);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}
