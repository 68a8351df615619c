import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { Classifier, createModel, type SplitForward } from '../../src/models/index.js';
import { batchCam, camFromWeights, gradCamLoop } from '../../src/cam/index.js';
import { meanDistance } from '../../src/losses/distance.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { realMnistBatch } from '../helpers/mnist-batch.js';

function maxAbsDiff(a: T.Tensor, b: T.Tensor): number {
  return T.scope(() => a.sub(b).abs().amax().item());
}

for (const name of ['simplecnn', 'resnet18', 'convnextv2-atto']) {
  for (const mode of ['train', 'eval'] as const) {
    test(`${name} (${mode} mode): Batch-CAM equals the per-sample Grad-CAM loop to 1e-5, label and pred targets`, async () => {
      const { x, y } = await realMnistBatch(12);
      T.manualSeed(3);
      const model = createModel(name);
      model.train(mode === 'train');
      for (const target of ['label', 'pred'] as const) {
        T.scope(() => {
          // Same seed before each: dropout and drop-path draw the same masks in both forward passes.
          T.manualSeed(11);
          const fast = batchCam(model, x, y, { target });
          T.manualSeed(11);
          const slow = gradCamLoop(model, x, y, { target });
          assert.deepEqual(fast.cams.shape, [12, 28, 28]);
          assert.deepEqual(fast.targets.toArray(), slow.targets.toArray());
          assert.ok(maxAbsDiff(fast.cams, slow.cams) < 1e-5, `${target}: max difference ${maxAbsDiff(fast.cams, slow.cams)}`);
          assert.ok(fast.cams.amax().item() > 0.5, 'maps are not all zero');
        });
      }
      assert.equal(model.training, mode === 'train', 'the model mode is left as it was');
      model.dispose();
    });
  }
}

test('ResNet18 at layer3: exact in eval mode, but train-mode batch norm couples samples (and the model says so)', async () => {
  const { x, y } = await realMnistBatch(8);
  T.manualSeed(5);
  const model = createModel('resnet18');
  T.scope(() => {
    model.eval();
    assert.equal(model.headIsPerSample('layer3'), true);
    assert.ok(maxAbsDiff(batchCam(model, x, y, { layer: 'layer3' }).cams, gradCamLoop(model, x, y, { layer: 'layer3' }).cams) < 1e-5);
    model.train();
    assert.equal(model.headIsPerSample('layer3'), false);
    assert.ok(maxAbsDiff(batchCam(model, x, y, { layer: 'layer3' }).cams, gradCamLoop(model, x, y, { layer: 'layer3' }).cams) > 1e-4);
  });
  model.dispose();
});

/** A float64 two-conv classifier whose head is non-linear in A, so α depends on A and on the head's weights. */
class TinyNet extends Classifier {
  readonly targetLayers = ['conv1'] as const;
  readonly numClasses = 3;
  constructor(readonly w1: T.Tensor, readonly w2: T.Tensor, readonly fc: T.Tensor) {
    super();
  }
  forwardSplit(x: T.Tensor): SplitForward {
    const a = T.conv2d(x, this.w1, null, { padding: 1 }).relu();
    const h = T.conv2d(a, this.w2, null, { padding: 1 }).relu().mean([2, 3]);
    return { activation: a, logits: T.linear(h, this.fc) };
  }
  macsPerImage(): number {
    return 0;
  }
}

test('regularised-loss gradients: second-order matches finite differences; detached equals α held constant', () => {
  T.manualSeed(1);
  const opts = { dtype: 'float64' as const };
  const x = T.rand([3, 1, 6, 6], opts);
  const y = T.tensor([0, 2, 1], [3], { dtype: 'int64' });
  const target = T.rand([3, 6, 6], opts);
  const w1 = T.randn([4, 1, 3, 3], opts);
  const w2 = T.randn([5, 4, 3, 3], opts);
  const fc = T.randn([3, 5], opts);
  const loss = (params: T.Tensor[], grad: 'second-order' | 'detached'): T.Tensor => {
    const net = new TinyNet(params[0]!, params[1]!, params[2]!);
    const { cams, logits } = batchCam(net, x, y, { grad, upsample: false });
    return T.crossEntropy(logits, y).add(meanDistance(cams, target, 'l2'));
  };
  // (1) second order: autograd through α and A equals central differences of the whole objective.
  const err = gradcheck((p) => loss(p, 'second-order'), [w1, w2, fc]);
  assert.ok(err < 1e-6, `second-order max error ${err}`);
  // (2) detached: the gradient equals that of a CAM built from A with α frozen at its value.
  const detachedGrads = T.grad(loss([w1, w2, fc], 'detached'), [w1, w2, fc]);
  const net = new TinyNet(w1, w2, fc);
  const { activation, logits } = net.forwardSplit(x);
  const score = logits.gather(1, y.unsqueeze(1)).sum();
  const [g] = T.grad(score, [activation], { retainGraph: true });
  const alphaConst = g!.mean([2, 3], true).detach();
  const frozen = T.crossEntropy(logits, y).add(meanDistance(camFromWeights(alphaConst, activation, 'max', null), target, 'l2'));
  const frozenGrads = T.grad(frozen, [w1, w2, fc]);
  detachedGrads.forEach((d, i) => assert.ok(maxAbsDiff(d!, frozenGrads[i]!) < 1e-12, `param ${i}`));
  // (3) and the two modes really differ (the second-order path reaches the head's weights through α).
  const secondGrads = T.grad(loss([w1, w2, fc], 'second-order'), [w1, w2, fc]);
  assert.ok(maxAbsDiff(secondGrads[1]!, detachedGrads[1]!) > 1e-6);
});
