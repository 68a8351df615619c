// Rewrites the training-options table in README.md from TRAIN_OPTIONS (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { describeKind } from '../dist/src/config/option-spec.js';
import { TRAIN_OPTIONS } from '../dist/src/train/options.js';

const esc = (s) => s.replace(/\|/g, '\\|');
const rows = TRAIN_OPTIONS.map((s) => `| \`--${s.flag}\` | \`${JSON.stringify(s.def)}\` | ${esc(describeKind(s))}${s.nullable ? ' or null' : ''} | ${esc(s.help)} |`);
const readme = readFileSync('README.md', 'utf8');
const head = '| option | default | accepts | meaning |\n|---|---|---|---|\n';
const start = readme.indexOf(head);
if (start < 0) throw new Error('README.md has no options table header');
let end = start + head.length;
while (readme.startsWith('| `--', end)) end = readme.indexOf('\n', end) + 1;
writeFileSync('README.md', readme.slice(0, start) + head + rows.join('\n') + '\n' + readme.slice(end));
