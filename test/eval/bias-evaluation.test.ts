import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as T from '../../src/torch/index.js';
import { Classifier, type SplitForward } from '../../src/models/classifier.js';
import { BIAS_COLOURS } from '../../src/data/builtin/biased-mnist.js';
import { loadDataset } from '../../src/data/load-dataset.js';
import type { LoadedDataset } from '../../src/data/dataset.js';
import { evaluateModel, type Evaluation } from '../../src/eval/index.js';

/**
 * A model that reads only the background: the colour of pixel (0, 0) (background in every MNIST test image), each
 * class scored by minus its squared distance to that class's Biased-MNIST colour. It is the perfect shortcut model.
 */
class ColourReader extends Classifier {
  readonly camLayers = ['input'] as const;
  readonly numClasses = 10;
  readonly #colours = T.keep(T.fromArray(Float32Array.from(BIAS_COLOURS.flat(), (v) => v / 255), [10, 3]));

  forwardSplit(x: T.Tensor, layer = 'input'): SplitForward {
    this.checkLayer(layer);
    // A leaf that requires grad: Batch-CAM differentiates the logits with respect to it.
    const activation = x.detach().requiresGrad_(true);
    const corner = activation.select(3, 0).select(2, 0); // N×3
    const logits = corner.unsqueeze(1).sub(this.#colours.unsqueeze(0)).square().sum([2]).neg();
    return { activation, logits };
  }

  macsAt(): number {
    return 0;
  }
}

let data: LoadedDataset;
let ev: Evaluation;
before(async () => {
  data = await loadDataset('biased-mnist:0.997', { trainLimit: 100, testLimit: 1000 });
  ev = evaluateModel(new ColourReader(), data, { faithfulnessN: 0 });
});

test('the colour reader is right on every bias-aligned and wrong on every bias-conflicting test image', () => {
  assert.equal(ev.bias!.alignedAccuracy, 1);
  assert.equal(ev.bias!.conflictingAccuracy, 0);
});

test('the colour reader scores 0 in its worst group and 100 % on the biased (ρ = 1) test images', () => {
  assert.equal(ev.bias!.worstGroupAccuracy, 0);
  assert.equal(ev.bias!.biasedAccuracy, 1);
});

test('the colour reader\'s unbiased accuracy is the share of test images whose colour is their class\'s', () => {
  const t = data.test;
  const aligned = t.classes.reduce((a, y, i) => a + (t.bias!.attributes[i] === y ? 1 : 0), 0) / t.n;
  assert.equal(ev.accuracy, aligned);
  assert.equal(ev.bias!.accuracy, aligned);
});

test('the uniform-map bias mass is the background\'s share of the test images\' pixels', () => {
  const t = data.test;
  let background = 0;
  for (let i = 0; i < t.n; i++) {
    for (let p = 0; p < 784; p++) if (t.pixels[(i * 3) * 784 + p] !== 255 || t.pixels[(i * 3 + 1) * 784 + p] !== 255 || t.pixels[(i * 3 + 2) * 784 + p] !== 255) background++;
  }
  assert.ok(Math.abs(ev.bias!.uniformBiasMass! - background / (t.n * 784)) < 1e-12);
});
