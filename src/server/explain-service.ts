import { statSync } from 'node:fs';
import { setNumThreads } from '../torch/index.js';
import { decodeImage } from '../data/formats/image-file.js';
import { loadDataset } from '../data/load-dataset.js';
import { inputOptions, normalizeModeOf } from '../train/options.js';
import { readProbeIndex } from '../train/run/probe-log.js';
import { explainImages, modelInput } from '../report/explain.js';
import { loadTrainedModel, type LoadedModel } from '../report/index.js';
import type { CatalogEntry, RunCatalog } from './run-catalog.js';

/** The weights files of a run a client may choose between, by fixed name. */
export const CHECKPOINTS = { checkpoint: 'checkpoint.safetensors', model: 'model.safetensors', best: 'best.safetensors' } as const;
export type CheckpointName = keyof typeof CHECKPOINTS;

/** A request the client can fix: answered 4xx with its message. */
export class ClientError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

/** What to explain: an uploaded image (decoded in memory, never stored) or a probe image of a run's timeline. */
export type ExplainImage = { bytes: Uint8Array } | { probeOf: CatalogEntry; probe: number };

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
  probabilities: number[];
  channels: number;
  height: number;
  width: number;
  /** C×H×W uint8 pixels as explained (before standardisation), base64. */
  image: string;
  /** H×W float32 CAM in [0,1], little-endian, base64. */
  cam: string;
}

/** Limits on uploads: bytes are checked by the HTTP layer, pixels here before decoding (sharp's limitInputPixels). */
export interface UploadLimits {
  maxPixels: number;
}

/**
 * Explanations on demand with the code path of `batchcam explain --image` (decodeImage, modelInput, explainImages):
 * the same file gives the same probabilities. Models are loaded once and kept (the two most recent), in eval mode.
 * Not reentrant: callers run it through the server's JobQueue, one libtorch job at a time.
 */
export class ExplainService {
  #models = new Map<string, LoadedModel>();

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

  /** The image's uint8 C×H×W pixels at the model's input shape. */
  async #pixels(image: ExplainImage, shape: [number, number, number]): Promise<Uint8Array> {
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
    const px = await this.#pixels(r.image, loaded.imageShape);
    const grey = Float32Array.from(px, (p) => p / 255);
    // As explain does: a checkpoint older than the recorded normalisation takes it from the dataset.
    const normalisation = loaded.normalisation ?? (normalizeModeOf(cfg) === 'dataset'
      ? (await loadDataset(cfg.dataset, { dataDir: cfg.dataDir ?? undefined, ...inputOptions(cfg), trainLimit: 10, testLimit: 10 })).normalisation ?? null
      : null);
    const x = modelInput(grey, normalisation, height * width);
    const [e] = explainImages(model, x, 1, height, width, r.target === 'pred' ? null : [r.target],
      { layer, target: r.target === 'pred' ? 'pred' : 'label', norm: cfg.camNorm, channels });
    return {
      checkpoint: r.checkpoint, checkpoints: this.checkpoints(r.run), layer, camLayers: [...model.camLayers], classNames,
      pred: e!.pred, target: e!.target, probabilities: e!.probabilities, channels, height, width,
      image: Buffer.from(px).toString('base64'), cam: Buffer.from(e!.cam.buffer, e!.cam.byteOffset, e!.cam.byteLength).toString('base64'),
    };
  }

  /** Frees the cached models. */
  close(): void {
    for (const m of this.#models.values()) m.model.dispose();
    this.#models.clear();
  }
}
