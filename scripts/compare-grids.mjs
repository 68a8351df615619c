// Welch's t-test of one setting's metric between two experiment grids (e.g. the same setting fine-tuned from
// pretrained weights vs from scratch), from the per-seed values in their aggregate.json, with the project's own
// welchTTest (what `experiment` uses within a grid). Run `npm run build` first.
//   node scripts/compare-grids.mjs A/aggregate.json B/aggregate.json SETTING[,SETTING…] [METRIC=accuracy]
// SETTING may be `a:b`: setting a of A against setting b of B (A and B may be the same grid).
import { readFileSync } from 'node:fs';
import { meanStd, welchTTest } from '../dist/src/eval/stats.js';

const [a, b, settings, metric = 'accuracy'] = process.argv.slice(2);
if (!a || !b || !settings) {
  console.error('usage: node scripts/compare-grids.mjs A/aggregate.json B/aggregate.json SETTING[,SETTING…] [METRIC]');
  process.exit(2);
}
const rows = (f) => JSON.parse(readFileSync(f, 'utf8')).rows;
const fmt = (v) => { const m = meanStd(v); return `${m.mean.toFixed(4)} ± ${m.std.toFixed(4)} (n ${v.length})`; };
console.log(`| setting | ${metric}: ${a} | ${metric}: ${b} | difference | Welch p |`);
console.log('|---|---:|---:|---:|---:|');
for (const s of settings.split(',')) {
  const [sa, sb = sa] = s.split(':');
  const [ra, rb] = [rows(a).find((r) => r.setting === sa), rows(b).find((r) => r.setting === sb)];
  if (!ra?.[metric] || !rb?.[metric]) {
    console.log(`| ${s} | ${ra?.[metric] ? fmt(ra[metric].values) : '—'} | ${rb?.[metric] ? fmt(rb[metric].values) : '—'} | — | — |`);
    continue;
  }
  const [va, vb] = [ra[metric].values, rb[metric].values];
  const t = welchTTest(va, vb);
  console.log(`| ${s} | ${fmt(va)} | ${fmt(vb)} | ${(meanStd(va).mean - meanStd(vb).mean).toFixed(4)} | ${t ? t.p.toPrecision(2) : '—'} |`);
}
