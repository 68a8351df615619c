import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/**
 * Synthetic but schema-complete run and experiment directories for the report tests: config.json,
 * metrics.jsonl and evaluation.json as `batchcam train` / `evaluate` / `experiment` write them.
 */

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp directory, removed when the test file ends. */
export function tempDir(prefix = 'batchcam-report-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

const SIDE = 28;

/** A soft blob (a stand-in digit) centred at (cx, cy), values in [0,1], rounded like evaluate's 1e-4. */
export function blob(cx: number, cy: number, r: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) out.push(Math.round(1e4 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))) / 1e4);
  }
  return out;
}

/** Shape of a fixture run; the counts the browser test expects follow from it. */
export interface RunShape {
  epochs: number;
  /** Epochs of CE-only warm-up: proto/batch are null there. */
  warmup: number;
  classes: number;
  samplesPerClass: number;
  misclassified: number;
  decoy: boolean;
  bank: boolean;
}

export const DEFAULT_SHAPE: RunShape = { epochs: 5, warmup: 1, classes: 10, samplesPerClass: 2, misclassified: 3, decoy: false, bank: true };

/** Writes a run directory (config.json, metrics.jsonl, evaluation.json) and returns its path. */
export function writeRun(dir: string, s: RunShape = DEFAULT_SHAPE, o: { setting?: string; seed?: number; accuracyShift?: number } = {}): string {
  mkdirSync(dir, { recursive: true });
  const dataset = s.decoy ? 'decoy-mnist' : 'mnist';
  const config = {
    model: 'simplecnn', dataset, epochs: s.epochs, batchSize: 64, lr: 0.001, seed: o.seed ?? 0, lambdaProto: o.setting === 'ce' ? 0 : 0.5,
    lambdaBatch: 0, distance: 'ssim', camTarget: 'label', camLayer: null, camWarmupEpochs: s.warmup, trainLimit: 1000, testLimit: 500,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const shift = o.accuracyShift ?? 0;
  const lines = Array.from({ length: s.epochs }, (_, i) => {
    const e = i + 1;
    const reg = e > s.warmup;
    return JSON.stringify({
      epoch: e, step: 16 * e, lr: 0.001 * (1 - i / s.epochs), ce: 1.5 / e, proto: reg ? 0.4 / e : null, batch: reg ? 0.2 / e : null,
      loss: 1.5 / e + (reg ? 0.3 / e : 0), trainAccuracy: Math.min(1, 0.6 + 0.07 * e + shift), testAccuracy: Math.min(1, 0.58 + 0.07 * e + shift),
      testLoss: 1.6 / e, seconds: 2.5, imagesPerSecond: 400,
    });
  });
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  const C = s.classes;
  const names = Array.from({ length: C }, (_, c) => String(c));
  const per = (base: number): (number | null)[] => names.map((_, c) => Number((base + 0.01 * c).toFixed(4)));
  const summary = (base: number): { perClass: (number | null)[]; mean: number } => ({ perClass: per(base), mean: base + 0.045 });
  const pos = (c: number): [number, number] => [6 + 2 * c, 8 + (c % 5) * 3];
  const samples = [];
  for (let c = 0; c < C; c++) {
    for (let k = 0; k < s.samplesPerClass; k++) {
      const [cx, cy] = pos(c);
      samples.push({ index: 100 * c + k, label: c, pred: c, image: blob(cx + k, cy, 3), cam: blob(s.decoy ? 2 : cx, s.decoy ? 2 : cy, 4) });
    }
  }
  const misclassified = Array.from({ length: s.misclassified }, (_, k) => ({
    index: 7 + 13 * k, label: k % C, pred: (k + 1) % C, image: blob(10 + k, 12, 3), cam: blob(18 - k, 14, 5),
  }));
  const evaluation = {
    dataset, model: 'simplecnn', checkpoint: join(dir, 'checkpoint.safetensors'), n: 500, camTarget: 'pred',
    accuracy: 0.93 + shift, perClassAccuracy: per(0.9),
    coherence: { l1: summary(0.05), l2: summary(0.01), ssim: summary(0.3) },
    reconstruction: { l1: summary(0.2), l2: summary(0.08), ssim: summary(0.7) },
    maps: { coverage: summary(0.25), contrast: summary(0.2) },
    decoy: s.decoy ? { energy: 0.31, energyPerClass: per(0.3), uniformEnergy: 16 / 784, accuracy: 0.61, decoyLabelRate: 0.4 } : null,
    faithfulness: { n: 100, steps: 28, insertionStart: 'blur', deletionAuc: 0.12, insertionAuc: 0.71, averageDrop: 0.23 },
    figures: {
      classNames: names,
      meanImages: names.map((_, c) => blob(...pos(c), 4)),
      meanCams: names.map((_, c) => blob(...pos(c), 5)),
      bankPrototypes: s.bank ? names.map((_, c) => blob(...pos(c), 6)) : null,
      samples, misclassified,
    },
  };
  writeFileSync(join(dir, 'evaluation.json'), JSON.stringify(evaluation) + '\n');
  return dir;
}

/** The settings of the fixture experiment, baseline first, with the p-values their rows carry. */
export const EXPERIMENT_SETTINGS = [
  { setting: 'ce', p: null },
  { setting: 'proto', p: 0.003 },
  { setting: 'batch', p: 0.03 },
  { setting: 'proto+batch', p: 0.2 },
] as const;

/** The metrics list aggregate.json carries (a subset of `batchcam experiment`'s, same shape). */
export const EXPERIMENT_METRICS = [
  { key: 'accuracy', label: 'accuracy', better: 'higher' },
  { key: 'coherenceSsim', label: 'coherence ssim', better: 'lower' },
  { key: 'coherenceL1', label: 'coherence l1', better: 'lower' },
  { key: 'coherenceL2', label: 'coherence l2', better: 'lower' },
  { key: 'reconstructionSsim', label: 'reconstruction ssim', better: 'lower' },
  { key: 'decoyEnergy', label: 'decoy energy', better: 'lower' },
  { key: 'deletionAuc', label: 'deletion AUC', better: 'lower' },
  { key: 'insertionAuc', label: 'insertion AUC', better: 'higher' },
] as const;

const stats = (mean: number, std: number): { mean: number; std: number; n: number; values: number[] } =>
  ({ mean, std, n: 3, values: [mean - std, mean, mean + std] });

/**
 * Writes an experiment directory: aggregate.json (in `batchcam experiment`'s format) over the settings above
 * (3 seeds each) on DecoyMNIST, the first seed's run directories under runs/ (relative paths), one row whose
 * run is missing, and one failed run. `legacy` leaves out the name/baseline/metrics/failed fields.
 */
export function writeExperiment(dir: string, o: { legacy?: boolean } = {}): string {
  const shape: RunShape = { ...DEFAULT_SHAPE, epochs: 3, decoy: true, bank: false, samplesPerClass: 1 };
  const rows = EXPERIMENT_SETTINGS.map(({ setting, p }, i) => {
    const runs = [0, 1, 2].map((seed) => join('runs', `${setting}-s${seed}`));
    writeRun(join(dir, runs[0]!), shape, { setting, seed: 0, accuracyShift: 0.01 * i });
    // Regularised settings lower coherence/decoy energy: t < 0 there (better, as lower is better).
    const t = p === null ? null : { t: -(4.2 - i), p };
    return {
      model: 'simplecnn', dataset: 'decoy-mnist', setting, seeds: [0, 1, 2], runs,
      accuracy: stats(0.93 + 0.01 * i, 0.004), coherenceSsim: stats(0.3 - 0.05 * i, 0.01),
      coherenceL1: stats(0.05, 0.002), coherenceL2: stats(0.01, 0.001), reconstructionSsim: stats(0.7, 0.02),
      decoyEnergy: stats(0.3 - 0.07 * i, 0.02), deletionAuc: stats(0.12, 0.01), insertionAuc: stats(0.7, 0.01),
      vsBaseline: t ? {
        accuracy: { t: 1.1, p: 0.4 }, coherenceSsim: t, coherenceL1: null, coherenceL2: null, reconstructionSsim: null, decoyEnergy: t,
        deletionAuc: { t: 5, p: 0.001 }, insertionAuc: null,
      } : null,
    };
  });
  // A row whose runs are missing: the report must still render (and say so).
  rows.push({ ...rows[1]!, model: 'resnet18', runs: ['runs/does-not-exist'] });
  const agg = o.legacy ? { rows } : {
    name: 'fixture-grid', baseline: 'ce', metrics: EXPERIMENT_METRICS, rows,
    failed: [{ dir: 'simplecnn/decoy-mnist/batch/seed2', reason: 'non-finite total loss at step 3' }],
  };
  writeFileSync(join(dir, 'aggregate.json'), JSON.stringify(agg, null, 2) + '\n');
  return dir;
}
