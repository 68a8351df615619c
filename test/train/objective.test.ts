import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { batchCam } from '../../src/cam/index.js';
import { attentionMiningLoss, batchCamLoss, PrototypeBank, prototypeLoss } from '../../src/losses/index.js';
import { objective } from '../../src/train/objective.js';
import { resolveConfig } from '../../src/train/options.js';
import { realMnistBatch } from '../helpers/mnist-batch.js';
import { maxTensorDiff } from '../helpers/tensor-diff.js';

/** Every parameter's gradient equal within 1e-5 of its largest entry (or of 1e-3 for a near-zero one). */
function sameGradients(got: (T.Tensor | null)[], want: (T.Tensor | null)[]): void {
  want.forEach((w, i) => {
    const s = T.scope(() => w!.abs().amax().item());
    assert.ok(maxTensorDiff(got[i]!, w!) < 1e-5 * Math.max(s, 1e-3), `parameter ${i}`);
  });
}

// The objective's two map losses share the CAMs' SSIM statistics through one MapComparer; it must equal
// CE + λp·prototypeLoss + λb·batchCamLoss computed term by term, each loss here with its own distance kind (its own
// SSIM filtering of the CAMs).
for (const [proto, batch] of [['ssim', 'ssim'], ['l1', 'ssim'], ['l2', 'l2']] as const) {
  test(`objective = CE + λp·L_proto + λb·L_batch term by term, values and gradients (proto ${proto}, batch ${batch})`, async () => {
    T.manualSeed(7);
    const model = createModel('simplecnn', 10);
    model.eval(); // a deterministic forward, so both computations see the same network
    const { x, y } = await realMnistBatch(32);
    const bank = new PrototypeBank({ numClasses: 10, height: 28, width: 28 });
    T.noGrad(() => {
      const { cams } = batchCam(model, x, y, { grad: 'detached' });
      bank.update(cams, y, T.ones([32], { dtype: 'bool' }));
    });
    const cfg = resolveConfig({ lambdaProto: 0.7, lambdaBatch: 0.3, protoDistance: proto, batchDistance: batch });
    const params = model.parameters();
    const terms = objective(model, x, y, cfg, bank, { epoch: 0, step: 0 });
    const got = T.grad(terms.loss, params, { allowUnused: true });
    // Reference, before the objective's bank update changed the bank: rebuild it the same way.
    const bank2 = new PrototypeBank({ numClasses: 10, height: 28, width: 28 });
    T.noGrad(() => {
      const { cams } = batchCam(model, x, y, { grad: 'detached' });
      bank2.update(cams, y, T.ones([32], { dtype: 'bool' }));
    });
    const { cams, logits } = batchCam(model, x, y, {});
    const pl = prototypeLoss(cams, y, bank2, proto);
    const bl = batchCamLoss(cams, y, batch);
    const ref = T.crossEntropy(logits, y).add(pl, 0.7).add(bl, 0.3);
    assert.ok(maxTensorDiff(terms.proto!, pl) < 1e-6 && maxTensorDiff(terms.batch!, bl) < 1e-6, 'the two terms');
    assert.ok(maxTensorDiff(terms.loss, ref) < 1e-6, 'the total');
    assert.ok(T.scope(() => pl.item()) > 1e-3 && T.scope(() => bl.item()) > 1e-3, 'both terms are non-trivial');
    const want = T.grad(ref, params, { allowUnused: true });
    sameGradients(got, want);
  });
}

// The attention-mining term re-classifies the batch with each CAM's region erased: one more forward pass through the
// same model, whose gradient reaches the parameters through that pass and (attached mask) through the CAMs.
for (const mask of ['attached', 'detached'] as const) {
  test(`objective = CE + λam·L_am term by term, values and gradients (mask ${mask})`, async () => {
    T.manualSeed(8);
    const model = createModel('simplecnn', 10);
    model.eval();
    const { x, y } = await realMnistBatch(16);
    const cfg = resolveConfig({ lambdaMining: 0.6, miningMask: mask });
    const params = model.parameters();
    const terms = objective(model, x, y, cfg, null, { epoch: 0, step: 0 });
    const got = T.grad(terms.loss, params, { allowUnused: true });
    const { cams, logits } = batchCam(model, x, y, {});
    const am = attentionMiningLoss((xe) => model.forward(xe), x, cams, y, { threshold: 0.5, scale: 10, mask });
    const ref = T.crossEntropy(logits, y).add(am, 0.6);
    assert.ok(maxTensorDiff(terms.mining!, am) < 1e-6 && maxTensorDiff(terms.loss, ref) < 1e-6, 'the term and the total');
    const v = T.scope(() => am.item());
    assert.ok(v > 1e-3 && v < 1, `a probability, non-trivial: ${v}`);
    const want = T.grad(ref, params, { allowUnused: true });
    sameGradients(got, want);
  });
}
