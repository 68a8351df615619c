import { grad, noGrad, scope, stack, type Tensor } from '../torch/index.js';
import type { Classifier } from '../models/classifier.js';
import { camFromWeights } from './cam-map.js';
import type { CamOptions } from './options.js';

/**
 * The "old method": Grad-CAM one sample at a time, one full backward pass per image (the gradient of z[i, tᵢ] alone,
 * taken through the whole network as `score.backward()` with a hook on the CAM layer does), over a single forward
 * pass so that dropout masks and batch statistics are the ones Batch-CAM sees.
 * Kept as the correctness oracle of `batchCam` and as the speed baseline of the benchmark; not for training.
 */
export function gradCamLoop(model: Classifier, x: Tensor, labels: Tensor | null, o: CamOptions = {}): { cams: Tensor; targets: Tensor } {
  const layer = o.layer ?? model.defaultCamLayer;
  const target = o.target ?? (labels ? 'label' : 'pred');
  if (target === 'label' && !labels) throw new Error('gradCamLoop: target "label" needs labels');
  const size: [number, number] | null = (o.upsample ?? true) ? [x.shape[2]!, x.shape[3]!] : null;
  const params = model.parameters().filter((p) => p.requiresGrad);
  return scope(() => {
    const { activation, logits } = model.forwardSplit(x, layer);
    const targets = target === 'label' ? labels!.clone() : noGrad(() => logits.argmax(1));
    const t = targets.toArray();
    // One scope per sample: each backward's B×K×h×w gradient is freed before the next one is taken.
    const maps = t.map((ti, i) => scope(() => {
      const zi = logits.select(0, i).select(0, ti);
      // A hook-based backward() runs through the whole network (every parameter's gradient), not just down to A.
      const [g, ...paramGrads] = grad(zi, [activation, ...params], { retainGraph: true, allowUnused: true });
      for (const pg of paramGrads) pg?.dispose(); // model-sized: released at once rather than at the sample's end
      const alpha = g!.slice(0, i, i + 1).mean([2, 3], true);
      return camFromWeights(alpha, activation.slice(0, i, i + 1).detach(), o.norm ?? 'max', size).squeeze(0);
    }));
    return { cams: stack(maps), targets };
  });
}
