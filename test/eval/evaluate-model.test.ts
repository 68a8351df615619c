import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { SimpleCNN } from '../../src/models/simple-cnn.js';
import { gradCamLoop } from '../../src/cam/grad-cam-loop.js';
import { distance } from '../../src/losses/distance.js';
import { loadDataset } from '../../src/data/load-dataset.js';
import type { LoadedDataset } from '../../src/data/dataset.js';
import { EVALUATION_KEYS, evaluateModel, type Evaluation } from '../../src/eval/index.js';

let data: LoadedDataset;
let model: SimpleCNN;
let ev: Evaluation;
const N = 200;

before(async () => {
  T.setNumThreads(1);
  data = await loadDataset('mnist', { trainLimit: 500, testLimit: N });
  T.manualSeed(0);
  model = new SimpleCNN();
  model.train(); // evaluateModel must switch to eval mode itself
  ev = evaluateModel(model, data, { faithfulnessN: 16, steps: 7, dataset: 'mnist', model: 'simplecnn', checkpoint: 'x.safetensors' });
});

test('evaluation.json has exactly the schema keys and survives JSON', () => {
  assert.deepEqual(Object.keys(ev), [...EVALUATION_KEYS]);
  assert.deepEqual(JSON.parse(JSON.stringify(ev)), ev);
  assert.equal(ev.n, N);
  assert.equal(ev.camTarget, 'pred');
  assert.equal(ev.decoy, null);
  assert.deepEqual(Object.keys(ev.coherence), ['l1', 'l2', 'ssim']);
  assert.deepEqual(Object.keys(ev.reconstruction), ['l1', 'l2', 'ssim']);
  assert.equal(ev.figures.classNames.length, 10);
  assert.equal(ev.figures.meanImages.length, 10);
  assert.ok(ev.figures.meanImages.every((m) => m.length === 784 && Math.max(...m) === 1));
  assert.equal(ev.figures.bankPrototypes, null);
  for (const s of [...ev.figures.samples, ...ev.figures.misclassified]) {
    assert.equal(s.image.length, 784);
    assert.equal(s.cam.length, 784);
  }
  assert.ok(ev.figures.samples.every((s) => s.label === s.pred));
  assert.ok(ev.figures.misclassified.every((s) => s.label !== s.pred));
  assert.equal(ev.faithfulness.n, 16);
  assert.equal(ev.faithfulness.steps, 7);
  for (const k of ['deletionAuc', 'insertionAuc', 'averageDrop'] as const) {
    assert.ok(ev.faithfulness[k] >= 0 && ev.faithfulness[k] <= 1, `${k} = ${ev.faithfulness[k]}`);
  }
});

test('runs in eval mode: the model is left in eval mode and a second evaluation is identical', () => {
  assert.equal(model.training, false);
  const again = evaluateModel(model.train(), data, { faithfulnessN: 16, steps: 7, dataset: 'mnist', model: 'simplecnn', checkpoint: 'x.safetensors' });
  assert.deepEqual(again, ev);
});

test('accuracy equals counting argmax of eval-mode logits', () => {
  model.eval();
  const preds = T.noGrad(() => T.scope(() => model.forward(T.fromArray(data.test.images, [N, 1, 28, 28])).argmax(1).toArray()));
  const y = Array.from(data.test.classes);
  const correct = preds.filter((p, i) => p === y[i]).length;
  assert.equal(ev.accuracy, correct / N);
  for (let c = 0; c < 10; c++) {
    const idx = y.map((v, i) => (v === c ? i : -1)).filter((i) => i >= 0);
    assert.equal(ev.perClassAccuracy[c], idx.filter((i) => preds[i] === c).length / idx.length);
  }
  const mis = preds.map((p, i) => (p !== y[i] ? i : -1)).filter((i) => i >= 0).slice(0, ev.figures.misclassified.length);
  assert.deepEqual(ev.figures.misclassified.map((s) => s.index), mis.map((i) => data.test.sourceIndices[i]));
});

