import { backward, crossEntropy, noGrad, randint, randn, scope, type Tensor } from '../torch/index.js';
import { AdamW } from '../nn/adamw.js';
import type { Classifier } from '../models/classifier.js';
import { batchCam } from '../cam/batch-cam.js';
import { gradCamLoop } from '../cam/grad-cam-loop.js';
import { batchCamLoss } from '../losses/batch-cam-loss.js';
import { PrototypeBank } from '../losses/prototype-bank.js';
import { objective } from '../train/objective.js';
import { resolveConfig } from '../train/options.js';

/** A benchmark mode: what one timed step does. */
export type BenchMode =
  | 'train' // CE + Adam, as torch_reference.py 'train'
  | 'cam2' | 'cam1' // CE + the reference's Batch-CAM L2 regulariser (min-max, no upsampling, attached class mean), second order / detached
  | 'full2' | 'full1' // the training objective with both regularisers (SSIM, upsampled, max-normalised), second order / detached
  | 'infer' // eval-mode forward without autograd
  | 'explain-batch' | 'explain-loop'; // 64 explanations: Batch-CAM vs the per-sample loop

/** Builds the step closure of a mode on a fixed random batch (like the reference: random 1×28×28 inputs). */
export function makeStep(model: Classifier, mode: BenchMode, layer: string, batch: number, lam = 0.1): () => void {
  const x = randn([batch, 1, 28, 28]);
  const y = randint(0, model.numClasses, [batch]);
  const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0 });
  const bank = new PrototypeBank({ numClasses: model.numClasses, height: 28, width: 28 });
  const trainStep = (loss: () => Tensor): void => scope(() => {
    model.train();
    opt.zeroGrad();
    backward(loss());
    opt.step();
  });
  switch (mode) {
    case 'train':
      return () => trainStep(() => crossEntropy(model.forward(x), y));
    case 'cam2':
    case 'cam1':
      return () => trainStep(() => {
        const { cams, logits } = batchCam(model, x, y, { layer, grad: mode === 'cam2' ? 'second-order' : 'detached', norm: 'minmax', upsample: false });
        return crossEntropy(logits, y).add(batchCamLoss(cams, y, 'l2', { target: 'attached' }), lam);
      });
    case 'full2':
    case 'full1': {
      // Exactly the training objective (trainer's code path), with both regularisers on.
      const cfg = resolveConfig({ lambdaProto: lam, lambdaBatch: lam, camLayer: layer, camGrad: mode === 'full2' ? 'second-order' : 'detached' });
      return () => trainStep(() => objective(model, x, y, cfg, bank, { epoch: 0, step: 0 }).loss);
    }
    case 'infer':
      return () => scope(() => {
        model.eval();
        noGrad(() => model.forward(x));
      });
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
