import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { manualSeed, setNumThreads, torchConfig } from '../torch/index.js';
import { createModel } from '../models/registry.js';
import { estimatePeakGflops } from './cpu-peak.js';
import { defaultConfig } from '../train/options.js';
import { median, timeInterleaved } from './timing.js';
import { BENCH_MODES, makeStep, probeLabels, type BenchMode } from './training-steps.js';

export interface BenchOptions {
  models: string[];
  batch: number;
  threads: number;
  rounds: number;
  warmup: number;
  /** Modes to time (null: all of each model's); see BENCH_MODES. */
  modes: BenchMode[] | null;
  /** Timed steps of the slow per-sample loop. */
  loopSteps: number;
  /** Seconds of timing per model the reference gets (soft). */
  referenceBudget: number;
  /** Path of torch_reference.py; null skips PyTorch. */
  reference: string | null;
  /** The reference runs its models and inputs channels-last (`model.to(memory_format=torch.channels_last)`), not NCHW. */
  referenceChannelsLast?: boolean;
  python: string;
  /** 'cpu' (default) or cuda[:N]: where batchcam and the reference run. */
  device?: string;
  /** Side of the square RGB inputs of the ImageNet-layout models (default 224); the others take 1×28×28. */
  imageSize?: number;
  peakGflops: number | null;
  log: (line: string) => void;
}

export interface BenchRow {
  model: string;
  mode: string;
  layer: string;
  /** The matching torch_reference.py mode, or null where it has none. */
  spec: string | null;
  /** C×H×W of the timed inputs. */
  input: string;
  msMedian: number;
  imagesPerSecond: number;
  gflops: number | null;
  /** GFLOP/s as a percentage of the (estimated or given) fp32 peak. */
  percentOfPeak: number | null;
  torchImagesPerSecond: number | null;
  /** Torch's own overhead of this mode over its plain training step (same run). */
  torchOverheadVsTrain?: number | null;
  ratioVsTorch: number | null;
  overheadVsTrain: number | null;
}

/**
 * Modes per model: [mode, layer, matching torch_reference.py spec or null]. Every mode the reference has is compared
 * with it: train, cam2/cam1 (its Batch-CAM L2 regulariser), full2/full1 (the whole objective: both losses, SSIM,
 * upsampled, EMA bank) and infer; the anti-collapse modes and the explanations are ours only. `camLayers` is the
 * model's, default first; the deeper layer's modes are timed for the models with one (not SimpleCNN).
 */
function plan(model: string, camLayers: readonly string[]): [BenchMode, string, string | null][] {
  const top = camLayers[0]!;
  const deep = model === 'simplecnn' ? null : camLayers[1] ?? null;
  const rows: [BenchMode, string, string | null][] = [['train', top, 'train'], ['cam2', top, 'cam2'], ['cam1', top, 'cam1'],
    ['full2', top, 'full2'], ['full1', top, 'full1']];
  if (deep) rows.push(['cam2', deep, `cam2:${deep}`], ['cam1', deep, `cam1:${deep}`], ['full2', deep, `full2:${deep}`]);
  rows.push(['image-proto', top, null], ['proto-contrast', top, null], ['batch-contrast', top, null], ['background', top, null],
    ['image-mining', top, null], ['infer', top, 'infer'], ['probe', top, null], ['explain-batch', top, null], ['explain-loop', top, null]);
  return rows;
}

/** The models torch_reference.py has (the ImageNet ResNets are torchvision's). */
const REFERENCE_MODELS = ['simplecnn', 'resnet18', 'convnextv2-atto', 'resnet18-imagenet', 'resnet50-imagenet'];

/** The input a bench model takes: 3×S×S for the ImageNet layouts, else the 28-px digits' 1×28×28. */
export function benchInputShape(model: string, imageSize = 224): [number, number, number] {
  return model.endsWith('-imagenet') ? [3, imageSize, imageSize] : [1, 28, 28];
}

/** The modes the bench knows, for --modes: the training-step modes, and 'loader' (src/bench/loader-bench.ts). */
export const KNOWN_MODES: readonly (BenchMode | 'loader')[] = [...BENCH_MODES, 'loader'];

