#!/usr/bin/env node
// The README's performance table from `batchcam bench` JSON: `node scripts/bench-table.mjs bench/results/bench-….json`.
// Given several JSONs of the same modes (repeated runs), every figure is the median over the runs, so one noisy run
// of a shared VM does not decide a borderline ratio; `--spread` adds each ratio's min–max. Needs no libtorch.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const spread = args.includes('--spread');
const files = args.filter((a) => a !== '--spread');
if (files.length === 0) {
  console.error('usage: node scripts/bench-table.mjs [--spread] BENCH.json [BENCH2.json …]');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const key = (r) => `${r.model}|${r.mode}|${r.layer}`;
const median = (vs) => {
  const s = vs.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f = (v, d = 2) => (v === null || v === undefined ? '–' : v.toFixed(d));
const FIELDS = ['imagesPerSecond', 'torchImagesPerSecond', 'ratioVsTorch', 'overheadVsTrain', 'torchOverheadVsTrain', 'percentOfPeak'];
const lines = [
  '| model | mode | CAM layer | ours img/s | PyTorch img/s | ours / PyTorch | × our train step | PyTorch: × its train step | % of peak |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|',
];
for (const r of runs[0].rows) {
  const same = runs.map((run) => run.rows.find((q) => key(q) === key(r))).filter(Boolean);
  const m = Object.fromEntries(FIELDS.map((k) => [k, median(same.map((q) => q[k]))]));
  const range = (k) => {
    const vs = same.map((q) => q[k]).filter((v) => v !== null && v !== undefined);
    return spread && vs.length > 1 ? ` (${f(Math.min(...vs))}–${f(Math.max(...vs))})` : '';
  };
  lines.push(`| ${r.model} | ${r.mode} | ${r.mode === 'train' || r.mode === 'infer' ? '' : r.layer} | ${f(m.imagesPerSecond, 1)} | ` +
    `${f(m.torchImagesPerSecond, 1)} | ${f(m.ratioVsTorch)}${range('ratioVsTorch')} | ${f(m.overheadVsTrain)}${range('overheadVsTrain')} | ` +
    `${f(m.torchOverheadVsTrain)} | ${f(m.percentOfPeak, 1)} |`);
}
console.log(lines.join('\n'));
const { info } = runs[0];
const of = runs.length > 1 ? `; every figure the median of ${runs.length} runs` : '';
console.log(`\nBatch ${info.batch}, ${info.threads} threads, libtorch ${info.torch}; peak ${Number(info.peakGflops).toFixed(0)} GFLOP/s (${info.peakBasis})${of}.`);
