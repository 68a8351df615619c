import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { BatchNorm2d, withFrozenRunningStats } from '../../src/nn/batch-norm2d.js';
import { realMnistBatch } from '../helpers/mnist-batch.js';
import { maxTensorDiff } from '../helpers/tensor-diff.js';

const snapshot = (m: { namedBuffers(): [string, T.Tensor][] }): Map<string, T.Tensor> =>
  new Map(m.namedBuffers().map(([k, t]) => [k, T.keep(t.to('float64'))]));

test('withFrozenRunningStats: a training-mode ResNet18 forward normalises with batch statistics and leaves every running statistic as it was', async () => {
  T.manualSeed(3);
  const model = createModel('resnet18', 10);
  model.train();
  const { x } = await realMnistBatch(16);
  const before = snapshot(model);
  const frozen = withFrozenRunningStats(model, () => model.forward(x));
  for (const [k, t] of model.namedBuffers()) assert.ok(maxTensorDiff(t.to('float64'), before.get(k)!) === 0, `${k} unchanged`);
  assert.ok(model.namedModules().every(([, m]) => !(m instanceof BatchNorm2d) || !m.frozenStats), 'the mode is reset');
  // The same forward with updates on gives the same output (batch statistics either way) and does move the statistics.
  const normal = model.forward(x);
  assert.ok(maxTensorDiff(frozen, normal) < 1e-5, 'same output as a normal training-mode forward');
  const moved = model.namedBuffers().filter(([k, t]) => k.endsWith('running_mean') && maxTensorDiff(t.to('float64'), before.get(k)!) > 0);
  assert.ok(moved.length > 0, 'a normal forward updates the running means');
  // Against the functional op with no running statistics (torch.nn.functional.batch_norm(x, None, None, training=True)).
  const bn = new BatchNorm2d(4);
  bn.train();
  const z = T.randn([8, 4, 5, 5]);
  const want = T.batchNorm(z, null, null, { training: true, momentum: 0.1, eps: 1e-5, weight: bn.weight, bias: bn.bias });
  assert.ok(maxTensorDiff(withFrozenRunningStats(bn, () => bn.forward(z)), want) < 1e-6);
  assert.equal(bn.numBatchesTracked.item(), 0);
});
