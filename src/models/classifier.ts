import { scope, type Tensor } from '../torch/index.js';
import { Module } from '../nn/module.js';

/** A forward pass split at a target layer: A = f(x) and z = g(A), both in the autograd graph. */
export interface SplitForward {
  /** B×K×h×w activations of the target layer. */
  activation: Tensor;
  /** B×C logits computed from `activation`. */
  logits: Tensor;
  /**
   * Optional: B×K×h'×w', the only tensor through which `activation` reaches the logits, made from it by a map that
   * gives each of its elements' gradients to exactly one element of the activation (a non-overlapping max-pool). Then
   * Σ_hw ∂s/∂A = Σ_h'w' ∂s/∂pooled per sample and channel, and Grad-CAM's α can be read from the smaller tensor's
   * gradient: no pool backward (a scatter into B×K×h×w zeros) in the graph, and none to differentiate again.
   */
  pooled?: Tensor;
}

/**
 * An image classifier that can be split at named target layers for Grad-CAM.
 * Batch-CAM needs g (target layer → logits) free of cross-sample operations, so that ∂Σz[i,tᵢ]/∂A gives each
 * sample its own gradient; `headIsPerSample` says whether that holds for a layer in the current mode.
 */
export abstract class Classifier extends Module {
  /** Target layer names; the first is the default. */
  abstract readonly targetLayers: readonly string[];
  abstract readonly numClasses: number;

  /**
   * Per-sample keys (int64 B, `sampleKeys` of src/nn/keyed-dropout.ts) that a training forward pass draws its dropout
   * masks from, or null for libtorch's generator. The trainer sets them for each step, so a sample's mask does not
   * depend on its batch or on how the batch is split across processes. Owned by whoever sets them.
   */
  sampleKeys: Tensor | null = null;

  /** Runs the network, returning the target layer's activation together with the logits. */
  abstract forwardSplit(x: Tensor, layer?: string): SplitForward;

  /** Logits only. */
  forward(x: Tensor): Tensor {
    return scope(() => this.forwardSplit(x).logits);
  }

  get defaultTargetLayer(): string {
    return this.targetLayers[0]!;
  }

  /** True when the head after `layer` treats every sample on its own in the current mode. */
  headIsPerSample(_layer: string): boolean {
    return true;
  }

  /** Multiply–accumulates of one forward pass per image, from the layer shapes (for GFLOP/s figures). */
  abstract macsPerImage(): number;

  protected checkLayer(layer: string): void {
    if (!this.targetLayers.includes(layer)) {
      throw new Error(`${this.constructor.name} has no target layer '${layer}'; choose one of: ${this.targetLayers.join(', ')}`);
    }
  }
}
