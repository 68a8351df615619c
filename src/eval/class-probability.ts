import { noGrad, scope, softmax, type Tensor } from '../torch/index.js';
import type { Classifier } from '../models/classifier.js';

/**
 * softmax(model(x))[i, t_i] for each image: the score faithfulness metrics track (float64 N-vector). Runs without
 * autograd in the model's current mode; callers put the model in eval mode so dropout does not perturb the score.
 */
export function classProbability(model: Classifier, x: Tensor, targets: Tensor): Tensor {
  return noGrad(() => scope(() => softmax(model.forward(x).to('float64'), 1).gather(1, targets.unsqueeze(1)).squeeze(1)));
}
