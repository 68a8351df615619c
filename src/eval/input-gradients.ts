import { enableGrad, grad, logSoftmax, scope, type Tensor } from '../torch/index.js';
import type { Classifier } from '../models/classifier.js';

/**
 * The input-gradient explanation of "Right for the Right Reasons" (Ross et al. 2017), the explainer the XIL typology
 * scores RRR with: ∂/∂x Σ_k log softmax(f(x))_k, summed over the input channels. `x` B×C×H×W; returns B×H×W, outside
 * autograd. Runs in the model's current mode (evaluate uses eval mode).
 */
export function inputGradients(model: Classifier, x: Tensor): Tensor {
  return enableGrad(() => scope(() => {
    const xi = x.detach().requiresGrad_();
    const total = logSoftmax(model.forward(xi), 1).sum();
    const [g] = grad(total, [xi]);
    return g!.sum([1]).detach();
  }));
}
