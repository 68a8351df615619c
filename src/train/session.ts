import { checkDevice, manualSeed, scope, setNumThreads } from '../torch/index.js';
import { AdamW } from '../nn/adamw.js';
import { CosineSchedule } from '../nn/cosine-schedule.js';
import type { Optimizer } from '../nn/optimizer.js';
import { SGD } from '../nn/sgd.js';
import type { Classifier } from '../models/classifier.js';
import { createModel } from '../models/registry.js';
import { loadPretrained } from '../models/pretrained.js';
import { holdOut } from '../data/sampling/hold-out.js';
import { loadTrainingData } from '../data/load-dataset.js';
import { imagesToTensor, labelsToTensor } from '../data/batching/tensor-batch.js';
import type { BatchStream } from '../data/batching/batch-stream.js';
import { openBatchStream } from '../data/streaming/open-batch-stream.js';
import { isStreamed, type TrainingData } from '../data/streaming/streamed-split.js';
import { toUnitFloat } from '../data/preprocess/normalisation.js';
import { isImageSource, PrototypeBank } from '../losses/prototype-bank.js';
import { readCheckpoint, restoreCheckpoint, type LoadedCheckpoint } from './run/checkpoint.js';
import type { RunPaths } from './run/run-dir.js';
import type { StepRecord } from './run/step-log.js';
import { augmentationOf, inputOptions, OptionError, usesPrototypeBank, type TrainConfig } from './options.js';
import { centreCropSplit } from '../data/augment/eval-crop.js';
import { startPosition, type Position } from './position.js';

/** One line of metrics.jsonl: an epoch's training means (as a steps.jsonl record over the whole epoch) and test results. */
export interface EpochRecord extends StepRecord {
  /** Null for the epochs before the last when a validation split is held out: the test split is read once, at the end. */
  testAccuracy: number | null;
  testLoss: number | null;
  /** On the validation split (`--val-fraction`); absent without one. */
  valAccuracy?: number;
  valLoss?: number;
  seconds: number;
}

/** Everything a run needs in memory, built and checked before the run directory changes. */
export interface Session {
  cfg: TrainConfig;
  data: TrainingData;
  model: Classifier;
  optimizer: Optimizer;
  bank: PrototypeBank | null;
  loader: BatchStream;
  schedule: CosineSchedule;
  /** Where the run stands: the start, or the checkpoint it resumes from. */
  position: Position;
  history: EpochRecord[];
  resumed: boolean;
  /** What set-up did that the user should see: where pretrained weights came from and what was adapted. */
  notes: string[];
}

/**
 * Loads the dataset a config names; a folder: training split streams from disk per `--stream` (image prototypes and a
 * validation split need every training image up front, so `auto` keeps them in memory then).
 */
export async function loadConfigData(cfg: TrainConfig): Promise<TrainingData> {
  return loadTrainingData(cfg.dataset, {
    dataDir: cfg.dataDir ?? undefined, trainLimit: cfg.trainLimit ?? undefined, testLimit: cfg.testLimit ?? undefined,
    ...inputOptions(cfg),
    // Image prototypes and a validation split need every training image up front.
    stream: (isImageSource(cfg.prototypeSource) || cfg.valFraction > 0) && cfg.stream === 'auto' ? 'off' : cfg.stream,
  });
}

function makeOptimizer(cfg: TrainConfig, model: Classifier): Optimizer {
  const optimizer = cfg.optimizer === 'sgd'
    ? new SGD(model.parameters(), { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay })
    : new AdamW(model.parameters(), { lr: cfg.lr, weightDecay: cfg.weightDecay });
  // Fine-tuning: the pretrained part at a multiple of the head's rate (PyTorch's two param groups).
  if (cfg.backboneLrScale !== 1) optimizer.scaleLr(model.backboneParameters(), cfg.backboneLrScale);
  return optimizer;
}

/** The data with a validation split held out of its training split (`--val-fraction`, seeded by the run's seed). */
function withValidation(data: TrainingData, cfg: TrainConfig): TrainingData {
  if (isStreamed(data)) throw new OptionError('--val-fraction needs the training images in memory; use --stream off');
  if (data.val) return data;
  const { train, val } = holdOut(data.train, cfg.valFraction, cfg.seed, data.info.numClasses);
  // Validation images are evaluation images: they take the test split's crop.
  return { ...data, train, val: centreCropSplit(val, cfg.evalCrop) };
}

