import { fromArray, noGrad, scope, softmax, toDeviceAsync, type Tensor } from '../torch/index.js';
import type { Classifier } from '../models/classifier.js';
import type { SplitData } from '../data/dataset.js';
import { Rng } from '../data/sampling/rng.js';
import { batchCam } from '../cam/batch-cam.js';
import type { CamNorm } from '../cam/options.js';
import {
  appendProbeRecord, probeRecordBytes, PROBE_FORMAT, readProbeIndex, startProbeLog, truncateProbeLog,
  type ProbeIndex, type ProbePaths, type ProbeRecord,
} from './run/probe-log.js';
import type { Position } from './position.js';
import type { TrainConfig } from './options.js';

/** The seeded stream the probe set is drawn from (a pure function of the seed: nothing else draws from it). */
const PROBE_STREAM = 0x9b0e;

/** At most this many probe images, whatever the class count: the timeline's cost and size stay small. */
export const MAX_PROBES = 64;

/** How many classes the probe set covers: all of them, or the first ones when `perClass` each would pass {@link MAX_PROBES}. */
export function probeClasses(numClasses: number, perClass: number): number {
  return Math.min(numClasses, Math.max(1, Math.floor(MAX_PROBES / perClass)));
}

/**
 * The probe set: `perClass` test images of each class (of the first classes, up to {@link MAX_PROBES} images), drawn
 * by a permutation seeded by the run's seed, in class order. Positions in the test split.
 */
export function probeIndices(labels: ArrayLike<number>, numClasses: number, perClass: number, seed: number): number[] {
  const order = Rng.derive(seed, PROBE_STREAM).permutation(labels.length);
  const classes = probeClasses(numClasses, perClass);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (const i of order) {
    const c = labels[i]!;
    if (c < classes && byClass[c]!.length < perClass) byClass[c]!.push(i);
  }
  return byClass.flat();
}

/** What one probe pass yields: predictions, the probabilities of the prediction and the label, uint8 maps. */
export type ProbeSnapshot = Pick<ProbeRecord, 'pred' | 'pPred' | 'pLabel' | 'cams'>;

/**
 * One probe pass: Batch-CAM of the true class of `x` (n probe images) at `layer`, with the model's predictions, in eval
 * mode, every module's mode restored afterwards, gradients taken with respect to the activation only. What the
 * timeline records and what `batchcam bench --modes probe` times.
 */
export function probeSnapshot(model: Classifier, x: Tensor, labels: readonly number[], layer: string, norm: CamNorm): ProbeSnapshot {
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  model.eval();
  try {
    return noGrad(() => scope(() => {
      const n = labels.length;
      const y = toDeviceAsync(fromArray(BigInt64Array.from(labels, (v) => BigInt(v)), [n]), model.device);
      const out = batchCam(model, toDeviceAsync(x, model.device), y, { layer, target: 'label', norm, grad: 'detached' });
      const cams = out.cams.toFloat32();
      const probs = softmax(out.logits, 1).toFloat32();
      const pred = Uint16Array.from(out.logits.argmax(1).toArray());
      const C = out.logits.shape[1]!;
      return {
        pred,
        pPred: Float32Array.from(pred, (p, i) => probs[i * C + p]!),
        pLabel: Float32Array.from(labels, (l, i) => probs[i * C + l]!),
        cams: Uint8Array.from(cams, (v) => Math.round(255 * Math.min(1, Math.max(0, v)))),
      };
    }));
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
}

/** The epoch (1-based) of the last step taken at `pos`, 0 before the first. */
function lastEpoch(pos: Position): number {
  return pos.step === 0 ? 0 : pos.batch === 0 ? pos.epoch : pos.epoch + 1;
}

/**
 * Records the CAM timeline of a run (probes.json + probes.bin, see ./run/probe-log.ts): every `probeEvery` steps,
 * Batch-CAM of the fixed probe set, with predictions. Changes nothing about training: the probe pass runs in eval mode
 * (BatchNorm statistics untouched, no dropout) and every module's mode is restored, Batch-CAM takes gradients with
 * respect to the activation only (no parameter's .grad changes), and nothing draws from libtorch's generator.
 */
export class ProbeRecorder {
  /** Wall-clock seconds spent recording in this process (the cost `bench` reports). */
  seconds = 0;
  #last: number;

  private constructor(readonly paths: ProbePaths, readonly index: ProbeIndex, readonly every: number, private readonly x: Float32Array,
    last: number) {
    this.#last = last;
  }

  /**
   * Opens the timeline of a run whose directory has begun: a fresh run writes probes.json and an empty probes.bin; a
   * resumed one keeps its records up to the checkpoint's step (a run that started without a timeline starts one).
   */
  static open(paths: ProbePaths, cfg: TrainConfig, test: SplitData, classNames: readonly string[], model: Classifier, resumedAt: Position | null): ProbeRecorder {
    const [channels, height, width] = test.imageShape;
    const size = channels * height * width;
    let index = resumedAt ? readProbeIndex(paths.probeIndex) : null;
    if (index && (index.indices.some((i) => i >= test.n) || index.height !== height || index.width !== width || index.channels !== channels)) index = null;
    let last = -1;
    if (index && resumedAt) {
      last = truncateProbeLog(paths, index, resumedAt.step);
    } else {
      const indices = probeIndices(test.classes, classNames.length, cfg.probesPerClass, cfg.seed);
      const pixels = new Uint8Array(indices.length * size);
      indices.forEach((i, k) => pixels.set(test.pixels.subarray(i * size, (i + 1) * size), k * size));
      index = {
        format: PROBE_FORMAT, probeEvery: cfg.probeEvery, layer: cfg.camLayer ?? model.defaultCamLayer, target: 'label', norm: cfg.camNorm,
        n: indices.length, channels, height, width, numClasses: classNames.length, classNames: [...classNames],
        indices, sourceIndices: indices.map((i) => test.sourceIndices[i]!), labels: indices.map((i) => test.classes[i]!),
        pixels: Buffer.from(pixels).toString('base64'), recordBytes: probeRecordBytes(indices.length, height, width),
      };
      startProbeLog(paths, index);
    }
    const x = new Float32Array(index.n * size);
    index.indices.forEach((i, k) => x.set(test.images.subarray(i * size, (i + 1) * size), k * size));
    return new ProbeRecorder(paths, index, cfg.probeEvery, x, last);
  }

  /** Records the probes at `pos` when its step is due (step 0, every `probeEvery`) and not recorded yet. */
  maybeRecord(model: Classifier, pos: Position): void {
    if (pos.step % this.every === 0 && pos.step !== this.#last) this.record(model, pos);
  }

  /** Records the last step of a finished run, unless it is recorded already. */
  finish(model: Classifier, pos: Position): void {
    if (pos.step !== this.#last) this.record(model, pos);
  }

  /** Batch-CAM of the probe set with the weights as they are, appended to probes.bin. */
  record(model: Classifier, pos: Position): void {
    const t0 = performance.now();
    const { n, channels, height, width, layer, norm } = this.index;
    const snap = scope(() => probeSnapshot(model, fromArray(this.x, [n, channels, height, width]), this.index.labels, layer, norm as CamNorm));
    const r: ProbeRecord = { step: pos.step, epoch: lastEpoch(pos), ...snap };
    appendProbeRecord(this.paths, this.index, r);
    this.#last = pos.step;
    this.seconds += (performance.now() - t0) / 1000;
  }
}
