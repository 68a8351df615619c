import { fromArray, scope, softmax, toDeviceAsync } from '../torch/index.js';
import { batchCam } from '../cam/batch-cam.js';
import type { CamNorm, CamTarget } from '../cam/options.js';
import type { Classifier } from '../models/classifier.js';
import { camRaster, greyRaster, overlayRaster } from './colormap.js';
import { tileImages } from './image-grid.js';
import type { RasterImage } from './png.js';
import { standardiseInPlace, type Normalisation } from '../data/preprocess/normalisation.js';

/** What {@link explainImages} explains and how. */
export interface ExplainOptions {
  /** CAM layer; default the model's. */
  layer?: string;
  /** Class each CAM explains: the prediction, or the label (needs labels). */
  target: CamTarget;
  /** Per-sample normalisation; default 'max', as in training. */
  norm?: CamNorm;
  /** Images per Batch-CAM call; default 64 (one autograd call per chunk). */
  batchSize?: number;
  /** Channels of each image (1 or 3); default 1. */
  channels?: number;
}

/** Per image: its H·W CAM in [0,1], prediction, explained class and class probabilities. */
export interface ImageExplanation {
  cam: Float32Array;
  pred: number;
  target: number;
  probabilities: number[];
}

/**
 * Batch-CAM of n C×H×W images (C = `o.channels`, default 1) given in the model's input units (`x`, n·C·H·W values),
 * in chunks, on the model's device (chunks copied there as training batches are; results read back once per chunk).
 * Runs the model in its current mode (callers put it in eval mode) and frees every tensor it makes.
 */
export function explainImages(model: Classifier, x: Float32Array, n: number, height: number, width: number,
  labels: readonly number[] | null, o: ExplainOptions): ImageExplanation[] {
  const hw = height * width;
  const c = o.channels ?? 1;
  const size = c * hw;
  if (x.length !== n * size) throw new Error(`explainImages: ${x.length} values for ${n} images of ${c}×${height}×${width}`);
  if (o.target === 'label' && (!labels || labels.length !== n)) throw new Error('explainImages: target "label" needs one label per image');
  const bs = o.batchSize ?? 64;
  const device = model.device;
  const out: ImageExplanation[] = [];
  for (let s = 0; s < n; s += bs) {
    const e = Math.min(n, s + bs);
    const chunk = scope(() => {
      const xt = toDeviceAsync(fromArray(x.slice(s * size, e * size), [e - s, c, height, width]), device);
      const yt = labels ? toDeviceAsync(fromArray(BigInt64Array.from(labels.slice(s, e), (v) => BigInt(v)), [e - s]), device) : null;
      // 'detached': inference needs the maps' values only, not a graph through α (same values, less memory).
      const r = batchCam(model, xt, yt, { layer: o.layer, target: o.target, norm: o.norm ?? 'max', grad: 'detached' });
      return {
        cams: r.cams.detach().toFloat32(),
        preds: r.logits.argmax(1).toArray(),
        targets: r.targets.toArray(),
        probs: softmax(r.logits.detach(), 1).toFloat32(),
        classes: r.logits.shape[1]!,
      };
    });
    for (let i = 0; i < e - s; i++) {
      out.push({
        cam: chunk.cams.slice(i * hw, (i + 1) * hw),
        pred: chunk.preds[i]!,
        target: chunk.targets[i]!,
        probabilities: Array.from(chunk.probs.subarray(i * chunk.classes, (i + 1) * chunk.classes)),
      });
    }
  }
  return out;
}

/**
 * Images in [0,1] (n·C·H·W values) in the model's input units: standardised per channel with the training
 * mean/std when the run was (`normalisation`; `plane` = H·W), else as they are. What `batchcam explain --image` and `batchcam serve` feed {@link explainImages}.
 */
export function modelInput(images: Float32Array, normalisation: Normalisation | null, plane: number): Float32Array {
  return normalisation ? standardiseInPlace(images.slice(), normalisation, plane) : images.slice();
}

/** One explanation figure: input | CAM (jet) | overlay, upscaled by `scale` with a white gap between. */
export function explanationStrip(grey: ArrayLike<number>, cam: ArrayLike<number>, width: number, height: number, o: { scale?: number; alpha?: number } = {}): RasterImage {
  return tileImages([greyRaster(grey, width, height), camRaster(cam, width, height), overlayRaster(grey, cam, width, height, o.alpha ?? 0.5)],
    { scale: o.scale ?? 4, spacing: 2 });
}
