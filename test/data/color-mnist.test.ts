import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { DIGIT_COLOURS, digitColour, paintDigits } from '../../src/data/builtin/color-mnist.js';
import { loadRawSplit, type RawSplit } from '../../src/data/builtin/raw.js';
import { loadDataset } from '../../src/data/load-dataset.js';
import { PYTHON, pyScript } from '../helpers/python.js';
import { offline, tempDir } from './fixtures.js';

/** CDEP's construction (test/py/color_mnist_ref.py, with the `colour` package): float32 images and the ten colours. */
function reference(raw: RawSplit, split: 'train' | 'test', n: number): { images: Float32Array; colours: number[][] } {
  const dir = tempDir();
  const [labels, images, out] = ['labels', 'images', 'out'].map((f) => join(dir, f)) as [string, string, string];
  writeFileSync(labels, raw.labels.subarray(0, n));
  writeFileSync(images, raw.images.subarray(0, n * 784));
  const json = execFileSync(PYTHON, [pyScript('color_mnist_ref.py'), split, String(n), labels, images, out], { encoding: 'utf8' });
  const bytes = readFileSync(out);
  return { images: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), colours: JSON.parse(json) as number[][] };
}

function maxDiff(ours: Uint8Array, theirs: Float32Array): number {
  let m = 0;
  for (let i = 0; i < ours.length; i++) m = Math.max(m, Math.abs(ours[i]! - theirs[i]!));
  return m;
}

describe('ColorMNIST generator vs CDEP\'s code', () => {
  let train: RawSplit;
  let test: RawSplit;
  before(async () => {
    train = await loadRawSplit('mnist', 'train', offline());
    test = await loadRawSplit('mnist', 'test', offline());
  });

  it('has the colour package\'s red-to-purple range as its ten colours', () => {
    const ref = reference(test, 'test', 1);
    DIGIT_COLOURS.forEach((c, k) => c.forEach((v, ch) => assert.ok(Math.abs(v - ref.colours[k]![ch]!) < 1e-12, `colour ${k}`)));
  });

  it('colours training digits by their class, within rounding of CDEP\'s float images (2 000 images)', () => {
    const n = 2000;
    const ours = paintDigits(train.images.subarray(0, n * 784), train.labels.subarray(0, n).map((y) => digitColour(y, 'train')));
    assert.ok(maxDiff(ours, reference(train, 'train', n).images) <= 0.5 + 1e-4);
  });

  it('colours test digits by 9 − class, within rounding of CDEP\'s float images (10 000 images)', () => {
    const ours = paintDigits(test.images, test.labels.map((y) => digitColour(y, 'test')));
    assert.ok(maxDiff(ours, reference(test, 'test', test.n).images) <= 0.5 + 1e-4);
  });

  it('loads as a dataset whose every test sample conflicts with its bias and whose aligned images use the training colours', async () => {
    const data = await loadDataset('color-mnist', { ...offline(), trainLimit: 200, testLimit: 200 });
    assert.deepEqual(data.info.imageShape, [3, 28, 28]);
    data.train.classes.forEach((y, i) => assert.equal(data.train.bias!.attributes[i], y));
    data.test.classes.forEach((y, i) => assert.equal(data.test.bias!.attributes[i], 9 - y));
    const aligned = paintDigits(gather(test.images, data.test.sourceIndices), data.test.classes);
    data.test.alignedImages!.forEach((v, k) => assert.ok(Math.abs(v - aligned[k]! / 255) < 1e-7, `value ${k}`));
  });
});

function gather(images: Uint8Array, rows: Int32Array): Uint8Array {
  const out = new Uint8Array(rows.length * 784);
  rows.forEach((r, i) => out.set(images.subarray(r * 784, (r + 1) * 784), i * 784));
  return out;
}
