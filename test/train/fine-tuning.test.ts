import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as T from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { train } from '../../src/train/trainer.js';

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** The weights a fresh run of `model` starts from (seed 0), as the trainer builds them. */
function initialWeights(model: string): Map<string, number[]> {
  T.manualSeed(0);
  const m = createModel(model, 10);
  const w = new Map([...m.stateDict()].map(([k, t]) => [k, t.toArray()]));
  m.dispose();
  return w;
}

async function trainSteps(cfg: Record<string, unknown>, steps: number): Promise<Map<string, number[]>> {
  const dir = mkdtempSync(join(tmpdir(), 'batchcam-finetune-'));
  dirs.push(dir);
  const r = await train({ trainLimit: 320, testLimit: 50, batchSize: 32, threads: 1, seed: 0, ...cfg }, { outDir: dir, quiet: true, maxSteps: steps });
  const w = new Map([...r.model.stateDict()].map(([k, t]) => [k, t.toArray()]));
  r.model.dispose();
  r.bank?.dispose();
  return w;
}

const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

test('--freeze-backbone-steps 3: after 3 steps every tensor but the head\'s is bit-identical to the start, the head has moved', async () => {
  const start = initialWeights('simplecnn');
  const w = await trainSteps({ model: 'simplecnn', freezeBackboneSteps: 3 }, 3);
  for (const [k, v] of w) {
    if (k.startsWith('fc2.')) assert.ok(!same(v, start.get(k)!), `${k} did not move`);
    else assert.ok(same(v, start.get(k)!), `${k} moved`);
  }
});

test('--freeze-backbone-steps 3: from step 4 on the backbone trains', async () => {
  const start = initialWeights('simplecnn');
  const w = await trainSteps({ model: 'simplecnn', freezeBackboneSteps: 3 }, 4);
  assert.ok(!same(w.get('conv1.weight')!, start.get('conv1.weight')!));
});

test('--freeze-bn: BatchNorm running statistics and step counts stay as they started while the convolutions train', async () => {
  const start = initialWeights('resnet18');
  const w = await trainSteps({ model: 'resnet18', freezeBn: true, trainLimit: 64, testLimit: 32 }, 2);
  for (const [k, v] of w) {
    if (/running_mean|running_var|num_batches_tracked/.test(k)) assert.ok(same(v, start.get(k)!), `${k} changed`);
  }
  assert.ok(!same(w.get('conv1.weight')!, start.get('conv1.weight')!));
});

test('without --freeze-bn the same two steps do update the running statistics (the test above can fail)', async () => {
  const start = initialWeights('resnet18');
  const w = await trainSteps({ model: 'resnet18', trainLimit: 64, testLimit: 32 }, 2);
  assert.ok(!same(w.get('bn1.running_mean')!, start.get('bn1.running_mean')!));
});

test('--backbone-lr-scale 0 leaves every tensor outside the head bit-identical while the head trains (the rate reaches the optimiser)', async () => {
  const start = initialWeights('simplecnn');
  const w = await trainSteps({ model: 'simplecnn', backboneLrScale: 0 }, 2);
  for (const [k, v] of w) {
    if (k.startsWith('fc2.')) assert.ok(!same(v, start.get(k)!), `${k} did not move`);
    else assert.ok(same(v, start.get(k)!), `${k} moved`);
  }
});
