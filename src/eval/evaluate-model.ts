import { cat, fromArray, noGrad, scope, stack, toDeviceAsync, type AnyTypedArray, type Tensor } from '../torch/index.js';
import { batchCam } from '../cam/batch-cam.js';
import type { CamNorm } from '../cam/options.js';
import type { Classifier } from '../models/classifier.js';
import type { LoadedDataset, SplitData } from '../data/dataset.js';
import { gatherRows } from '../data/sampling/gather-rows.js';
import { DECOY_PATCH_SIZE } from '../data/builtin/decoy.js';
import { DISTANCES } from '../losses/distance.js';
import { averageDrop } from './average-drop.js';
import { classMeans, classSums, meansFromSums, scaleByMax, type ClassSums } from './class-means.js';
import { blackValues } from '../data/preprocess/normalisation.js';
import { summariseByClass } from './class-summary.js';
import { coherence } from './coherence.js';
import { decoyEnergy } from './decoy-energy.js';
import { deletionInsertion } from './deletion-insertion.js';
import { EVALUATE_DEFAULTS, type EvaluateSettings } from './evaluate-options.js';
import { groupAccuracy } from './group-accuracy.js';
import type { BiasEvaluation, DecoyEvaluation, Evaluation, FaithfulnessEvaluation, Figures } from './evaluation.js';
import { figureSamples, mapRows, pickSamples } from './figures.js';
import { mapShape } from './map-shape.js';
import { reconstruction } from './reconstruction.js';
import { classSpecificity } from './class-specificity.js';
import { inputGradients } from './input-gradients.js';
import { wrongReason } from './wrong-reason.js';

/**
 * Options of {@link evaluateModel}: the settings of EVALUATE_OPTIONS with their defaults (`testLimit` and `device`
 * aside, which pick the data and move the model: see `evaluateCheckpoint`), and what only a library call passes, defaults in brackets.
 */
