// Writes the two image folders of the fine-tuning study (RESULTS.md, issue #23), from the checksummed MNIST and
// Fashion-MNIST files (run `npm run build` first):
//   DIR/colour-fmnist-64/{train,test}/<class>/*.png  pretraining set: Fashion-MNIST at 64×64, the garment in one of
//       Biased-MNIST's ten colours on another of them, both drawn independently of the class (no shortcut);
//       1,000 training and 200 test images per class.
//   DIR/decoy-mnist-64/{train,test}/<class>/*.png   the small shortcut set to fine-tune on: MNIST digits at 64×64 with
//       DecoyMNIST's corner patch scaled up (a 9×9 square in a random corner, grey 255 − 25·class in training,
//       255 − 25·random class at test); 200 training and 200 test images per class.
// Images are resized with sharp (Lanczos-3, as --image-size does); every draw is seeded, so the folders are the same
// on every machine. Usage: node scripts/finetune-data.mjs [DIR=data/finetune]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadDataset } from '../dist/src/data/load-dataset.js';
import { Rng } from '../dist/src/data/sampling/rng.js';

const root = process.argv[2] ?? 'data/finetune';
const SIDE = 64;
const PATCH = 9;
// Bahng et al.'s ten colours (clovaai/rebias datasets/colour_mnist.py).
const COLOURS = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [225, 225, 0], [225, 0, 225], [0, 255, 255], [255, 128, 0],
  [255, 0, 128], [128, 0, 255], [128, 128, 128]];

/** The first `perClass` images of each class of a split, in file order. */
function firstPerClass(split, perClass) {
  const taken = new Array(10).fill(0);
  const out = [];
  for (let i = 0; i < split.n && out.length < 10 * perClass; i++) {
    const c = split.classes[i];
    if (taken[c] < perClass) { taken[c]++; out.push(i); }
  }
  return out;
}

/** A 28×28 grey image upscaled to SIDE×SIDE grey values in [0, 255]. */
async function upscale(split, i) {
  const px = Buffer.from(split.pixels.subarray(i * 784, (i + 1) * 784));
  return new Uint8Array(await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).resize(SIDE, SIDE, { kernel: 'lanczos3' }).toColourspace('b-w').raw().toBuffer());
}

async function writePng(file, px, channels) {
  writeFileSync(file, await sharp(Buffer.from(px), { raw: { width: SIDE, height: SIDE, channels } }).png().toBuffer());
}

async function colourFashion(data, part, perClass, rng) {
  const split = data[part];
  for (const i of firstPerClass(split, perClass)) {
    const c = split.classes[i];
    const g = await upscale(split, i);
    const fg = COLOURS[rng.int(10)];
    let k = rng.int(9);
    const bg = COLOURS[k >= COLOURS.indexOf(fg) ? k + 1 : k];
    const rgb = new Uint8Array(SIDE * SIDE * 3);
    for (let p = 0; p < SIDE * SIDE; p++) {
      const a = g[p] / 255;
      for (let ch = 0; ch < 3; ch++) rgb[3 * p + ch] = Math.round(a * fg[ch] + (1 - a) * bg[ch]);
    }
    const dir = join(root, 'colour-fmnist-64', part, String(c));
    mkdirSync(dir, { recursive: true });
    await writePng(join(dir, `${String(i).padStart(5, '0')}.png`), rgb, 3);
  }
}

async function decoyDigits(data, part, perClass, rng) {
  const split = data[part];
  for (const i of firstPerClass(split, perClass)) {
    const c = split.classes[i];
    const g = await upscale(split, i);
    const shade = 255 - 25 * (part === 'train' ? c : rng.int(10));
    const corner = rng.int(4);
    const [y0, x0] = [corner < 2 ? 0 : SIDE - PATCH, corner % 2 === 0 ? 0 : SIDE - PATCH];
    for (let y = y0; y < y0 + PATCH; y++) for (let x = x0; x < x0 + PATCH; x++) g[y * SIDE + x] = shade;
    const dir = join(root, 'decoy-mnist-64', part, String(c));
    mkdirSync(dir, { recursive: true });
    await writePng(join(dir, `${String(i).padStart(5, '0')}.png`), g, 1);
  }
}

const fashion = await loadDataset('fashion-mnist');
await colourFashion(fashion, 'train', 1000, Rng.derive(0, 0xf1e, 1));
await colourFashion(fashion, 'test', 200, Rng.derive(0, 0xf1e, 2));
const mnist = await loadDataset('mnist');
await decoyDigits(mnist, 'train', 200, Rng.derive(0, 0xdec, 1));
await decoyDigits(mnist, 'test', 200, Rng.derive(0, 0xdec, 2));
console.log(`wrote ${join(root, 'colour-fmnist-64')} (10,000 + 2,000 RGB PNGs) and ${join(root, 'decoy-mnist-64')} (2,000 + 2,000 grey PNGs)`);
