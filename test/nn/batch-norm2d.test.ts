import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { BatchNorm2d } from '../../src/nn/batch-norm2d.js';
import { realMnistBatch } from '../helpers/mnist-batch.js';
import { maxTensorDiff } from '../helpers/tensor-diff.js';

const snapshot = (m: { namedBuffers(): [string, T.Tensor][] }): Map<string, T.Tensor> =>
  new Map(m.namedBuffers().map(([k, t]) => [k, T.keep(t.to('float64'))]));

async function trainingResNet18(): Promise<{ model: ReturnType<typeof createModel>; x: T.Tensor }> {
  T.manualSeed(3);
  const model = createModel('resnet18', 10);
  model.train();
  const { x } = await realMnistBatch(16);
  return { model, x };
}

test("runningStats 'frozen': a training-mode ResNet18 forward leaves every running statistic (and the batch count) as it was", async () => {
  const { model, x } = await trainingResNet18();
  const before = snapshot(model);
  model.forward(x, { runningStats: 'frozen' });
  for (const [k, t] of model.namedBuffers()) assert.ok(maxTensorDiff(t.to('float64'), before.get(k)!) === 0, `${k} unchanged`);
});

test("runningStats 'frozen' normalises with batch statistics: the same output as a normal training-mode forward, which does move the running means", async () => {
  const { model, x } = await trainingResNet18();
  const before = snapshot(model);
  const frozen = model.forward(x, { runningStats: 'frozen' });
  const normal = model.forward(x);
  assert.ok(maxTensorDiff(frozen, normal) < 1e-5, 'same output as a normal training-mode forward');
  const moved = model.namedBuffers().filter(([k, t]) => k.endsWith('running_mean') && maxTensorDiff(t.to('float64'), before.get(k)!) > 0);
  assert.ok(moved.length > 0, 'a normal forward updates the running means');
});

test("BatchNorm2d with runningStats 'frozen' equals F.batch_norm without running statistics and counts no batch", () => {
  const bn = new BatchNorm2d(4);
  bn.train();
  const z = T.randn([8, 4, 5, 5]);
  const want = T.batchNorm(z, null, null, { training: true, momentum: 0.1, eps: 1e-5, weight: bn.weight, bias: bn.bias });
  assert.ok(maxTensorDiff(bn.forward(z, { runningStats: 'frozen' }), want) < 1e-6);
  assert.equal(bn.numBatchesTracked.item(), 0);
});