/** The seeded model of `cfg` on `device` (from --pretrained's weights when given; `notes` says what was adapted), checked to have the requested --cam-layer. */
function buildModel(cfg: TrainConfig, data: TrainingData, device: string, notes: string[]): Classifier {
  manualSeed(cfg.seed);
  // Built on the CPU from the seed (the same weights on any device), then moved.
  const model = createModel(cfg.model, data.info.numClasses, { dropPath: cfg.dropPath, inputShape: data.info.imageShape });
  if (cfg.pretrained !== null) {
    try {
      const report = loadPretrained(model, cfg.pretrained);
      notes.push(`weights from ${report.file}`, ...report.notes);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  if (device !== 'cpu') model.toDevice(device);
  if (cfg.camLayer && !model.camLayers.includes(cfg.camLayer)) {
    const layers = model.camLayers.join(', ');
    model.dispose();
    throw new OptionError(`--cam-layer: model '${cfg.model}' has no layer '${cfg.camLayer}'; choose one of ${layers}`);
  }
  return model;
}

/** The prototype bank the config asks for (null for none); an image-source bank starts from the training images. */
function buildBank(cfg: TrainConfig, data: TrainingData, device: string): PrototypeBank | null {
  if (!usesPrototypeBank(cfg)) return null;
  const bank = new PrototypeBank({
    numClasses: data.info.numClasses, height: data.info.imageShape[1], width: data.info.imageShape[2],
    source: cfg.prototypeSource, momentum: cfg.prototypeMomentum, correctOnly: cfg.prototypeCorrectOnly, device,
  });
  if (isImageSource(cfg.prototypeSource)) {
    if (isStreamed(data)) {
      bank.dispose();
      throw new OptionError(`--prototype-source ${cfg.prototypeSource} needs the training images in memory; use --stream off`);
    }
    const train = data.train;
    // From the raw pixels (in [0,1]), whatever the input standardisation.
    scope(() => bank.initFromImages(imagesToTensor(toUnitFloat(train.pixels), train.n, train.imageShape), labelsToTensor(train.labels)));
  }
  return bank;
}

/**
 * Reads the checkpoint to resume (`fresh` null), or takes the fresh config; builds model, optimiser, bank and data
 * on `device`, and restores the checkpoint into them. Every check that can fail (device, CAM layer, data, a
 * checkpoint that is unreadable or does not fit) runs here, while nothing on disk has changed. Deterministic:
 * weights from `manualSeed(seed)` (nothing in data loading draws from libtorch's generator), the rest restored.
 * `device` maps the config's device to this process's (data-parallel ranks each take their own GPU).
 */
export async function openSession(fresh: TrainConfig | null, paths: RunPaths, o: { data?: TrainingData; device: (cfg: TrainConfig) => string }): Promise<Session> {
  let ck: LoadedCheckpoint | null = null;
  let model: Classifier | null = null;
  let bank: PrototypeBank | null = null;
  try {
    if (!fresh) ck = readCheckpoint(paths.checkpoint);
    const cfg = fresh ?? ck!.config;
    checkDevice(cfg.device);
    setNumThreads(cfg.threads);
    // Data first: the model's input channels, size and classes come from it (loading draws nothing from libtorch's RNG).
    const loaded = o.data ?? (await loadConfigData(cfg));
    const data = cfg.valFraction > 0 ? withValidation(loaded, cfg) : loaded;
    const device = o.device(cfg);
    const notes: string[] = [];
    // A resumed run's weights come from its checkpoint: the pretrained file is read only for a fresh one.
    model = buildModel(ck ? { ...cfg, pretrained: null } : cfg, data, device, notes);
    const optimizer = makeOptimizer(cfg, model);
    bank = buildBank(cfg, data, device);
    // Opening starts nothing: a streamed loader's worker threads start with the first batch.
    const augmentation = augmentationOf(cfg);
    const augment = augmentation && { augmentation, seed: cfg.seed, normalisation: data.normalisation ?? null };
    const loader = openBatchStream(data.train, { batchSize: cfg.batchSize, shuffle: true, seed: cfg.seed, augment });
    const totalSteps = cfg.epochs * loader.numBatches;
    const schedule = new CosineSchedule({ baseLr: cfg.lr, warmupSteps: Math.min(cfg.warmupSteps, totalSteps), totalSteps, minLr: cfg.minLr });
    if (ck) restoreCheckpoint(ck, { model, optimizer, bank }, paths.checkpoint);
    return {
      cfg, data, model, optimizer, bank, loader, schedule,
      position: ck ? ck.position : startPosition(), history: ck ? [...(ck.history as EpochRecord[])] : [], resumed: ck !== null, notes,
    };
  } catch (e) {
    model?.dispose();
    bank?.dispose();
    throw e;
  } finally {
    if (ck) for (const t of ck.tensors.values()) t.dispose();
  }
}

/** Frees what a session holds: the model's and the bank's tensors, the loader's worker threads. */
export async function closeSession(s: Session, keepModel: boolean): Promise<void> {
  if (!keepModel) {
    s.model.dispose();
    s.bank?.dispose();
  }
  await s.loader.close();
}
