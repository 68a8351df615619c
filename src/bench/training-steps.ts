import { backward, crossEntropy, noGrad, rand, randint, randn, scope, type Tensor } from '../torch/index.js';
import { AdamW } from '../nn/adamw.js';
import type { Classifier } from '../models/classifier.js';
import { batchCam } from '../cam/batch-cam.js';
import { gradCamLoop } from '../cam/grad-cam-loop.js';
import { batchCamLoss } from '../losses/batch-cam-loss.js';
import { PrototypeBank } from '../losses/prototype-bank.js';
import type { ForwardContext } from '../nn/forward-context.js';
import { sampleKeys } from '../nn/keyed-dropout.js';
import { objective } from '../train/objective.js';
import { defaultConfig, resolveConfig } from '../train/options.js';
import { probeClasses, probeSnapshot } from '../train/probes.js';

/** A benchmark mode: what one timed step does. */
export type BenchMode =
  | 'train' // CE + Adam, as torch_reference.py 'train'
  | 'cam2' | 'cam1' // CE + the reference's Batch-CAM L2 regulariser (min-max, no upsampling, attached class mean), second order / detached
  | 'full2' | 'full1' // the training objective with both regularisers (SSIM, upsampled, max-normalised), second order / detached: the reference's full2 / full1
  // The anti-collapse objectives of docs/method.md §5.1 (ours; the reference has no equivalent), second order, SSIM:
  | 'image-proto' // the recommended setting: Prototype Loss against the class-mean images (--prototype-source image)
  | 'proto-contrast' // + the contrastive Prototype Loss against the same image bank (λpc)
  | 'batch-contrast' // CE + the contrastive Batch-CAM Loss (λbc)
  | 'background' // CE + the background term (λbg)
  | 'image-mining' // the image-target Prototype Loss + GAIN's attention mining (λam; one more forward/backward)
  | 'infer' // eval-mode forward without autograd
  | 'probe' // one pass of the CAM timeline (batchcam train --probe-every): Batch-CAM + predictions of the default probe set
  | 'explain-batch' | 'explain-loop'; // 64 explanations: Batch-CAM vs the per-sample loop

export const BENCH_MODES: readonly BenchMode[] = ['train', 'cam2', 'cam1', 'full2', 'full1', 'image-proto', 'proto-contrast',
  'batch-contrast', 'background', 'image-mining', 'infer', 'probe', 'explain-batch', 'explain-loop'];

/** The labels of one probe pass of {@link makeStep}'s 'probe' mode: the probe set `batchcam train` draws by default. */
export function probeLabels(numClasses: number): number[] {
  const perClass = defaultConfig().probesPerClass;
  return Array.from({ length: probeClasses(numClasses, perClass) * perClass }, (_, i) => Math.floor(i / perClass));
}

/**
 * Builds the step closure of a mode on a fixed random batch (like the reference: random inputs of `shape`, 1×28×28
 * unless an ImageNet-size model is timed), on the model's device. On a GPU each step ends by reading one value back, so a timed step includes its queued kernels
 * (the reference calls torch.cuda.synchronize).
 */
export function makeStep(model: Classifier, mode: BenchMode, layer: string, batch: number, lam = 0.1,
  shape: readonly [number, number, number] = [1, 28, 28]): () => void {
  const device = model.device;
  const step = makeDeviceStep(model, mode, layer, batch, lam, device, shape);
  if (device === 'cpu') return step;
  const probe = model.parameters()[0]!;
  return () => {
    step();
    scope(() => probe.reshape([-1]).slice(0, 0, 1).item());
  };
}

function makeDeviceStep(model: Classifier, mode: BenchMode, layer: string, batch: number, lam: number, device: string,
  [c, h, w]: readonly [number, number, number]): () => void {
  const x = randn([batch, c, h, w], { device });
  const y = randint(0, model.numClasses, [batch], { device });
  const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0 });
  const camOnly = mode === 'batch-contrast' || mode === 'background';
  const imageBank = mode === 'image-proto' || mode === 'proto-contrast' || mode === 'image-mining';
  // The image bank from non-negative random "training images" (the step's cost does not depend on their content).
  const bank = imageBank
    ? scope(() => PrototypeBank.fromImages(rand([10 * batch, c, h, w], { device }), randint(0, model.numClasses, [10 * batch], { device }), model.numClasses))
    : camOnly ? null : new PrototypeBank({ numClasses: model.numClasses, height: h, width: w, device });
  // Dropout as `batchcam train` draws it: masks keyed per sample from (seed, step, dataset index), a new step each time.
  const indices = Array.from({ length: batch }, (_, i) => i);
  let stepNo = 0;
  let forward: ForwardContext = {};
  const trainStep = (loss: () => Tensor): void => scope(() => {
    model.train();
    forward = { sampleKeys: sampleKeys(0, stepNo++, indices) };
    opt.zeroGrad();
    backward(loss());
    opt.step();
  });
  const objectiveStep = (partial: Record<string, unknown>): () => void => {
    // Exactly the training objective (trainer's code path).
    const cfg = resolveConfig({ camLayer: layer, ...partial });
    return () => trainStep(() => objective(model, x, y, cfg, bank, { epoch: 0, step: 0 }, undefined, forward).loss);
  };
  switch (mode) {
    case 'train':
      return () => trainStep(() => crossEntropy(model.forward(x, forward), y));
    case 'cam2':
    case 'cam1':
      return () => trainStep(() => {
        const { cams, logits } = batchCam(model, x, y, { layer, grad: mode === 'cam2' ? 'second-order' : 'detached', norm: 'minmax', upsample: false }, forward);
        return crossEntropy(logits, y).add(batchCamLoss(cams, y, 'l2', { means: 'attached' }), lam);
      });
    case 'full2':
    case 'full1':
      return objectiveStep({ lambdaProto: lam, lambdaBatch: lam, camGrad: mode === 'full2' ? 'second-order' : 'detached' });
    case 'image-proto':
      return objectiveStep({ lambdaProto: 1, prototypeSource: 'image' });
    case 'proto-contrast':
      return objectiveStep({ lambdaProto: 1, prototypeSource: 'image', lambdaProtoContrast: lam });
    case 'batch-contrast':
      return objectiveStep({ lambdaBatchContrast: lam });
    case 'background':
      return objectiveStep({ lambdaBackground: lam });
    case 'image-mining':
      return objectiveStep({ lambdaProto: 1, prototypeSource: 'image', lambdaMining: 1 });
    case 'infer':
      return () => scope(() => {
        model.eval();
        noGrad(() => model.forward(x));
      });
    case 'probe': {
      const labels = probeLabels(model.numClasses);
      const probes = rand([labels.length, c, h, w], { device });
      const norm = defaultConfig().camNorm;
      return () => scope(() => void probeSnapshot(model, probes, labels, layer, norm));
    }
    case 'explain-batch':
      return () => scope(() => {
        model.eval();
        batchCam(model, x, null, { layer, grad: 'detached' });
      });
    case 'explain-loop':
      return () => scope(() => {
        model.eval();
        gradCamLoop(model, x, null, { layer });
      });
  }
}
