import { OptionError } from '../config/option-spec.js';
import type { Classifier } from './classifier.js';
import { ConvNeXtV2, type ConvNeXtImageNetSize } from './convnext-v2.js';
import { ResNet } from './resnet.js';
import { ResNet18 } from './resnet18.js';
import { SimpleCNN } from './simple-cnn.js';

/** Model names the CLI and configs accept. */
export const MODEL_NAMES = ['simplecnn', 'resnet18', 'convnextv2-atto', 'convnextv2-tiny',
  'resnet18-imagenet', 'resnet34-imagenet', 'resnet50-imagenet',
  'convnextv2-atto-imagenet', 'convnextv2-femto-imagenet', 'convnextv2-pico-imagenet', 'convnextv2-nano-imagenet', 'convnextv2-tiny-imagenet'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Options of {@link createModel}. */
export interface ModelOptions {
  /** ConvNeXt-V2 stochastic depth rate; default 0. */
  dropPath?: number;
  /** C×H×W of one input image (C ∈ {1, 3}, H, W ≥ 16); default 1×28×28. */
  inputShape?: readonly [number, number, number];
}

/** Refuses images smaller than `min`×`min` for an ImageNet-layout model, naming its 28-px counterpart. */
function requireSide(name: string, h: number, w: number, min: number, small: string): void {
  if (h < min || w < min) {
    throw new OptionError(`--model ${name} needs images of at least ${min}×${min} px (its CAM layer is 1/32 of the input); these are ` +
      `${h}×${w}: use ${small} (built for 28 px) or a larger --image-size`);
  }
}

/** Builds a model by name with freshly initialised weights (seed with manualSeed first for reproducibility). */
export function createModel(name: string, numClasses = 10, opts: ModelOptions = {}): Classifier {
  const [c, h, w] = opts.inputShape ?? [1, 28, 28];
  if (!(c >= 1) || !(h >= 16) || !(w >= 16)) {
    throw new RangeError(`createModel: expected an input of C×H×W with H, W ≥ 16, found ${c}×${h}×${w}`);
  }
  switch (name) {
    case 'simplecnn': return new SimpleCNN(numClasses, c, [h, w]);
    case 'resnet18': return new ResNet18(numClasses, c);
    case 'resnet18-imagenet':
    case 'resnet34-imagenet':
    case 'resnet50-imagenet': {
      // layer4 is the input / 32 (rounded up): below 33 px it is 1×1 and a CAM has no spatial extent.
      requireSide(name, h, w, 33, 'resnet18');
      return new ResNet(Number(name.slice(6, 8)) as 18 | 34 | 50, numClasses, c);
    }
    case 'convnextv2':
    case 'convnextv2-atto': return new ConvNeXtV2(numClasses, 'atto', c, opts.dropPath ?? 0);
    case 'convnextv2-tiny': return new ConvNeXtV2(numClasses, 'tiny', c, opts.dropPath ?? 0);
    case 'convnextv2-atto-imagenet':
    case 'convnextv2-femto-imagenet':
    case 'convnextv2-pico-imagenet':
    case 'convnextv2-nano-imagenet':
    case 'convnextv2-tiny-imagenet': {
      // stage4 is the input / 32 (rounded down): below 64 px it is 1×1.
      requireSide(name, h, w, 64, 'convnextv2-atto');
      return new ConvNeXtV2(numClasses, name.split('-')[1] as ConvNeXtImageNetSize, c, opts.dropPath ?? 0, 'imagenet');
    }
    default:
      throw new Error(`unknown model '${name}'; choose one of: ${MODEL_NAMES.join(', ')} (convnextv2 = convnextv2-atto)`);
  }
}
