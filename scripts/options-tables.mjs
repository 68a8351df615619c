// Rewrites the option tables of README.md and docs/method.md §8 from TRAIN_OPTIONS and EVALUATE_OPTIONS
// (run after `npm run build`: node scripts/options-tables.mjs). Each table is found by its header line; the rows
// under it are replaced.
import { readFileSync, writeFileSync } from 'node:fs';
import { describeKind } from '../dist/src/config/option-spec.js';
import { TRAIN_OPTIONS } from '../dist/src/train/options.js';
import { EVALUATE_OPTIONS } from '../dist/src/eval/evaluate-options.js';

const esc = (s) => s.replace(/\|/g, '\\|');
const accepts = (s) => esc(describeKind(s)) + (s.nullable ? ' or null' : '');

const TRAIN_HEAD = '| option | default | accepts | meaning |\n|---|---|---|---|\n';
const trainRows = TRAIN_OPTIONS.map((s) => `| \`--${s.flag}\` | \`${JSON.stringify(s.def)}\` | ${accepts(s)} | ${esc(s.help)} |`);
const EVALUATE_HEAD = '| setting | flag | default | accepts | meaning |\n|---|---|---|---|---|\n';
const evaluateRows = EVALUATE_OPTIONS.map((s) => `| \`${s.key}\` | \`--${s.flag}\` | \`${JSON.stringify(s.def)}\` | ${accepts(s)} | ${esc(s.help)} |`);

function replaceTable(text, file, head, rows) {
  const start = text.indexOf(head);
  if (start < 0) throw new Error(`${file} has no table with the header ${JSON.stringify(head.split('\n')[0])}`);
  let end = start + head.length;
  while (text.startsWith('| ', end)) end = text.indexOf('\n', end) + 1;
  return text.slice(0, start) + head + rows.map((r) => r + '\n').join('') + text.slice(end);
}

function rewrite(file, tables) {
  let text = readFileSync(file, 'utf8');
  for (const [head, rows] of tables) text = replaceTable(text, file, head, rows);
  writeFileSync(file, text);
}

rewrite('README.md', [[TRAIN_HEAD, trainRows]]);
rewrite('docs/method.md', [[TRAIN_HEAD, trainRows], [EVALUATE_HEAD, evaluateRows]]);
