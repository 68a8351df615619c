import { op, type Tensor } from '../../src/torch/index.js';
import { Classifier, type SplitForward } from '../../src/models/classifier.js';

/**
 * A hand-built two-class "model" with known faithfulness curves: with s = Σ pixels and m the number of lit pixels
 * of the test image, logits = [ln(s + ε), ln(m − s + ε)], so P(class 0) = (s + ε)/(m + 2ε) ≈ s/m — linear in the
 * pixels still present. Its "target layer" is the input itself.
 */
export class ProbeModel extends Classifier {
  readonly camLayers = ['input'] as const;
  readonly numClasses = 2;

  constructor(readonly m: number, readonly eps = 1e-9) {
    super();
  }

  forwardSplit(x: Tensor, layer = 'input'): SplitForward {
    this.checkLayer(layer);
    const activation = x.mul(1);
    const s = activation.sum([1, 2, 3]).to('float64');
    const z0 = s.add(this.eps).log();
    const z1 = s.neg().add(this.m + this.eps).log();
    const logits = op('aten::stack', [z0, z1], 1);
    for (const t of [s, z0, z1]) t.dispose();
    return { activation, logits };
  }

  macsAt(): number {
    return 0;
  }
}
