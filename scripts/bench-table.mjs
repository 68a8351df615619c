#!/usr/bin/env node
// The README's performance table from a `batchcam bench` JSON: `node scripts/bench-table.mjs bench/results/bench-….json`.
// Needs no libtorch (reads the JSON only).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/bench-table.mjs BENCH.json');
  process.exit(2);
}
const { info, rows } = JSON.parse(readFileSync(file, 'utf8'));
const f = (v, d = 2) => (v === null || v === undefined ? '–' : v.toFixed(d));
const lines = [
  '| model | mode | CAM layer | ours img/s | PyTorch img/s | ours / PyTorch | × our train step | PyTorch: × its train step | % of peak |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|',
];
for (const r of rows) {
  lines.push(`| ${r.model} | ${r.mode} | ${r.mode === 'train' || r.mode === 'infer' ? '' : r.layer} | ${f(r.imagesPerSecond, 1)} | ${f(r.torchImagesPerSecond, 1)} | ` +
    `${f(r.ratioVsTorch)} | ${f(r.overheadVsTrain)} | ${f(r.torchOverheadVsTrain)} | ${f(r.percentOfPeak, 1)} |`);
}
console.log(lines.join('\n'));
console.log(`\nBatch ${info.batch}, ${info.threads} threads, libtorch ${info.torch}; peak ${Number(info.peakGflops).toFixed(0)} GFLOP/s (${info.peakBasis}).`);
