import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resizedCrop, centreBox, type CropBox } from '../../src/data/augment/resized-crop.js';
import { colorJitter, type JitterDraw } from '../../src/data/augment/color-jitter.js';
import { randomResizedCropBox } from '../../src/data/augment/random-resized-crop.js';
import { augmentBatch, augmentImage, drawAugmentation, IMAGENET_AUGMENTATION, type Augmentation } from '../../src/data/augment/augmentation.js';
import { centreCropImages } from '../../src/data/augment/eval-crop.js';
import { DataLoader } from '../../src/data/batching/data-loader.js';
import { Rng } from '../../src/data/sampling/rng.js';
import { standardiseInPlace, toUnitFloat } from '../../src/data/preprocess/normalisation.js';
import { PYTHON, pyScript } from '../helpers/python.js';
import { tempDir } from './fixtures.js';
import { realImages } from './user-data.js';

/**
 * The augmentation against torchvision 0.14's own transforms (test/py/augment_ref.py) on real Fashion-MNIST images:
 * grey ones, and colour ones made of three different images as R, G, B.
 */

const N = 6;
const grey = (async () => toUnitFloat((await realImages('fashion-mnist', 'test', N)).images))();
const rgb = (async () => {
  const g = await grey;
  const out = new Float32Array(2 * 3 * 784);
  for (let k = 0; k < 2; k++) for (let ch = 0; ch < 3; ch++) out.set(g.subarray((3 * k + ch) * 784, (3 * k + ch + 1) * 784), (k * 3 + ch) * 784);
  return out;
})();

type Case = { op: 'resized_crop'; image: number; box: [number, number, number, number]; size: [number, number]; flip: boolean }
  | { op: 'jitter'; image: number; steps: [string, number][] } | { op: 'centre_crop'; image: number; crop: [number, number] };

/** torchvision's results for `cases` on `images` (n×C×28×28). */
function torchvision(images: Float32Array, c: number, cases: readonly Case[]): Float32Array[] {
  const dir = tempDir();
  writeFileSync(join(dir, 'in.bin'), images);
  writeFileSync(join(dir, 'in.json'), JSON.stringify({ images: join(dir, 'in.bin'), shape: [images.length / (c * 784), c, 28, 28], cases }));
  execFileSync(PYTHON, [pyScript('augment_ref.py'), join(dir, 'in.json'), join(dir, 'out.bin')]);
  const all = new Float32Array(readFileSync(join(dir, 'out.bin')).buffer.slice(0));
  const out: Float32Array[] = [];
  let at = 0;
  for (const k of cases) {
    const size = k.op === 'resized_crop' ? c * k.size[0] * k.size[1] : c * 784;
    out.push(all.subarray(at, at + size));
    at += size;
  }
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const image = (all: Float32Array, c: number, k: number): Float32Array => all.subarray(k * c * 784, (k + 1) * c * 784);

const BOXES: [[number, number, number, number], [number, number], boolean][] = [
  [[0, 0, 28, 28], [28, 28], false], [[3, 5, 20, 17], [28, 28], true], [[10, 2, 5, 9], [28, 28], false],
  [[0, 0, 28, 28], [14, 14], true], [[4, 4, 24, 22], [19, 31], false], [[27, 27, 1, 1], [28, 28], false],
];

for (const [name, c] of [['grey', 1], ['RGB', 3]] as const) {
  test(`resized crop and flip of ${name} images equal torchvision's resized_crop (bilinear, no antialias) + hflip to 1e-5`, async () => {
    const images = c === 1 ? await grey : await rgb;
    const cases: Case[] = BOXES.map(([box, size, flip], k) => ({ op: 'resized_crop', image: k % 2, box, size, flip }));
    const want = torchvision(images, c, cases);
    cases.forEach((k, i) => {
      if (k.op !== 'resized_crop') return;
      const [top, left, height, width] = k.box;
      const box: CropBox = { top, left, height, width };
      const got = resizedCrop(image(images, c, k.image), [c, 28, 28], box, k.size[0], k.size[1], k.flip);
      assert.ok(maxDiff(got, want[i]!) < 1e-5, `case ${i}: ${maxDiff(got, want[i]!)}`);
    });
  });

  test(`colour jitter of ${name} images in any order equals torchvision's adjust_brightness/contrast/saturation to 1e-6`, async () => {
    const images = c === 1 ? await grey : await rgb;
    const orders: JitterDraw[] = [
      [{ op: 'brightness', factor: 1.37 }, { op: 'contrast', factor: 0.61 }, { op: 'saturation', factor: 1.5 }],
      [{ op: 'saturation', factor: 0.2 }, { op: 'brightness', factor: 0.7 }, { op: 'contrast', factor: 1.8 }],
      [{ op: 'contrast', factor: 0 }],
    ];
    const cases: Case[] = orders.map((o, k) => ({ op: 'jitter', image: k % 2, steps: o.map((s) => [s.op, s.factor]) }));
    const want = torchvision(images, c, cases);
    orders.forEach((o, i) => {
      const got = colorJitter(Float32Array.from(image(images, c, i % 2)), [c, 28, 28], o);
      assert.ok(maxDiff(got, want[i]!) < 1e-6, `order ${i}: ${maxDiff(got, want[i]!)}`);
    });
  });
}

test('the evaluation crop equals torchvision\'s center_crop resized back to the image size, to 1e-5', async () => {
  const images = await rgb;
  const fractions = [0.875, 0.5, 0.9];
  const cases: Case[] = fractions.map((f) => {
    const b = centreBox(28, 28, f);
    return { op: 'centre_crop', image: 1, crop: [b.height, b.width] };
  });
  const want = torchvision(images, 3, cases);
  fractions.forEach((f, i) => {
    const got = centreCropImages(image(images, 3, 1), 1, [3, 28, 28], f);
    assert.ok(maxDiff(got, want[i]!) < 1e-5, `fraction ${f}: ${maxDiff(got, want[i]!)}`);
  });
});

test('random crop boxes lie inside the image with their area share and aspect ratio in range; impossible ranges fall back to the centred clamp', () => {
  const rng = Rng.fromSeed(3);
  for (let k = 0; k < 2000; k++) {
    const [h, w] = [20 + (k % 50), 30 + (k % 37)];
    const b = randomResizedCropBox(rng, h, w, [0.08, 1], [3 / 4, 4 / 3]);
    assert.ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= h && b.left + b.width <= w, JSON.stringify(b));
    // Rounding a side to whole pixels moves the share and ratio by at most about a pixel.
    assert.ok((b.height * b.width) / (h * w) <= 1 && ((b.height + 1) * (b.width + 1)) / (h * w) >= 0.08, JSON.stringify(b));
    if (b.height * b.width < h * w) assert.ok(b.width / (b.height + 1) <= 4 / 3 && (b.width + 1) / b.height >= 3 / 4, JSON.stringify(b));
  }
  // No box of these ratios covers ≥ 90 % of these images: torchvision's fallback keeps the whole short side and clamps the
  // ratio (100×10, ratio ≥ 2: width 10, height round(10 / 2) = 5 at row 95 // 2; 10×100, ratio ≤ 2: height 10, width 20).
  assert.deepEqual(randomResizedCropBox(Rng.fromSeed(1), 100, 10, [0.9, 1], [2, 3]), { top: 47, left: 0, height: 5, width: 10 });
  assert.deepEqual(randomResizedCropBox(Rng.fromSeed(1), 10, 100, [0.9, 1], [0.5, 2]), { top: 0, left: 40, height: 10, width: 20 });
});

