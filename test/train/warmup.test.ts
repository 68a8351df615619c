import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/train/trainer.js';
import { regularised } from '../../src/train/objective.js';
import { resolveConfig } from '../../src/train/options.js';
import type { StepRecord } from '../../src/train/run/step-log.js';

test('regularised: on once both CE-only warm-ups are over and a λ is positive', () => {
  const cfg = resolveConfig({ epochs: 3, lambdaProto: 1, camWarmupEpochs: 1, camWarmupSteps: 250 });
  assert.equal(regularised(cfg, { epoch: 0, step: 300 }), false); // warm-up epoch
  assert.equal(regularised(cfg, { epoch: 1, step: 249 }), false); // warm-up steps
  assert.equal(regularised(cfg, { epoch: 1, step: 250 }), true);
  assert.equal(regularised(resolveConfig({ epochs: 3 }), { epoch: 2, step: 1000 }), false); // both λ = 0
  assert.equal(regularised(resolveConfig({ lambdaBatch: 0.5 }), { epoch: 0, step: 0 }), true); // defaults: no warm-up
});

test('--cam-warmup-steps: the first N steps are CE only, then the regularisers run (steps.jsonl shows which)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchcam-warmup-'));
  try {
    // 320 images / 32 = 10 steps; CE only for steps 1–4.
    const r = await train({ trainLimit: 320, testLimit: 50, batchSize: 32, lambdaProto: 1, lambdaBatch: 1, camWarmupSteps: 4, logEvery: 1, threads: 1 },
      { outDir: dir, quiet: true });
    r.model.dispose();
    r.bank?.dispose();
    const steps = readFileSync(join(dir, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
    assert.deepEqual(steps.map((s) => s.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(steps.map((s) => s.proto === null), [true, true, true, true, false, false, false, false, false, false]);
    assert.deepEqual(steps.map((s) => s.batch === null), [true, true, true, true, false, false, false, false, false, false]);
    // CE-only steps: the loss is the cross-entropy; afterwards it is CE + λp·proto + λb·batch.
    for (const s of steps) {
      const expected = s.ce + (s.proto ?? 0) + (s.batch ?? 0);
      assert.ok(Math.abs(s.loss - expected) < 1e-5, `step ${s.step}: loss ${s.loss} vs ${expected}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
