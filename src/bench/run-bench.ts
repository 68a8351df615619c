import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { manualSeed, setNumThreads, torchConfig } from '../torch/index.js';
import { createModel } from '../models/registry.js';
import { estimatePeakGflops } from './cpu-peak.js';
import { median, timeInterleaved } from './timing.js';
import { makeStep, type BenchMode } from './training-steps.js';

export interface BenchOptions {
  models: string[];
  batch: number;
  threads: number;
  rounds: number;
  warmup: number;
  /** Path of torch_reference.py; null skips PyTorch. */
  reference: string | null;
  python: string;
  peakGflops: number | null;
  log: (line: string) => void;
}

export interface BenchRow {
  model: string;
  mode: string;
  layer: string;
  msMedian: number;
  imagesPerSecond: number;
  gflops: number | null;
  torchImagesPerSecond: number | null;
  ratioVsTorch: number | null;
  overheadVsTrain: number | null;
}

/** Modes per model: [mode, layer, matching torch_reference spec or null]. */
function plan(model: string): [BenchMode, string, string | null][] {
  switch (model) {
    case 'simplecnn':
      return [['train', 'conv2', 'train'], ['cam2', 'conv2', 'cam2'], ['cam1', 'conv2', 'cam1'], ['full2', 'conv2', 'cam2'],
        ['full1', 'conv2', 'cam1'], ['infer', 'conv2', 'infer'], ['explain-batch', 'conv2', null], ['explain-loop', 'conv2', null]];
    case 'resnet18':
      return [['train', 'layer4', 'train'], ['cam2', 'layer4', 'cam2'], ['cam1', 'layer4', 'cam1'], ['full2', 'layer4', 'cam2'],
        ['full1', 'layer4', 'cam1'], ['cam2', 'layer3', 'cam2:layer3'], ['cam1', 'layer3', 'cam1:layer3'],
        ['full2', 'layer3', 'cam2:layer3'], ['infer', 'layer4', 'infer'], ['explain-batch', 'layer4', null], ['explain-loop', 'layer4', null]];
    default:
      return [['train', 'stage3', null], ['full2', 'stage3', null], ['full1', 'stage3', null], ['infer', 'stage3', null],
        ['explain-batch', 'stage3', null], ['explain-loop', 'stage3', null]];
  }
}

interface TorchResult { model: string; spec: string; images_per_s: number }

function runReference(o: BenchOptions, models: string[], specs: Set<string>): TorchResult[] {
  if (!o.reference) return [];
  const ref = resolve(o.reference);
  if (!existsSync(ref)) {
    o.log(`# PyTorch reference ${ref} not found: ratios skipped`);
    return [];
  }
  const out = join(mkdtempSync(join(tmpdir(), 'batchcam-bench-')), 'torch.json');
  const args = [ref, '--models', models.join(','), '--modes', [...specs].join(','), '--batch', String(o.batch),
    '--threads', String(o.threads), '--budget', '20', '--rounds', String(o.rounds), '--json', out];
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
    const model = createModel(name);
    const modes = plan(name);
    const steps: Record<string, () => void> = {};
    for (const [mode, layer] of modes) steps[`${mode}:${layer}`] = makeStep(model, mode, layer, o.batch);
    o.log(`# ${name}: ${(model.parameterCount() / 1e6).toFixed(2)} M params, ${(model.macsPerImage() / 1e6).toFixed(1)} MMAC/img`);
    // The per-sample loop is slow (one full backward per image): timed on its own, 5 steps, after the others warmed up.
    const { ['explain-loop:' + modes[0]![1]]: loop, ...fast } = steps;
    const times = timeInterleaved(fast, { warmup: o.warmup, rounds: o.rounds, perRound: 2 });
    if (loop) Object.assign(times, timeInterleaved({ ['explain-loop:' + modes[0]![1]]: loop }, { warmup: 0, rounds: 5, perRound: 1 }));
    const trainMed = median(times['train:' + modes[0]![1]] ?? []);
    for (const [mode, layer, spec] of modes) {
      const med = median(times[`${mode}:${layer}`]!);
      const flopsPerImage = 2 * model.macsPerImage() * (mode === 'infer' ? 1 : 3);
      rows.push({
        model: name, mode, layer, msMedian: med * 1e3, imagesPerSecond: o.batch / med,
        gflops: mode === 'train' || mode === 'infer' ? (flopsPerImage * o.batch) / med / 1e9 : null,
        torchImagesPerSecond: null, ratioVsTorch: null,
        overheadVsTrain: mode.startsWith('cam') || mode.startsWith('full') ? med / trainMed : null,
      });
      if (spec) specs.add(spec);
    }
    if (modes.some(([, , s]) => s)) refModels.push(name);
    model.dispose();
  }
  const torch = refModels.length ? runReference(o, refModels, specs) : [];
  for (const row of rows) {
    const spec = plan(row.model).find(([m, l]) => m === row.mode && l === row.layer)?.[2];
    const t = torch.find((r) => r.model === row.model && r.spec === spec);
    if (t) {
      row.torchImagesPerSecond = t.images_per_s;
      row.ratioVsTorch = row.imagesPerSecond / t.images_per_s;
    }
  }
  return { rows, info: { torch: torchConfig().version, threads: o.threads, batch: o.batch, peakGflops: peak.gflops, peakBasis: peak.basis } };
}

/** The table printed by `batchcam bench`. */
export function formatBench(rows: BenchRow[], info: Record<string, unknown>): string {
  const head = `${'model'.padEnd(16)}${'mode'.padEnd(14)}${'layer'.padEnd(8)}${'ms'.padStart(9)}${'img/s'.padStart(9)}${'GFLOP/s'.padStart(9)}${'torch'.padStart(9)}${'ours/torch'.padStart(11)}${'x train'.padStart(9)}`;
  const f = (v: number | null, d = 1): string => (v === null ? '-' : v.toFixed(d));
  const lines = rows.map((r) => `${r.model.padEnd(16)}${r.mode.padEnd(14)}${r.layer.padEnd(8)}${f(r.msMedian).padStart(9)}${f(r.imagesPerSecond).padStart(9)}` +
    `${f(r.gflops).padStart(9)}${f(r.torchImagesPerSecond).padStart(9)}${f(r.ratioVsTorch, 2).padStart(11)}${f(r.overheadVsTrain, 2).padStart(9)}`);
  const speedups = [...new Set(rows.map((r) => r.model))].map((m) => {
    const b = rows.find((r) => r.model === m && r.mode === 'explain-batch');
    const l = rows.find((r) => r.model === m && r.mode === 'explain-loop');
    return b && l ? `# ${m}: Batch-CAM vs per-sample loop (explanations for a batch): ${(b.imagesPerSecond / l.imagesPerSecond).toFixed(1)}x` : '';
  }).filter(Boolean);
  const peak = Number(info.peakGflops);
  const eff = rows.filter((r) => r.gflops !== null).map((r) => `# ${r.model} ${r.mode}: ${f(r.gflops)} GFLOP/s = ${((100 * r.gflops!) / peak).toFixed(1)}% of the estimated fp32 peak ${peak.toFixed(0)} GFLOP/s`);
  return [head, ...lines, ...speedups, ...eff, `# peak basis: ${String(info.peakBasis)}`].join('\n');
}
