import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { backgroundColours, BIAS_COLOURS, paintBackground } from '../../src/data/builtin/biased-mnist.js';
import { datasetInfo } from '../../src/data/builtin/datasets.js';
import { loadRawSplit, type RawSplit } from '../../src/data/builtin/raw.js';
import { datasetSpecProblem, parseDatasetSpec } from '../../src/data/dataset-spec.js';
import { loadDataset } from '../../src/data/load-dataset.js';
import { PYTHON, pyScript } from '../helpers/python.js';
import { offline, tempDir } from './fixtures.js';

/** The authors' construction (test/py/biased_mnist_ref.py) on `raw` at ρ, given our colour draw. */
function reference(raw: RawSplit, rho: number, colours: Uint8Array): { counts: number[][]; pixels: Uint8Array } {
  const dir = tempDir();
  const [labels, images, ours, out] = ['labels', 'images', 'colours', 'out'].map((f) => join(dir, f)) as [string, string, string, string];
  writeFileSync(labels, raw.labels);
  writeFileSync(images, raw.images);
  writeFileSync(ours, colours);
  const json = execFileSync(PYTHON, [pyScript('biased_mnist_ref.py'), String(raw.n), String(rho), labels, images, ours, out], { encoding: 'utf8' });
  return { counts: (JSON.parse(json) as { counts: number[][] }).counts, pixels: new Uint8Array(readFileSync(out)) };
}

/** The authors' counts[class][colour] for these labels at ρ (no images painted). */
function referenceCounts(labels: Uint8Array, rho: number): number[][] {
  return reference({ n: 0, labels, images: new Uint8Array(0) } as RawSplit, rho, new Uint8Array(0)).counts;
}

/** counts[class][colour] of a colour draw. */
function countTable(labels: Uint8Array, colours: Uint8Array): number[][] {
  const t = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  labels.forEach((y, i) => t[y]![colours[i]!]!++);
  return t;
}

/** Per class: its own colour's count, then the other colours' counts sorted (which colour gets the short chunk is random). */
function shape(t: number[][]): number[][] {
  return t.map((row, y) => [row[y]!, ...row.filter((_, c) => c !== y).sort((a, b) => a - b)]);
}

describe('Biased-MNIST generator vs the authors\' code', () => {
  let train: RawSplit;
  let test: RawSplit;
  before(async () => {
    train = await loadRawSplit('mnist', 'train', offline());
    test = await loadRawSplit('mnist', 'test', offline());
  });

  it('gives each class the authors\' counts per colour at ρ = 0.997 (60 000 training images)', () => {
    const colours = backgroundColours(train.labels, 0.997, 0, 0);
    assert.deepEqual(shape(countTable(train.labels, colours)), shape(referenceCounts(train.labels, 0.997)));
  });

  it('gives each class the authors\' counts per colour in the unbiased test split (ρ = 0.1)', () => {
    const colours = backgroundColours(test.labels, 0.1, 0, 1);
    assert.deepEqual(shape(countTable(test.labels, colours)), shape(referenceCounts(test.labels, 0.1)));
  });

  it('paints the same pixels as the authors\' _binary_to_colour (10 000 test images)', () => {
    const colours = backgroundColours(test.labels, 0.1, 0, 1);
    const ref = reference(test, 0.1, colours);
    assert.ok(Buffer.from(paintBackground(test.images, colours)).equals(Buffer.from(ref.pixels)), 'pixels differ');
  });
});

describe('Biased-MNIST as a dataset', () => {
  it('names ρ one way: biased-mnist:0.990 is biased-mnist:0.99', () => {
    assert.equal(parseDatasetSpec('biased-mnist:0.990').kind === 'builtin' && datasetInfo('biased-mnist:0.990').name, 'biased-mnist:0.99');
  });

  it('rejects a ρ outside (0, 1] with the syntax in the message', () => {
    for (const bad of ['biased-mnist:1.5', 'biased-mnist:0', 'biased-mnist:', 'biased-mnist:abc']) {
      assert.match(datasetSpecProblem(bad) ?? '', /biased-mnist:RHO.*0 < RHO ≤ 1/, bad);
    }
  });

  it('loads RGB images whose background is the colour of the sample\'s bias attribute, the digit white', async () => {
    const data = await loadDataset('biased-fashion-mnist:0.997', { ...offline(), trainLimit: 300, testLimit: 200 });
    assert.deepEqual(data.info.imageShape, [3, 28, 28]);
    for (const split of [data.train, data.test]) {
      const bias = split.bias!;
      for (let i = 0; i < split.n; i++) {
        const colour = BIAS_COLOURS[bias.attributes[i]!]!;
        let matched = 0;
        for (let p = 0; p < 784; p++) {
          const rgb = [0, 1, 2].map((ch) => split.pixels[(i * 3 + ch) * 784 + p]!);
          const white = rgb.every((v) => v === 255);
          const bg = rgb.every((v, ch) => v === colour[ch]);
          assert.ok(white || bg, `image ${i} pixel ${p}: ${rgb} is neither white nor colour ${colour}`);
          if (bg) matched++;
        }
        assert.ok(matched > 0, `image ${i} has no background`);
      }
    }
  });

  it('keeps the class colour on about ρ of training images and 10 % of unbiased test images', async () => {
    const data = await loadDataset('biased-mnist:0.99', offline());
    const share = (s: { classes: Uint8Array; bias?: { attributes: Uint8Array } }): number =>
      s.classes.reduce((a, y, i) => a + (s.bias!.attributes[i] === y ? 1 : 0), 0) / s.classes.length;
    assert.ok(Math.abs(share(data.train) - 0.99) < 0.001, `train ${share(data.train)}`);
    assert.ok(Math.abs(share(data.test) - 0.1) < 0.002, `test ${share(data.test)}`);
  });

  it('gives the test split background masks and bias-aligned images painted in each label\'s colour', async () => {
    const data = await loadDataset('biased-mnist:0.997', { ...offline(), testLimit: 100 });
    const t = data.test;
    const raw = await loadRawSplit('mnist', 'test', offline());
    for (let i = 0; i < t.n; i++) {
      const src = t.sourceIndices[i]!;
      for (let p = 0; p < 784; p++) {
        const background = raw.images[src * 784 + p] === 0;
        assert.equal(t.bias!.masks![i * 784 + p], background ? 1 : 0);
        for (let ch = 0; ch < 3; ch++) {
          const want = background ? BIAS_COLOURS[t.classes[i]!]![ch]! : 255;
          if (Math.abs(t.alignedImages![(i * 3 + ch) * 784 + p]! - want / 255) > 1e-7) assert.fail(`image ${i} pixel ${p} channel ${ch}`);
        }
      }
    }
  });
});
