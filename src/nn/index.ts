/**
 * Neural-network building blocks over src/torch: `Module` (named parameters, buffers and children, train/eval
 * modes, strict state dicts with PyTorch's key names), the layers the models are made of, weight initialisers,
 * the optimisers and learning-rate schedule of training, and safetensors reading and writing.
 */
export { Module, StateDictError } from './module.js';
export { Sequential, type Layer } from './sequential.js';
export { Linear } from './linear.js';
export { Conv2d, type Conv2dConfig } from './conv2d.js';
export { BatchNorm2d } from './batch-norm2d.js';
export { LayerNorm, LayerNorm2d } from './layer-norm.js';
export { GRN } from './grn.js';
export { DropPath } from './drop-path.js';
export { keyedDropout, sampleKeys, mix32 } from './keyed-dropout.js';
export { uniform, truncNormal } from './init.js';
export { Optimizer, type OptimizerState, type SlotSpec } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { AdamW, type AdamWOptions } from './adamw.js';
export { CosineSchedule, type CosineScheduleOptions } from './cosine-schedule.js';
export {
  saveSafetensors, loadSafetensors, serializeSafetensors, parseSafetensors, SafetensorsError, MAX_HEADER_BYTES,
  type SafetensorsContents,
} from './safetensors.js';
