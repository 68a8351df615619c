import type { Tensor } from '../torch/index.js';
import type { ForwardContext } from './forward-context.js';
import { Module } from './module.js';

/** A module with a forward(x) → y; `ctx` is what the pass depends on besides x (see ForwardContext). */
export interface Layer extends Module {
  forward(x: Tensor, ctx?: ForwardContext): Tensor;
}

/** Children '0', '1', … applied in order; intermediate results are freed as it goes. */
export class Sequential extends Module {
  readonly layers: Layer[];

  constructor(layers: Layer[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.child(String(i), l));
  }

  forward(x: Tensor, ctx: ForwardContext = {}): Tensor {
    let h = x;
    for (const l of this.layers) {
      const next = l.forward(h, ctx);
      // Autograd keeps what backward needs alive inside libtorch; our reference can go.
      if (h !== x && next !== h) h.dispose();
      h = next;
    }
    return h;
  }
}
