/** The CAM regularisers of docs/method.md §2–§4: map distances (L1, L2, SSIM), the prototype bank and its loss, and the Batch-CAM loss. */
export { type Distance, DISTANCES, parseDistance, distance, distances, meanDistance } from './distance.js';
export { type SsimOptions, ssim, ssimMap, ssimMaps, gaussianTaps } from './ssim.js';
export { MapComparer, type MapDistance, mapDistance } from './map-comparer.js';
export { classMapSums, classMeanMaps, classMeansFromSums, type ClassMapSums, type ClassSumsOptions } from './class-means.js';
export { PrototypeBank, type PrototypeBankOptions, type PrototypeSource, PROTOTYPE_SOURCES, PROTOTYPE_STATE_KEYS, isImageSource } from './prototype-bank.js';
export { prototypeLoss } from './prototype-loss.js';
export { type ReferenceMaps, meanOverEligible } from './reference-maps.js';
export { batchCamLoss, type BatchCamLossOptions, type BatchMeans, BATCH_MEANS } from './batch-cam-loss.js';
export { classContrastLoss, batchClassMeans } from './class-contrast-loss.js';
export { backgroundLoss } from './background-loss.js';
export { attentionMiningLoss, type AttentionMiningOptions, type MiningMask, MINING_MASKS } from './attention-mining-loss.js';