test('coherence and reconstruction equal a per-sample recomputation from the per-sample Grad-CAM oracle', () => {
  model.eval();
  T.scope(() => {
    const x = T.fromArray(data.test.images, [N, 1, 28, 28]);
    const { cams } = gradCamLoop(model, x, null, { target: 'pred' });
    const flat = cams.toFloat32();
    const y = Array.from(data.test.classes);
    // Class means and the l1/l2 distances in plain JS.
    const mean = Array.from({ length: 10 }, () => new Float64Array(784));
    const count = new Array<number>(10).fill(0);
    y.forEach((c, i) => { count[c]!++; for (let p = 0; p < 784; p++) mean[c]![p]! += flat[i * 784 + p]!; });
    mean.forEach((m, c) => m.forEach((_, p) => (m[p]! /= count[c]!)));
    const l1 = y.map((c, i) => mean[c]!.reduce((s, v, p) => s + Math.abs(flat[i * 784 + p]! - v), 0) / 784);
    const l2 = y.map((c, i) => mean[c]!.reduce((s, v, p) => s + (flat[i * 784 + p]! - v) ** 2, 0) / 784);
    const refs = T.fromArray(Float32Array.from(y.flatMap((c) => Array.from(mean[c]!))), [N, 28, 28]);
    const ssim = distance(cams, refs, 'ssim').toArray();
    const avg = (v: number[]): number => v.reduce((s, q) => s + q, 0) / v.length;
    for (const [k, v] of [['l1', l1], ['l2', l2], ['ssim', ssim]] as const) {
      assert.ok(Math.abs(ev.coherence[k].mean - avg(v)) < 1e-5, `${k}: ${ev.coherence[k].mean} vs ${avg(v)}`);
      for (let c = 0; c < 10; c++) {
        const per = avg(v.filter((_, i) => y[i] === c));
        assert.ok(Math.abs(ev.coherence[k].perClass[c]! - per) < 1e-5, `${k} class ${c}`);
      }
    }
    // Mean CAM figure = the class mean.
    for (let c = 0; c < 10; c++) {
      const fig = ev.figures.meanCams[c]!;
      assert.ok(fig.every((v, p) => Math.abs(v - mean[c]![p]!) < 1e-4));
    }
    // Reconstruction reference: the mean training image of the class scaled by its max; l1 recomputed in JS.
    const ty = Array.from(data.train.classes);
    const img = Array.from({ length: 10 }, () => new Float64Array(784));
    ty.forEach((c, i) => { for (let p = 0; p < 784; p++) img[c]![p]! += data.train.pixels[i * 784 + p]!; });
    const scaled = img.map((m) => { const mx = Math.max(...m); return Array.from(m, (v) => v / mx); });
    const rl1 = y.map((c, i) => scaled[c]!.reduce((s, v, p) => s + Math.abs(flat[i * 784 + p]! - v), 0) / 784);
    assert.ok(Math.abs(ev.reconstruction.l1.mean - avg(rl1)) < 1e-5);
    scaled.forEach((m, c) => assert.ok(m.every((v, p) => Math.abs(v - ev.figures.meanImages[c]![p]!) < 1e-4)));
  });
});

test('decoy datasets: energy in [0,1], decoy accuracy is the test accuracy; bank prototypes go to the figures', async () => {
  const decoy = await loadDataset('decoy-mnist', { trainLimit: 200, testLimit: 60 });
  T.scope(() => {
    const protos = T.rand([10, 28, 28]);
    const init = T.tensor([1, 1, 1, 1, 1, 1, 1, 1, 1, 0], [10], { dtype: 'int64' });
    const e = evaluateModel(model, decoy, { faithfulnessN: 0, bank: { prototypes: protos, initialised: init }, camTarget: 'label' });
    assert.ok(e.decoy);
    assert.ok(e.decoy.energy >= 0 && e.decoy.energy <= 1);
    assert.equal(e.decoy.accuracy, e.accuracy);
    assert.equal(e.decoy.uniformEnergy, 16 / 784);
    assert.equal(e.camTarget, 'label');
    assert.equal(e.faithfulness.n, 0);
    assert.equal(e.figures.bankPrototypes!.length, 10);
    assert.equal(e.figures.bankPrototypes![9], null);
    const p0 = protos.select(0, 0).toArray();
    assert.ok(e.figures.bankPrototypes![0]!.every((v, i) => Math.abs(v - p0[i]!) <= 5e-5));
  });
});

test('memory stays flat: no tensors leak from an evaluation', () => {
  const before = T.liveTensors();
  evaluateModel(model, data, { faithfulnessN: 8, steps: 4 });
  assert.equal(T.liveTensors(), before);
});
