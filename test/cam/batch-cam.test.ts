import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { Classifier, createModel, SimpleCNN, type SplitForward } from '../../src/models/index.js';
import { batchCam, camFromWeights, gradCamLoop } from '../../src/cam/index.js';
import { meanDistance } from '../../src/losses/distance.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { realMnistBatch } from '../helpers/mnist-batch.js';
import { maxTensorDiff } from '../helpers/tensor-diff.js';


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
          assert.ok(maxTensorDiff(fast.cams, slow.cams) < 1e-5, `${target}: max difference ${maxTensorDiff(fast.cams, slow.cams)}`);
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
    assert.ok(maxTensorDiff(batchCam(model, x, y, { layer: 'layer3' }).cams, gradCamLoop(model, x, y, { layer: 'layer3' }).cams) < 1e-5);
    model.train();
    assert.equal(model.headIsPerSample('layer3'), false);
    assert.ok(maxTensorDiff(batchCam(model, x, y, { layer: 'layer3' }).cams, gradCamLoop(model, x, y, { layer: 'layer3' }).cams) > 1e-4);
  });
  model.dispose();
});

/** A float64 two-conv classifier whose head is non-linear in A, so α depends on A and on the head's weights. */
class TinyNet extends Classifier {
  readonly camLayers = ['conv1'] as const;
  readonly numClasses = 3;
  constructor(readonly w1: T.Tensor, readonly w2: T.Tensor, readonly fc: T.Tensor) {
    super();
  }
  forwardSplit(x: T.Tensor): SplitForward {
    const a = T.conv2d(x, this.w1, null, { padding: 1 }).relu();
    const h = T.conv2d(a, this.w2, null, { padding: 1 }).relu().mean([2, 3]);
    return { activation: a, logits: T.linear(h, this.fc) };
  }
  macsAt(): number {
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
  detachedGrads.forEach((d, i) => assert.ok(maxTensorDiff(d!, frozenGrads[i]!) < 1e-12, `param ${i}`));
  // (3) and the two modes really differ (the second-order path reaches the head's weights through α).
  const secondGrads = T.grad(loss([w1, w2, fc], 'second-order'), [w1, w2, fc]);
  assert.ok(maxTensorDiff(secondGrads[1]!, detachedGrads[1]!) > 1e-6);
});

test('SimpleCNN: α from the max-pooled tensor\'s gradient equals α from the activation\'s, and so do the second-order gradients', async () => {
  T.manualSeed(3);
  const model = new SimpleCNN(10);
  model.train(); // dropout on: both paths read the masks of the same forward pass
  const { x, y } = await realMnistBatch(16);
  const { activation, logits, pooled } = model.forwardSplit(x);
  assert.ok(pooled, 'SimpleCNN exposes its pooled tensor');
  const score = logits.gather(1, y.unsqueeze(1)).sum();
  const [gA] = T.grad(score, [activation], { createGraph: true, retainGraph: true });
  const [gP] = T.grad(score, [pooled], { createGraph: true, retainGraph: true });
  const alphaA = gA!.mean([2, 3], true);
  const alphaP = gP!.sum([2, 3], true).div(activation.shape[2]! * activation.shape[3]!);
  const scale = T.scope(() => alphaA.abs().amax().item());
  assert.ok(scale > 0);
  assert.ok(maxTensorDiff(alphaA, alphaP) < 1e-6 * scale, `α differs by ${maxTensorDiff(alphaA, alphaP)} (scale ${scale})`);
  // A CAM loss through either α: the same parameter gradients (the second-order path reaches fc1/fc2 through α).
  const target = T.rand([16, 28, 28]);
  const params = model.parameters();
  const lossOf = (alpha: T.Tensor): T.Tensor => meanDistance(camFromWeights(alpha, activation, 'max', [28, 28]), target, 'ssim');
  const viaA = T.grad(lossOf(alphaA), params, { retainGraph: true, allowUnused: true });
  const viaP = T.grad(lossOf(alphaP), params, { retainGraph: true, allowUnused: true });
  for (const w of [model.fc1.weight, model.fc2.weight]) {
    assert.ok(T.scope(() => viaA[params.indexOf(w)]!.abs().amax().item()) > 0, 'the head\'s weights get a second-order gradient');
  }
  params.forEach((_, i) => {
    if (!viaA[i] || !viaP[i]) { // fc2.bias: a bias does not change ∂s/∂A, so neither path reaches it
      assert.equal(viaA[i], viaP[i], `parameter ${i}: reached by one path only`);
      return;
    }
    const s = T.scope(() => viaA[i]!.abs().amax().item());
    assert.ok(maxTensorDiff(viaA[i]!, viaP[i]!) <= 1e-4 * s, `parameter ${i}: ${maxTensorDiff(viaA[i]!, viaP[i]!)} vs scale ${s}`);
  });
});
