import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as T from '../../src/torch/index.js';
import { holdOutIndices } from '../../src/data/sampling/hold-out.js';
import { loadRawSplit } from '../../src/data/builtin/raw.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';
import { train } from '../../src/train/trainer.js';
import type { EpochRecord } from '../../src/train/session.js';
import { cliPath } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'batchcam-val-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('--val-fraction holds out round(n_c · f) of each class, disjoint from the rest and covering the split, the same for the same seed', async () => {
  const labels = (await loadRawSplit('mnist', 'train', { download: false })).labels.subarray(0, 3000);
  const a = holdOutIndices(labels, 0.2, 7, 10);
  const b = holdOutIndices(labels, 0.2, 7, 10);
  const c = holdOutIndices(labels, 0.2, 8, 10);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.held, c.held);
  assert.equal(new Set([...a.held, ...a.kept]).size, labels.length);
  assert.equal(a.held.length + a.kept.length, labels.length);
  for (let k = 0; k < 10; k++) {
    const n = labels.filter((y) => y === k).length;
    assert.equal([...a.held].filter((i) => labels[i] === k).length, Math.round(n * 0.2), `class ${k}`);
  }
});

const CONFIG = { trainLimit: 400, testLimit: 100, batchSize: 50, epochs: 3, threads: 1, seed: 0, valFraction: 0.25, logEvery: 0 };
let history: EpochRecord[];
before(async () => {
  const r = await train(CONFIG, { outDir: join(root, 'run'), quiet: true });
  history = r.history;
  r.model.dispose();
});

test('with --val-fraction every epoch has validation figures, the test split only the last, and training sees the rest only', () => {
  assert.ok(history.every((h) => typeof h.valAccuracy === 'number' && typeof h.valLoss === 'number'));
  assert.deepEqual(history.map((h) => h.testAccuracy === null), [true, true, false]);
  // 400 images, 100 held out: 300 for training, 6 steps of 50 an epoch.
  assert.deepEqual(history.map((h) => h.step), [6, 12, 18]);
});

test('best.safetensors holds the weights of the epoch with the best validation accuracy (an epoch-by-epoch rerun agrees)', async () => {
  const best = history.reduce((b, h, i) => (h.valAccuracy! > history[b]!.valAccuracy! ? i : b), 0);
  // The same run stopped at the end of the best epoch: its weights are what best.safetensors must hold.
  const r = await train(CONFIG, { outDir: join(root, `upto${best}`), quiet: true, maxSteps: history[best]!.step });
  const want = r.model.stateDict();
  const got = loadSafetensors(join(root, 'run', 'best.safetensors')).tensors;
  for (const [k, t] of want) assert.ok(T.noGrad(() => t.eq(got.get(k)!).all().item()), `${k} differs (best epoch ${best + 1})`);
  r.model.dispose();
});

test('evaluate takes best.safetensors as its checkpoint', () => {
  const r = spawnSync(process.execPath, [cliPath(), 'evaluate', '--checkpoint', join(root, 'run', 'best.safetensors'), '--faithfulness-n', '0',
    '--test-limit', '50', '--out', join(root, 'best-eval.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(root, 'best-eval.json')));
  assert.equal((JSON.parse(readFileSync(join(root, 'best-eval.json'), 'utf8')) as { n: number }).n, 50);
});
