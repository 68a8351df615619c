import { scope, type Tensor } from '../torch/index.js';
import type { ForwardContext } from '../nn/forward-context.js';
import { Module } from '../nn/module.js';

/** A forward pass split at a CAM layer: A = f(x) and z = g(A), both in the autograd graph. */
export interface SplitForward {
  /** B×K×h×w activations of the CAM layer. */
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
 * An image classifier that can be split at named CAM layers for Grad-CAM.
 * Batch-CAM needs g (CAM layer → logits) free of cross-sample operations, so that ∂Σz[i,tᵢ]/∂A gives each
 * sample its own gradient; `headIsPerSample` says whether that holds for a layer in the current mode.
 */
export abstract class Classifier extends Module {
  /** CAM layer names; the first is the default. */
  abstract readonly camLayers: readonly string[];
  abstract readonly numClasses: number;

  /**
   * Runs the network, returning the CAM layer's activation together with the logits. `ctx`: what the pass
   * depends on besides x (dropout keys, data-parallel batch-norm shards, frozen running statistics).
   */
  abstract forwardSplit(x: Tensor, layer?: string, ctx?: ForwardContext): SplitForward;

  /** Logits only. */
  forward(x: Tensor, ctx: ForwardContext = {}): Tensor {
    return scope(() => this.forwardSplit(x, undefined, ctx).logits);
  }

  /**
   * Prefix of the classification head's keys ('fc.' in torchvision's ResNets): a pretrained state dict's head is
   * replaced, not loaded, when its class count differs (see `loadPretrained`).
   */
  readonly headPrefix: string = 'fc.';

  /** Key of the first convolution's weight, whose input channels a pretrained RGB stem is adapted to. */
  readonly stemKey: string = 'conv1.weight';

  /** Every parameter outside the classification head: the part a pretrained file provides. */
  backboneParameters(): Tensor[] {
    return this.namedParameters().filter(([k]) => !k.startsWith(this.headPrefix)).map(([, p]) => p);
  }

  get defaultCamLayer(): string {
    return this.camLayers[0]!;
  }

  /** True when the head after `layer` treats every sample on its own in the current mode. */
  headIsPerSample(_layer: string): boolean {
    return true;
  }

  /** Multiply–accumulates of one forward pass of one H×W image, from the layer shapes (what bench's GFLOP/s divide by). */
  abstract macsAt(height: number, width: number): number;

  protected checkLayer(layer: string): void {
    if (!this.camLayers.includes(layer)) {
      throw new Error(`${this.constructor.name} has no CAM layer '${layer}'; choose one of: ${this.camLayers.join(', ')}`);
    }
  }
}
