/** The three classifiers of docs/method.md §6, each splittable at its CAM layers. */
export { Classifier, type SplitForward } from './classifier.js';
export { SimpleCNN } from './simple-cnn.js';
export { ResNet18 } from './resnet18.js';
export { BasicBlock, Bottleneck, type BlockOptions } from './resnet-blocks.js';
export { ResNet, RESNET_DEPTHS, type ResNetDepth } from './resnet.js';
export { ConvNeXtV2, ConvNeXtBlock, CONVNEXT_SIZES, CONVNEXT_IMAGENET_SIZES, type ConvNeXtSize, type ConvNeXtImageNetSize, type ConvNeXtLayout } from './convnext-v2.js';
export { createModel, MODEL_NAMES, type ModelName } from './registry.js';
