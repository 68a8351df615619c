import { enableGrad, grad, isGradEnabled, noGrad, scope, type Tensor } from '../torch/index.js';
import type { Classifier } from '../models/classifier.js';
import type { ForwardContext } from '../nn/forward-context.js';
import { camFromWeights } from './cam-map.js';
import type { CamOptions } from './options.js';

/** Batch-CAM of a batch, with what produced it. */
export interface BatchCamResult {
  /** B×H×W maps in [0,1] (B×h×w without upsampling). */
  cams: Tensor;
  /** B×C logits of the same forward pass (in the graph: a training step reuses them for CE). */
  logits: Tensor;
  /** B int64 classes the maps explain. */
  targets: Tensor;
}

/**
 * Grad-CAM for the whole batch with ONE autograd call (docs/method.md §1): s = Σᵢ z[i, tᵢ], G = ∂s/∂A, α = mean_hw G,
 * cam = ReLU(Σ_k α_k A_k). Exact per sample while the model's head has no cross-sample op in its current mode
 * (`model.headIsPerSample(layer)`); the model's mode is left as it is and no hooks are installed.
 * Called under `noGrad` (explanations at inference) it switches autograd on for itself and computes detached maps.
 * `ctx` is passed to the forward pass (a training step's dropout keys and data-parallel batch-norm shards).
 */
export function batchCam(model: Classifier, x: Tensor, labels: Tensor | null, o: CamOptions = {}, ctx: ForwardContext = {}): BatchCamResult {
  if (!isGradEnabled()) return enableGrad(() => batchCam(model, x, labels, { ...o, grad: 'detached' }, ctx));
  const layer = o.layer ?? model.defaultCamLayer;
  const target = o.target ?? (labels ? 'label' : 'pred');
  const secondOrder = (o.grad ?? 'second-order') === 'second-order';
  if (target === 'label' && !labels) throw new Error('batchCam: target "label" needs labels');
  const size: [number, number] | null = (o.upsample ?? true) ? [x.shape[2]!, x.shape[3]!] : null;
  return scope(() => {
    const { activation, logits, pooled } = model.forwardSplit(x, layer, ctx);
    const targets = target === 'label' ? labels!.clone() : noGrad(() => logits.argmax(1));
    const score = logits.gather(1, targets.unsqueeze(1)).sum();
    // retainGraph: a training step back-propagates CE (and the CAM loss) through the same forward graph afterwards.
    // α = mean_hw ∂s/∂A, summed from the pooled tensor's gradient where the model has one (the same sum, see SplitForward).
    const [g] = grad(score, [pooled ?? activation], { createGraph: secondOrder, retainGraph: true });
    const alpha = pooled ? g!.sum([2, 3], true).div(activation.shape[2]! * activation.shape[3]!) : g!.mean([2, 3], true);
    const cams = camFromWeights(secondOrder ? alpha : alpha.detach(), activation, o.norm ?? 'max', size);
    return { cams, logits, targets };
  });
}