export interface EvaluateOptions extends Partial<Omit<EvaluateSettings, 'testLimit' | 'device'>> {
  /** CAM layer [the model's default]. */
  layer?: string;
  /** CAM normalisation [max]; use the training run's. */
  norm?: CamNorm;
  /** Images per Batch-CAM / forward batch [128]. */
  batchSize?: number;
  /** Misclassified figure samples [12]. */
  maxMisclassified?: number;
  /** A prototype bank's state (checkpoint `bank.*`) for the figures. */
  bank?: { prototypes: Tensor; initialised?: Tensor } | null;
  /** Names recorded in the result [the dataset's name, the model's class name, null]. */
  dataset?: string;
  model?: string;
  checkpoint?: string | null;
  /** Called after each CAM batch with (images done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** The evaluation set's CAMs and predictions, all N at once (N×H×W float32 maps are small: 31 MB for 10 000). */
interface CamPass {
  cams: Tensor;
  logits: Tensor;
  targets: Tensor;
}

/** Chunk of the training split per class-sum call when building the mean images. */
const MEAN_IMAGE_CHUNK = 8192;

/** Host data as a tensor on `device`, through the same pinned, non-blocking copy as training batches. */
function onDevice(data: AnyTypedArray, shape: readonly number[], device: string): Tensor {
  return toDeviceAsync(fromArray(data, shape), device);
}

function camPass(model: Classifier, split: SplitData, o: EvaluateOptions): CamPass {
  const [c, h, w] = split.imageShape;
  const bs = o.batchSize ?? 128;
  const device = model.device;
  const parts: CamPass[] = [];
  for (let s = 0; s < split.n; s += bs) {
    const e = Math.min(split.n, s + bs);
    // One scope per batch: the batch's graph and activations are freed at once, so memory stays flat.
    parts.push(scope(() => {
      const x = onDevice(split.images.subarray(s * c * h * w, e * c * h * w), [e - s, c, h, w], device);
      const y = onDevice(split.labels.subarray(s, e), [e - s], device);
      // detached: α is a constant at evaluation, so no second-order graph is built.
      const r = batchCam(model, x, y, { layer: o.layer, target: o.camTarget ?? EVALUATE_DEFAULTS.camTarget, norm: o.norm, grad: 'detached' });
      return { cams: noGrad(() => r.cams.detach()), logits: noGrad(() => r.logits.detach()), targets: r.targets };
    }));
    o.onProgress?.(e, split.n);
  }
  const all = { cams: cat(parts.map((p) => p.cams)), logits: cat(parts.map((p) => p.logits)), targets: cat(parts.map((p) => p.targets)) };
  for (const p of parts) for (const t of [p.cams, p.logits, p.targets]) t.dispose();
  return all;
}

/** Applies `fn` to the images of `split` (or `images`, laid out like them) in batches, concatenating the results. */
function mapBatches(split: SplitData, bs: number, device: string, fn: (x: Tensor) => Tensor, images: Float32Array = split.images): Tensor {
  const [c, h, w] = split.imageShape;
  const parts: Tensor[] = [];
  for (let s = 0; s < split.n; s += bs) {
    const e = Math.min(split.n, s + bs);
    parts.push(scope(() => fn(onDevice(images.subarray(s * c * h * w, e * c * h * w), [e - s, c, h, w], device))));
  }
  return scope(() => cat(parts));
}

/**
 * Class-mean training images scaled to [0,1] by their max (classes×H×W), from the raw uint8 pixels in chunks; colour
 * images by their intensity, the mean over channels.
 */
function meanTrainImages(train: SplitData, numClasses: number, device: string): Tensor {
  const [c, h, w] = train.imageShape;
  const size = c * h * w;
  return scope(() => {
    let acc: ClassSums | null = null;
    for (let s = 0; s < train.n; s += MEAN_IMAGE_CHUNK) {
      const e = Math.min(train.n, s + MEAN_IMAGE_CHUNK);
      const part = scope(() => classSums(
        c === 1
          ? onDevice(train.pixels.subarray(s * size, e * size), [e - s, h, w], device)
          : noGrad(() => onDevice(train.pixels.subarray(s * size, e * size), [e - s, c, h, w], device).to('float64').mean([1])),
        onDevice(train.labels.subarray(s, e), [e - s], device), numClasses));
      acc = acc ? scope(() => ({ sums: acc!.sums.add(part.sums), counts: acc!.counts.add(part.counts) })) : part;
    }
    return scaleByMax(meansFromSums(acc!));
  });
}

/** Evenly spaced positions k·N/m, k < m: a deterministic subset that covers the whole (label-sorted or not) set. */
function spread(n: number, m: number): number[] {
  return Array.from({ length: Math.min(n, m) }, (_, k) => Math.floor((k * n) / Math.min(n, m)));
}

function faithfulness(model: Classifier, split: SplitData, pass: CamPass, black: readonly number[], o: EvaluateOptions): FaithfulnessEvaluation {
  const steps = o.steps ?? EVALUATE_DEFAULTS.steps;
  const insertionStart = o.insertionStart ?? EVALUATE_DEFAULTS.insertionStart;
  const positions = spread(split.n, o.faithfulnessN ?? EVALUATE_DEFAULTS.faithfulnessN);
  if (positions.length === 0) return { n: 0, steps, insertionStart, deletionAuc: NaN, insertionAuc: NaN, averageDrop: NaN };
  const [c, h, w] = split.imageShape;
  const bs = o.batchSize ?? 128;
  let del = 0;
  let ins = 0;
  let drop = 0;
  for (let s = 0; s < positions.length; s += bs) {
    const rows = positions.slice(s, s + bs);
    scope(() => {
      // A black pixel's input value: one number, or one per channel (per-channel normalisation) broadcast over N, H, W.
      const baseline = black.every((v) => v === black[0]) ? black[0]! : onDevice(Float32Array.from(black), [1, c, 1, 1], model.device);
      const idx = fromArray(BigInt64Array.from(rows, BigInt), [rows.length], { device: pass.cams.device });
      const x = onDevice(gatherRows(split.images, rows, c * h * w), [rows.length, c, h, w], model.device);
      const cams = pass.cams.indexSelect(0, idx);
      const t = pass.targets.indexSelect(0, idx);
      const r = deletionInsertion(model, x, cams, t, { steps, baseline, insertionStart });
      const a = averageDrop(model, x, cams, t, { baseline });
      // The three sums read back in one transfer (float64 holds each float32 sum exactly, as item() does).
      const [d, i, dr] = stack([r.deletion.sum(), r.insertion.sum(), a.sum()].map((v) => v.to('float64'))).toArray() as [number, number, number];
      del += d;
      ins += i;
      drop += dr;
    });
  }
  const n = positions.length;
  return { n, steps, insertionStart, deletionAuc: del / n, insertionAuc: ins / n, averageDrop: drop / n };
}

/**
 * Evaluates a classifier and its explanations on `data.test` (docs/method.md §7) and returns evaluation.json's object:
 * accuracy (overall, per class); coherence and reconstruction for l1, l2 and ssim; map coverage and contrast; decoy energy and accuracy on decoy
 * datasets; group accuracies, the bias-aligned accuracy and the CAM mass on the bias region on datasets with a known bias; deletion/insertion AUC and Average Drop on `faithfulnessN` images; and the report's figure data.
 * Batch-CAM runs in eval mode on batches of 128 inside `scope()`, explaining the predicted class unless `camTarget`
 * says 'label'. Everything runs on the model's device (`model.device`): the batches are copied there as training's
 * are, the metrics are computed there and read back once per batch or once at the end. The model is left in eval
 * mode. Deterministic: no randomness is drawn.
 */
export function evaluateModel(model: Classifier, data: LoadedDataset, o: EvaluateOptions = {}): Evaluation {
  const test = data.test;
  const numClasses = data.info.numClasses;
  const [, h, w] = test.imageShape;
  if (test.n === 0) throw new RangeError('evaluateModel: the test split is empty');
  model.eval();
  const device = model.device;
  return scope(() => {
    const pass = camPass(model, test, o);
    const labels = onDevice(test.labels, [test.n], device);
    const predsT = noGrad(() => pass.logits.argmax(1));
    const preds = predsT.toArray();
    const correct = noGrad(() => predsT.eq(labels).to('float64'));
    const acc = summariseByClass(correct, labels, numClasses);

    const meanImages = meanTrainImages(data.train, numClasses, device);
    const coh = coherence(pass.cams, labels, numClasses, DISTANCES);
    const rec = reconstruction(pass.cams, labels, meanImages, numClasses, DISTANCES);
    const shape = mapShape(pass.cams);
    const maps = { coverage: summariseByClass(shape.coverage, labels, numClasses), contrast: summariseByClass(shape.contrast, labels, numClasses) };
    const specificity = classSpecificity(pass.cams, labels, numClasses, DISTANCES);

    const bs = o.batchSize ?? 128;
    // Accuracy on another version of the test images (without the decoy patch, with every bias aligned), laid out like them.
    const accuracyOn = (images: Float32Array): number => noGrad(() => scope(() =>
      mapBatches(test, bs, device, (x) => model.forward(x).argmax(1), images).eq(labels).to('float64').mean().item()));

    let decoy: DecoyEvaluation | null = null;
    if (test.decoy) {
      const masks = onDevice(test.decoy.masks, [test.n, h, w], device);
      const energy = summariseByClass(decoyEnergy(pass.cams, masks), labels, numClasses);
      let agree = 0;
      for (let i = 0; i < test.n; i++) if (preds[i] === test.decoy.decoyLabels[i]) agree++;
      const cleanAccuracy = test.cleanImages ? accuracyOn(test.cleanImages) : NaN;
      decoy = {
        energy: energy.mean, energyPerClass: energy.perClass, uniformEnergy: (DECOY_PATCH_SIZE * DECOY_PATCH_SIZE) / (h * w),
        accuracy: acc.mean, decoyLabelRate: agree / test.n, cleanAccuracy, accuracyGap: cleanAccuracy - acc.mean,
        wrongReasonGradCam: wrongReason(pass.cams, masks),
        wrongReasonInputGradient: wrongReason(mapBatches(test, bs, device, (x) => inputGradients(model, x)), masks),
      };
    }

    let bias: BiasEvaluation | null = null;
    if (test.bias) {
      const groups = groupAccuracy(preds, test.classes, test.bias.attributes, numClasses);
      const biasedAccuracy = test.alignedImages ? accuracyOn(test.alignedImages) : NaN;
      let biasMass: number | null = null;
      let uniformBiasMass: number | null = null;
      if (test.bias.masks) {
        const masks = onDevice(test.bias.masks, [test.n, h, w], device);
        // decoyEnergy is the masked share of CAM mass for any mask, not only a decoy patch.
        biasMass = noGrad(() => decoyEnergy(pass.cams, masks).mean().item());
        uniformBiasMass = noGrad(() => masks.to('float64').mean().item());
      }
      bias = {
        region: test.bias.region, accuracy: acc.mean, alignedAccuracy: groups.aligned, conflictingAccuracy: groups.conflicting,
        worstGroupAccuracy: groups.worstGroup, worstGroup: groups.worst, groups: groups.groups, biasedAccuracy, biasMass, uniformBiasMass,
      };
    }

    const faith = faithfulness(model, test, pass, blackValues(data.normalisation, test.imageShape[0]), o);

    const { means: meanCams, counts } = classMeans(pass.cams, labels, numClasses);
    const present = counts.toArray().map((c) => c > 0);
    const classRows = Array.from({ length: numClasses }, (_, c) => c);
    const camRows = mapRows(meanCams, classRows);
    let bankPrototypes: (number[] | null)[] | null = null;
    if (o.bank) {
      const init = o.bank.initialised ? o.bank.initialised.toArray().map((v) => v !== 0) : classRows.map(() => true);
      bankPrototypes = mapRows(o.bank.prototypes, classRows).map((p, c) => (init[c] ? p : null));
    }
    const picked = pickSamples(test.classes, preds, numClasses, o.samplesPerClass ?? EVALUATE_DEFAULTS.samplesPerClass, o.maxMisclassified ?? 12);
    const sampleData = { pixels: test.pixels, channels: test.imageShape[0], labels: test.classes, preds, sourceIndices: test.sourceIndices, cams: pass.cams };
    const figures: Figures = {
      classNames: [...data.info.classNames],
      height: test.imageShape[1],
      width: test.imageShape[2],
      meanImages: mapRows(meanImages, classRows),
      meanCams: camRows.map((r, c) => (present[c] ? r : null)),
      bankPrototypes,
      samples: figureSamples(picked.samples, sampleData),
      misclassified: figureSamples(picked.misclassified, sampleData),
    };

    return {
      dataset: o.dataset ?? data.info.name,
      model: o.model ?? model.constructor.name,
      checkpoint: o.checkpoint ?? null,
      n: test.n,
      camTarget: o.camTarget ?? EVALUATE_DEFAULTS.camTarget,
      accuracy: acc.mean,
      perClassAccuracy: acc.perClass,
      coherence: coh,
      reconstruction: rec,
      maps,
      specificity,
      decoy,
      bias,
      faithfulness: faith,
      figures,
    };
  });
}
