import { statSync } from 'node:fs';
import { setNumThreads } from '../torch/index.js';
import { decodeImage } from '../data/formats/image-file.js';
import { loadDataset } from '../data/load-dataset.js';
import { inputOptions, normalizeModeOf } from '../train/options.js';
import { readProbeIndex } from '../train/run/probe-log.js';
import { explainImages, modelInput } from '../report/explain.js';
import { loadTrainedModel, type LoadedModel } from '../report/index.js';
import type { CatalogEntry, RunCatalog } from './run-catalog.js';
import { TestSplitCache } from './test-split-cache.js';

/** The weights files of a run a client may choose between, by fixed name. */
export const CHECKPOINTS = { checkpoint: 'checkpoint.safetensors', model: 'model.safetensors', best: 'best.safetensors' } as const;
export type CheckpointName = keyof typeof CHECKPOINTS;

/** A request the client can fix: answered 4xx with its message. */
export class ClientError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

/**
 * What to explain: an uploaded image (decoded in memory, never stored), a probe image of a run's timeline, or any
 * image of the run's own test split by index (as `batchcam explain --indices`).
 */
export type ExplainImage = { bytes: Uint8Array } | { probeOf: CatalogEntry; probe: number } | { testIndex: number };

export interface ExplainRequest {
  run: CatalogEntry;
  checkpoint: CheckpointName;
  /** CAM layer; default the run's --cam-layer, else the model's first. */
  layer: string | null;
  /** The predicted class, or a class index. */
  target: 'pred' | number;
  image: ExplainImage;
}

/** One explanation, as the page shows it: the image, its CAM and every class's probability. */
export interface ExplainResult {
  checkpoint: CheckpointName;
  checkpoints: CheckpointName[];
  layer: string;
  camLayers: string[];
  classNames: string[];
  pred: number;
  target: number;
  /** The true class of a test image; null for uploads and probes (the timeline shows theirs). */
  label: number | null;
  /** What was explained, in words: 'mnist test #17', 'probe 3 of runs/a', 'the uploaded image'. */
  source: string;
  probabilities: number[];
  channels: number;
  height: number;
  width: number;
  /** C×H×W uint8 pixels as explained (before standardisation), base64. */
  image: string;
  /** H×W float32 CAM in [0,1], little-endian, base64. */
  cam: string;
}

/** What the page needs before the first explanation: the lists to choose the layer and the target from. */
export interface ModelInfo {
  /** The weights file the model was read from, and those the run has. */
  checkpoint: CheckpointName;
  checkpoints: CheckpointName[];
  model: string;
  dataset: string;
  camLayers: string[];
  /** The layer explained when none is chosen: the run's --cam-layer, else the model's default. */
  defaultLayer: string;
  classNames: string[];
  /** C, H, W of the model's input. */
  imageShape: [number, number, number];
}

/** Limits on uploads: bytes are checked by the HTTP layer, pixels here before decoding (sharp's limitInputPixels). */
export interface UploadLimits {
  maxPixels: number;
}

/**
 * Explanations on demand with the code path of `batchcam explain --image` (decodeImage, modelInput, explainImages):
 * the same file gives the same probabilities; a test image picked by index takes the path of `explain --indices`.
 * Models are loaded once and kept (the two most recent), in eval mode, and so are loaded test splits.
 * Not reentrant: callers run it through the server's JobQueue, one libtorch job at a time.
 */
export class ExplainService {
  #models = new Map<string, LoadedModel>();
  #tests = new TestSplitCache();

  constructor(private readonly catalog: RunCatalog, private readonly limits: UploadLimits, private readonly keep = 2) {}

  /** The weights files present in a run. */
  checkpoints(run: CatalogEntry): CheckpointName[] {
    return (Object.keys(CHECKPOINTS) as CheckpointName[]).filter((k) => this.catalog.file(run, CHECKPOINTS[k]) !== null);
  }

