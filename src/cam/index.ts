/** Batch-CAM (vectorised Grad-CAM) and its per-sample oracle. */
export { batchCam, type BatchCamResult } from './batch-cam.js';
export { gradCamLoop } from './grad-cam-loop.js';
export { camFromWeights } from './cam-map.js';
export * from './options.js';