const AUG: Augmentation = { ...IMAGENET_AUGMENTATION, jitter: [0.4, 0.4, 0.4] };

test('a sample\'s augmentation is a function of (seed, epoch, index): the same pixels in any batch, another epoch draws anew', async () => {
  const images = await rgb;
  const data = { images: concatRgb(images, 5), labels: new BigInt64Array(5), n: 5, imageShape: [3, 28, 28] as const };
  const a = new DataLoader(data, { batchSize: 5, shuffle: true, seed: 4, augment: { augmentation: AUG, seed: 4, normalisation: null } });
  const b = new DataLoader(data, { batchSize: 2, shuffle: true, seed: 4, augment: { augmentation: AUG, seed: 4, normalisation: null } });
  const whole = a.batch(1, 0);
  const size = 3 * 784;
  for (let k = 0; k < 3; k++) {
    const part = b.batch(1, k);
    part.indices.forEach((idx, j) => {
      const at = whole.indices.indexOf(idx);
      assert.deepEqual(part.x.subarray(j * size, (j + 1) * size), whole.x.subarray(at * size, (at + 1) * size), `sample ${idx}`);
    });
  }
  const other = a.batch(2, 0);
  const idx = whole.indices[0]!;
  const at = other.indices.indexOf(idx);
  assert.ok(maxDiff(whole.x.subarray(0, size), other.x.subarray(at * size, (at + 1) * size)) > 0.05, 'epoch 2 draws another crop');
});

function concatRgb(images: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * 3 * 784);
  for (let k = 0; k < n; k++) out.set(image(images, 3, k % 2), k * 3 * 784);
  return out;
}

test('augmenting standardised inputs equals standardising the augmented [0, 1] image (the jitter works in [0, 1] units)', async () => {
  const images = concatRgb(await rgb, 4);
  const norm = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  const plain = augmentBatch(Float32Array.from(images), [3, 28, 28], Int32Array.from([0, 1, 2, 3]), 7, { augmentation: AUG, seed: 9, normalisation: null });
  const standardised = augmentBatch(standardiseInPlace(Float32Array.from(images), norm, 784), [3, 28, 28], Int32Array.from([0, 1, 2, 3]), 7,
    { augmentation: AUG, seed: 9, normalisation: norm });
  assert.ok(maxDiff(standardiseInPlace(plain, norm, 784), standardised) < 1e-5);
});

test('without crop, flip or jitter the augmentation returns the image bit for bit', async () => {
  const img = image(await rgb, 3, 0);
  const none: Augmentation = { cropScale: [1, 1], cropRatio: [1, 1], flip: 0, jitter: [0, 0, 0] };
  const draw = drawAugmentation(none, 1, 0, 3, 28, 28);
  assert.deepEqual(augmentImage(img, [3, 28, 28], draw, null), img);
});
