import { BatchNorm2d } from '../nn/batch-norm2d.js';
import type { Classifier } from '../models/classifier.js';
import type { TrainConfig } from './options.js';

/**
 * Puts the model in training mode as the config asks: everything in training mode, except BatchNorm with
 * `--freeze-bn`, which stays in eval mode (normalises with its running statistics and leaves them as they are, as a
 * pretrained backbone is fine-tuned with torchvision's or detectron's frozen batch norm).
 */
export function trainMode(model: Classifier, cfg: Pick<TrainConfig, 'freezeBn'>): void {
  model.train();
  if (cfg.freezeBn) for (const [, m] of model.namedModules()) if (m instanceof BatchNorm2d) m.eval();
}