interface TorchResult { model: string; spec: string; images_per_s: number; overhead_vs_train?: number | null }

function runReference(o: BenchOptions, models: string[], specs: Set<string>): TorchResult[] {
  if (!o.reference) return [];
  const ref = resolve(o.reference);
  if (!existsSync(ref)) {
    o.log(`# PyTorch reference ${ref} not found: ratios skipped`);
    return [];
  }
  const out = join(mkdtempSync(join(tmpdir(), 'batchcam-bench-')), 'torch.json');
  const args = [ref, '--models', models.join(','), '--modes', [...specs].join(','), '--batch', String(o.batch),
    '--threads', String(o.threads), '--budget', String(o.referenceBudget), '--rounds', String(o.rounds), '--json', out,
    '--image-size', String(o.imageSize ?? 224), ...(o.referenceChannelsLast ? ['--channels-last'] : []), ...(o.device && o.device !== 'cpu' ? ['--device', o.device] : [])];
  o.log(`# running ${o.python} ${args.join(' ')}`);
  const r = spawnSync(o.python, args, { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-openmp' } });
  if (r.status !== 0 || !existsSync(out)) {
    o.log(`# PyTorch reference failed (${r.status}): ${r.stderr.slice(-400)}`);
    return [];
  }
  return (JSON.parse(readFileSync(out, 'utf8')) as { results: TorchResult[] }).results;
}

/** Times every mode of every model, then the PyTorch reference for the same models, and joins them into ratios. */
export function runBench(o: BenchOptions): { rows: BenchRow[]; info: Record<string, unknown> } {
  setNumThreads(o.threads);
  const peak = o.peakGflops !== null ? { gflops: o.peakGflops, basis: 'given' } : estimatePeakGflops(o.threads);
  const rows: BenchRow[] = [];
  const specs = new Set<string>();
  const refModels: string[] = [];
  for (const name of o.models) {
    manualSeed(0);
    const shape = benchInputShape(name, o.imageSize);
    const model = createModel(name, 10, { inputShape: shape });
    if (o.device && o.device !== 'cpu') model.toDevice(o.device);
    const modes = plan(name, model.camLayers).filter(([m]) => !o.modes || o.modes.includes(m));
    if (!modes.length) continue;
    const steps: Record<string, () => void> = {};
    for (const [mode, layer] of modes) steps[`${mode}:${layer}`] = makeStep(model, mode, layer, o.batch, 0.1, shape);
    const macsPerImage = model.macsAt(shape[1], shape[2]); // at the input timed, not a nominal size
    o.log(`# ${name}: ${(model.parameterCount() / 1e6).toFixed(2)} M params, ${(macsPerImage / 1e6).toFixed(1)} MMAC/img at ${shape.join('×')}`);
    // The per-sample loop is slow (one full backward per image): timed on its own, 5 steps, after the others warmed up.
    const top = model.defaultCamLayer;
    const { ['explain-loop:' + top]: loop, ...fast } = steps;
    const times = timeInterleaved(fast, { warmup: o.warmup, rounds: o.rounds, perRound: 2 });
    if (loop) Object.assign(times, timeInterleaved({ ['explain-loop:' + top]: loop }, { warmup: 0, rounds: o.loopSteps, perRound: 1 }));
    const trainTimes = times['train:' + top];
    const trainMed = trainTimes ? median(trainTimes) : NaN;
    for (const [mode, layer, spec] of modes) {
      const med = median(times[`${mode}:${layer}`]!);
      const flopsPerImage = 2 * macsPerImage * (mode === 'infer' ? 1 : 3);
      const images = mode === 'probe' ? probeLabels(model.numClasses).length : o.batch;
      rows.push({
        model: name, mode, layer, spec, input: shape.join('×'), msMedian: med * 1e3, imagesPerSecond: images / med,
        gflops: mode === 'train' || mode === 'infer' ? (flopsPerImage * o.batch) / med / 1e9 : null,
        percentOfPeak: null, torchImagesPerSecond: null, ratioVsTorch: null,
        overheadVsTrain: (isTrainingMode(mode) && mode !== 'train') || mode === 'probe' ? (Number.isFinite(trainMed) ? med / trainMed : null) : null,
      });
      if (spec) specs.add(spec);
    }
    if (REFERENCE_MODELS.includes(name) && modes.some(([, , s]) => s)) refModels.push(name);
    model.dispose();
  }
  const torch = refModels.length ? runReference(o, refModels, specs) : [];
  for (const row of rows) {
    const t = row.spec === null ? undefined : torch.find((r) => r.model === row.model && r.spec === row.spec);
    if (t) {
      row.torchImagesPerSecond = t.images_per_s;
      row.ratioVsTorch = row.imagesPerSecond / t.images_per_s;
      row.torchOverheadVsTrain = t.overhead_vs_train ?? null;
    }
    if (row.gflops !== null && Number.isFinite(peak.gflops)) row.percentOfPeak = (100 * row.gflops) / peak.gflops;
  }
  return { rows, info: { torch: torchConfig().version, device: o.device ?? 'cpu', threads: o.threads, batch: o.batch, imageSize: o.imageSize ?? 224, referenceChannelsLast: o.referenceChannelsLast ?? false, peakGflops: peak.gflops, peakBasis: peak.basis } };
}

/** `batchcam train`'s default --probe-every, the setting whose cost the probe line states. */
const PROBE_EVERY = defaultConfig().probeEvery;

function isTrainingMode(mode: string): boolean {
  return !['infer', 'probe', 'explain-batch', 'explain-loop'].includes(mode);
}

/** The table printed by `batchcam bench`: one row per mode, ours beside PyTorch, with ratios and % of peak. */
export function formatBench(rows: BenchRow[], info: Record<string, unknown>): string {
  const cols: [string, number][] = [['model', 16], ['mode', 15], ['layer', 7], ['ms', 9], ['img/s', 9], ['GFLOP/s', 9], ['%peak', 7],
    ['torch', 9], ['ours/torch', 11], ['x train', 9], ['torch x', 8]];
  const cell = (v: string, i: number): string => (i < 3 ? v.padEnd(cols[i]![1]) : v.padStart(cols[i]![1]));
  const f = (v: number | null | undefined, d = 1): string => (v === null || v === undefined ? '-' : v.toFixed(d));
  const head = cols.map(([c], i) => cell(c, i)).join('');
  const lines = rows.map((r) => [r.model, r.mode, r.layer, f(r.msMedian), f(r.imagesPerSecond), f(r.gflops), f(r.percentOfPeak),
    f(r.torchImagesPerSecond), f(r.ratioVsTorch, 2), f(r.overheadVsTrain, 2), f(r.torchOverheadVsTrain, 2)].map(cell).join(''));
  const speedups = [...new Set(rows.map((r) => r.model))].map((m) => {
    const b = rows.find((r) => r.model === m && r.mode === 'explain-batch');
    const l = rows.find((r) => r.model === m && r.mode === 'explain-loop');
    return b && l ? `# ${m}: Batch-CAM vs per-sample loop (explanations for a batch): ${(b.imagesPerSecond / l.imagesPerSecond).toFixed(1)}x` : '';
  }).filter(Boolean);
  const probes = rows.filter((r) => r.mode === 'probe' && r.overheadVsTrain !== null).map((r) =>
    `# ${r.model}: one probe pass = ${r.overheadVsTrain!.toFixed(2)} training steps of ${String(info.batch)}; the CAM timeline at --probe-every ` +
    `${PROBE_EVERY} costs ${(100 * r.overheadVsTrain! / PROBE_EVERY).toFixed(2)} % of training`);
  const ratios = rows.filter((r) => r.ratioVsTorch !== null).map((r) => r.ratioVsTorch!);
  const worst = ratios.length ? `# lowest ours/torch: ${Math.min(...ratios).toFixed(2)} (${ratios.length} modes compared)` : '# no PyTorch ratios';
  const peak = Number(info.peakGflops);
  return [head, ...lines, ...speedups, ...probes, worst, '# x train: step time / our plain train step; torch x: the same for PyTorch',
    `# % peak of ${peak.toFixed(0)} GFLOP/s (${String(info.peakBasis)}); training counted as 3x the forward FLOPs`].join('\n');
}
