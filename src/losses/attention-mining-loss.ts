import { noGrad, scope, sigmoid, softmax, type Tensor } from '../torch/index.js';

/** attached: the soft mask stays in the graph (GAIN: the loss also trains the map to cover all evidence); detached: it is a constant. */
export type MiningMask = 'attached' | 'detached';
export const MINING_MASKS: readonly MiningMask[] = ['attached', 'detached'];

/** σ and ω of GAIN's soft threshold, and whether the mask is in the graph. */
export interface AttentionMiningOptions {
  /** Threshold σ on the [0,1] map (GAIN: 0.5). */
  threshold: number;
  /** Sharpness ω of the sigmoid (GAIN: 10). */
  scale: number;
  mask: MiningMask;
}

/**
 * GAIN's attention-mining loss (Li et al., CVPR 2018, eqs. 3–5): erase what the CAM covers and ask that the class
 * evidence go with it,
 *
 *   T(cam)  = sigmoid(ω·(cam − σ))           soft mask of the explained region
 *   x*      = x − T(cam) ⊙ x                 the image with that region erased
 *   L_am    = mean_i softmax(f(x*_i))[y_i]   the class's probability on what the map left out
 *
 * so a model may not keep predicting y from pixels its explanation does not point at (a decoy patch the CAM avoids).
 * GAIN scores with a sigmoid of multi-label logits; with one label per image the softmax probability is the bounded
 * equivalent (a logit could fall without bound). `forward` is the classifier in its current mode (one more forward
 * pass, and its backward, per step); `x` B×C×H×W, `cams` B×H×W in [0,1] at the input's size, `y` B int64.
 */
export function attentionMiningLoss(forward: (x: Tensor) => Tensor, x: Tensor, cams: Tensor, y: Tensor,
  o: AttentionMiningOptions): Tensor {
  if (cams.ndim !== 3 || cams.shape[0] !== x.shape[0] || cams.shape[1] !== x.shape[2] || cams.shape[2] !== x.shape[3]) {
    throw new RangeError(`attentionMiningLoss: expected B×H×W CAMs at the input's size [${x.shape[0]}, ${x.shape[2]}, ${x.shape[3]}], got [${cams.shape}]`);
  }
  return scope(() => {
    const soft = (): Tensor => sigmoid(cams.sub(o.threshold).mul(o.scale)).unsqueeze(1);
    const t = o.mask === 'detached' ? noGrad(soft) : soft();
    const erased = x.sub(t.mul(x));
    return softmax(forward(erased), 1).gather(1, y.unsqueeze(1)).mean();
  });
}
