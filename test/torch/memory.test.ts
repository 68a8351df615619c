import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { AdamW } from '../../src/nn/adamw.js';

test('1,000 SimpleCNN training steps keep the live-tensor count constant and RSS growth under 50 MB', async () => {
  T.manualSeed(0);
  const model = createModel('simplecnn');
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const x = T.keep(T.rand([4, 1, 28, 28]));
  const y = T.keep(T.randint(0, 10, [4]));
  const step = (): number => T.scope(() => {
    opt.zeroGrad();
    const loss = T.crossEntropy(model.forward(x), y);
    T.backward(loss);
    opt.step();
    return loss.item();
  });
  for (let i = 0; i < 50; i++) step(); // warm-up: optimiser state and allocator pools exist from here on
  await T.yieldToEventLoop();
  const live = T.liveTensors();
  const rss = process.memoryUsage().rss;
  let first = NaN;
  let last = NaN;
  for (let i = 0; i < 1000; i++) {
    if (i % 16 === 0) await T.yieldToEventLoop(); // as the trainer does: lets Node run the N-API finalizers
    last = step();
    if (i === 0) first = last;
    assert.equal(T.liveTensors(), live, `live tensors changed at step ${i}`);
  }
  const growthMb = (process.memoryUsage().rss - rss) / 2 ** 20;
  assert.ok(growthMb < 50, `RSS grew ${growthMb.toFixed(1)} MB`);
  assert.ok(last < first, 'and it is really training: the loss on the fixed batch fell');
});
