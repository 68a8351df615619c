import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/train/trainer.js';

for (const model of ['resnet18', 'convnextv2-atto']) {
  test(`${model} trains 200 steps on a real MNIST slice with both regularisers, and its losses fall`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `batchcam-${model}-`));
    const { history } = await train({
      model, trainLimit: 1600, testLimit: 200, batchSize: 16, epochs: 2, lambdaProto: 1, lambdaBatch: 1, distance: 'ssim',
      warmupSteps: 20, seed: 1,
    }, { outDir: dir, quiet: true });
    assert.equal(history.length, 2);
    assert.equal(history[1]!.step, 200);
    const [e1, e2] = history as [typeof history[0], typeof history[0]];
    assert.ok(e2.loss < e1.loss, `total loss ${e1.loss} → ${e2.loss}`);
    assert.ok(e2.ce < e1.ce, `cross-entropy ${e1.ce} → ${e2.ce}`);
    assert.ok(e1.proto !== null && e1.batch !== null, 'both regularisers were on');
    assert.ok(e2.testAccuracy > 0.5, `test accuracy ${e2.testAccuracy} after 200 steps (chance is 0.1)`);
  });
}
