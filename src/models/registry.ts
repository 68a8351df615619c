import type { Classifier } from './classifier.js';
import { ConvNeXtV2 } from './convnext-v2.js';
import { ResNet18 } from './resnet18.js';
import { SimpleCNN } from './simple-cnn.js';

/** Model names the CLI and configs accept. */
export const MODEL_NAMES = ['simplecnn', 'resnet18', 'convnextv2-atto', 'convnextv2-tiny'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Builds a model by name with freshly initialised weights (seed with manualSeed first for reproducibility). */
export function createModel(name: string, numClasses = 10, opts: { dropPath?: number } = {}): Classifier {
  switch (name) {
    case 'simplecnn': return new SimpleCNN(numClasses);
    case 'resnet18': return new ResNet18(numClasses);
    case 'convnextv2':
    case 'convnextv2-atto': return new ConvNeXtV2(numClasses, 'atto', 1, opts.dropPath ?? 0);
    case 'convnextv2-tiny': return new ConvNeXtV2(numClasses, 'tiny', 1, opts.dropPath ?? 0);
    default:
      throw new Error(`unknown model '${name}'; choose one of: ${MODEL_NAMES.join(', ')} (convnextv2 = convnextv2-atto)`);
  }
}