  /** The model of a run's weights file (cached by path and modification time). */
  #model(run: CatalogEntry, checkpoint: CheckpointName): LoadedModel {
    const file = this.catalog.file(run, CHECKPOINTS[checkpoint]);
    if (!file) throw new ClientError(404, `run ${run.name} has no ${CHECKPOINTS[checkpoint]}; choose one of: ${this.checkpoints(run).join(', ') || 'none (no weights yet)'}`);
    const key = `${file}@${statSync(file).mtimeMs}`;
    let m = this.#models.get(key);
    if (m) {
      this.#models.delete(key); // most recent last
    } else {
      m = loadTrainedModel(file);
      while (this.#models.size >= this.keep) {
        const [oldKey, old] = this.#models.entries().next().value as [string, LoadedModel];
        old.model.dispose();
        this.#models.delete(oldKey);
      }
    }
    this.#models.set(key, m);
    return m;
  }

  /** The lists of a run's model (loading it, as explain does: callers queue it); `checkpoint` null: the first the run has. */
  modelInfo(run: CatalogEntry, checkpoint: CheckpointName | null): ModelInfo {
    const checkpoints = this.checkpoints(run);
    const name = checkpoint ?? checkpoints[0];
    if (!name) throw new ClientError(404, `run ${run.name} has no weights yet (${Object.values(CHECKPOINTS).join(', ')}); they appear at its first checkpoint`);
    const { model, config: cfg, classNames, imageShape } = this.#model(run, name);
    return {
      checkpoint: name, checkpoints, model: cfg.model, dataset: cfg.dataset, camLayers: [...model.camLayers],
      defaultLayer: cfg.camLayer ?? model.defaultCamLayer, classNames: [...classNames], imageShape: [...imageShape],
    };
  }

  /** The image's uint8 C×H×W pixels at the model's input shape (an upload or a probe). */
  async #pixels(image: Exclude<ExplainImage, { testIndex: number }>, shape: [number, number, number]): Promise<Uint8Array> {
    if ('bytes' in image) {
      try {
        return await decodeImage({ bytes: image.bytes, limitInputPixels: this.limits.maxPixels }, shape, 'the uploaded image');
      } catch (e) {
        throw new ClientError(415, `${(e as Error).message.replace(/ — replace it or remove it from the folder$/, '')}; send a PNG, JPEG or WebP image of at most ${this.limits.maxPixels} pixels`);
      }
    }
    const index = readProbeIndex(this.catalog.file(image.probeOf, 'probes.json') ?? '');
    if (!index) throw new ClientError(404, `run ${image.probeOf.name} has no CAM timeline (probes.json)`);
    if (!(Number.isInteger(image.probe) && image.probe >= 0 && image.probe < index.n)) {
      throw new ClientError(400, `probe: expected an integer in 0…${index.n - 1}`);
    }
    const [c, h, w] = shape;
    if (index.channels !== c || index.height !== h || index.width !== w) {
      throw new ClientError(400, `the probe images of ${image.probeOf.name} are ${index.channels}×${index.height}×${index.width}; this model takes ${c}×${h}×${w}`);
    }
    const size = c * h * w;
    return new Uint8Array(Buffer.from(index.pixels, 'base64').subarray(image.probe * size, (image.probe + 1) * size));
  }

  /** Explains one image; ClientError for what the client can fix. */
  async explain(r: ExplainRequest): Promise<ExplainResult> {
    const loaded = this.#model(r.run, r.checkpoint);
    const { model, config: cfg, classNames } = loaded;
    setNumThreads(cfg.threads);
    const layer = r.layer ?? cfg.camLayer ?? model.defaultCamLayer;
    if (!model.camLayers.includes(layer)) throw new ClientError(400, `layer: model '${cfg.model}' has no layer '${layer}'; choose one of ${model.camLayers.join(', ')}`);
    if (r.target !== 'pred' && !(Number.isInteger(r.target) && r.target >= 0 && r.target < classNames.length)) {
      throw new ClientError(400, `target: expected pred or a class index in 0…${classNames.length - 1}`);
    }
    const [channels, height, width] = loaded.imageShape;
    const size = channels * height * width;
    let px: Uint8Array;
    let x: Float32Array;
    let label: number | null = null;
    let source: string;
    if ('testIndex' in r.image) {
      // As explain --indices does: the split's own preprocessed images, its labels beside them.
      const test = await this.#tests.get(cfg);
      const i = r.image.testIndex;
      if (!(Number.isInteger(i) && i >= 0 && i < test.n)) {
        throw new ClientError(400, `testIndex: ${i} is out of range; the ${cfg.dataset} test split has ${test.n} images (0…${test.n - 1})`);
      }
      px = test.pixels.slice(i * size, (i + 1) * size);
      x = test.images.slice(i * size, (i + 1) * size);
      label = test.classes[i]!;
      source = `${cfg.dataset} test #${i}`;
    } else {
      px = await this.#pixels(r.image, loaded.imageShape);
      const grey = Float32Array.from(px, (p) => p / 255);
      // As explain does: a checkpoint older than the recorded normalisation takes it from the dataset.
      const normalisation = loaded.normalisation ?? (normalizeModeOf(cfg) === 'dataset'
        ? (await loadDataset(cfg.dataset, { dataDir: cfg.dataDir ?? undefined, ...inputOptions(cfg), trainLimit: 10, testLimit: 10 })).normalisation ?? null
        : null);
      x = modelInput(grey, normalisation, height * width);
      source = 'bytes' in r.image ? 'the uploaded image' : `probe ${r.image.probe} of ${r.image.probeOf.name}`;
    }
    const labels = r.target === 'pred' ? (label === null ? null : [label]) : [r.target];
    const [e] = explainImages(model, x, 1, height, width, labels, { layer, target: r.target === 'pred' ? 'pred' : 'label', norm: cfg.camNorm, channels });
    return {
      checkpoint: r.checkpoint, checkpoints: this.checkpoints(r.run), layer, camLayers: [...model.camLayers], classNames,
      pred: e!.pred, target: e!.target, label, source, probabilities: e!.probabilities, channels, height, width,
      image: Buffer.from(px).toString('base64'), cam: Buffer.from(e!.cam.buffer, e!.cam.byteOffset, e!.cam.byteLength).toString('base64'),
    };
  }

  /** Frees the cached models. */
  close(): void {
    for (const m of this.#models.values()) m.model.dispose();
    this.#models.clear();
    this.#tests.clear();
  }
}
