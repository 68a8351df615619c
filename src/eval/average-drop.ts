import { noGrad, scope, type Tensor } from '../torch/index.js';
import type { Classifier } from '../models/classifier.js';
import { classProbability } from './class-probability.js';

/**
 * Per-image drop of Chattopadhay et al. 2018 (Grad-CAM++): max(0, Y − O) / Y, where Y is the explained class's
 * softmax probability on the image and O on the image masked by its map, x ⊙ cam (in the model's input units:
 * baseline + (x − baseline)·cam, so a 0 in the map means black). The Average Drop is the mean of this N-vector,
 * a fraction (the paper reports it ×100 as a percentage); lower is better. `x` N×C×H×W, `cams` N×H×W in [0,1].
 */
export function averageDrop(model: Classifier, x: Tensor, cams: Tensor, targets: Tensor, o: { baseline?: number | Tensor } = {}): Tensor {
  const [n, , h, w] = x.shape as [number, number, number, number];
  if (cams.ndim !== 3 || cams.shape.join(',') !== `${n},${h},${w}`) {
    throw new RangeError(`averageDrop: expected ${n}×${h}×${w} maps for images [${x.shape}], got [${cams.shape}]`);
  }
  const baseline = o.baseline ?? 0;
  return noGrad(() => scope(() => {
    const y = classProbability(model, x, targets);
    const masked = x.sub(baseline).mul(cams.unsqueeze(1).to(x.dtype)).add(baseline);
    const m = classProbability(model, masked, targets);
    return y.sub(m).clamp(0).div(y.clamp(1e-12));
  }));
}
