import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRAIN_OPTIONS } from '../../src/train/options.js';
import { EVALUATE_OPTIONS } from '../../src/eval/evaluate-options.js';
import { cliPath } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

test('docs/method.md §8 lists every training option and evaluation setting with its default and help', () => {
  const doc = read('docs/method.md');
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  for (const s of TRAIN_OPTIONS) {
    assert.ok(doc.includes(`| \`--${s.flag}\` | \`${JSON.stringify(s.def)}\` |`), `row for --${s.flag}`);
    assert.ok(doc.includes(`| ${cell(s.help)} |`), `help of --${s.flag}`);
  }
  for (const s of EVALUATE_OPTIONS) {
    assert.ok(doc.includes(`| \`${s.key}\` | \`--${s.flag}\` | \`${JSON.stringify(s.def)}\` |`), `row for ${s.key}`);
    assert.ok(doc.includes(`| ${cell(s.help)} |`), `help of ${s.key}`);
  }
  // Every "§n" the sources cite exists in docs/method.md.
  const sections = new Set([...doc.matchAll(/^## (\d+)\. /gm)].map((m) => m[1]));
  for (const file of files(['src', 'test', 'README.md', 'RESULTS.md'])) {
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/docs\/method\.md (?:section |§)(\d+)/g)) {
      assert.ok(sections.has(m[1]), `${file} cites docs/method.md §${m[1]}, which does not exist`);
    }
  }
});

test('batchcam evaluate --help lists every evaluation setting with its default', () => {
  const r = spawnSync(process.execPath, [cliPath(), 'evaluate', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const s of EVALUATE_OPTIONS) {
    assert.match(r.stdout, new RegExp(`--${s.flag} `), s.flag);
    assert.ok(r.stdout.includes(`default ${JSON.stringify(s.def)}]`), `${s.flag} default`);
  }
});

/** Every file under the given paths (relative to the repository root), skipping build outputs. */
function files(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const abs = join(ROOT, p);
    if (statSync(abs).isDirectory()) {
      for (const e of readdirSync(abs)) if (e !== 'node_modules' && e !== '__pycache__') walk(join(p, e));
    } else {
      out.push(relative(ROOT, abs));
    }
  };
  for (const p of paths) walk(p);
  return out;
}

test('no source, test, script or document refers to a path outside the repository', () => {
  // Pieces joined at run time, so that this file does not match itself.
  const outside = new RegExp(['\\.\\./sha' + 'red', '/wo' + 'rk/', 'METH' + 'OD\\.md'].join('|'));
  // Recorded outputs of past runs (bench/results, docs/results) keep the command lines they were made with.
  const checked = files(['src', 'test', 'scripts', 'docs', 'bench', 'experiments', 'README.md', 'RESULTS.md', 'package.json'])
    .filter((f) => !/^(bench|docs)\/results\//.test(f));
  assert.ok(checked.length > 100, `${checked.length} files checked`);
  const found = checked.filter((f) => outside.test(readFileSync(join(ROOT, f), 'utf8')));
  assert.deepEqual(found, []);
});
