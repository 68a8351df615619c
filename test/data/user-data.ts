import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeIdx } from '../../src/data/formats/idx.js';
import { loadRawSplit, type RawSplit } from '../../src/data/builtin/raw.js';
import { FILE_NAMES } from '../../src/data/builtin/datasets.js';
import { FASHION_MNIST_CLASS_NAMES } from '../../src/data/builtin/class-names.js';
import { Rng } from '../../src/data/sampling/rng.js';
import { offline } from './fixtures.js';

/**
 * User datasets the tests build from the real MNIST / Fashion-MNIST files: PNG folders in torchvision's
 * ImageFolder layout and raw IDX sets.
 */

/** The first `n` images of a real split, as uint8 (n×28×28) and labels. */
export async function realImages(dataset: 'mnist' | 'fashion-mnist', split: 'train' | 'test', n: number): Promise<{ images: Uint8Array; labels: Uint8Array; raw: RawSplit }> {
  const raw = await loadRawSplit(dataset, split, offline());
  return { images: raw.images.slice(0, n * 784), labels: raw.labels.slice(0, n), raw };
}

/** Writes n grey 28×28 images as 8-bit grey PNGs `root/<label>/<index, 5 digits>.png`. */
export async function writeGreyPngs(root: string, images: Uint8Array, labels: Uint8Array, firstIndex = 0): Promise<void> {
  for (let i = 0; i < labels.length; i++) {
    const dir = join(root, String(labels[i]));
    mkdirSync(dir, { recursive: true });
    const png = await sharp(images.subarray(i * 784, (i + 1) * 784), { raw: { width: 28, height: 28, channels: 1 } })
      .toColourspace('b-w').png().toBuffer();
    writeFileSync(join(dir, `${String(firstIndex + i).padStart(5, '0')}.png`), png);
  }
}

/**
 * Colourises grey images: each image gets its own random colour (a seeded draw, independent of the class, so colour
 * is no shortcut), pixel = grey · colour, written as 28×28 RGB PNGs `root/<class name>/<index>.png`.
 */
export async function writeColourPngs(root: string, images: Uint8Array, labels: Uint8Array, classNames: readonly string[], seed = 1): Promise<void> {
  const rng = Rng.derive(seed, 0xc0105);
  for (let i = 0; i < labels.length; i++) {
    const colour = [0, 1, 2].map(() => 0.3 + 0.7 * rng.random());
    const rgb = new Uint8Array(784 * 3);
    for (let p = 0; p < 784; p++) for (let k = 0; k < 3; k++) rgb[p * 3 + k] = Math.round(images[i * 784 + p]! * colour[k]!);
    const dir = join(root, classNames[labels[i]!]!);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${String(i).padStart(5, '0')}.png`), await sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } }).png().toBuffer());
  }
}

/** Fashion-MNIST's class names as folder names ('T-shirt/top' has a slash, which a folder name cannot). */
export const FASHION_FOLDER_NAMES = FASHION_MNIST_CLASS_NAMES.map((n) => n.replace('/', '-'));

/**
 * A colourised Fashion-MNIST folder in ImageFolder layout: the first `trainCount` real training images under
 * root/train and the first `testCount` test images under root/test, each with its own colour (writeColourPngs).
 */
export async function writeColourFashionFolder(root: string, trainCount: number, testCount: number): Promise<void> {
  const tr = await realImages('fashion-mnist', 'train', trainCount);
  const te = await realImages('fashion-mnist', 'test', testCount);
  await writeColourPngs(join(root, 'train'), tr.images, tr.labels, FASHION_FOLDER_NAMES, 1);
  await writeColourPngs(join(root, 'test'), te.images, te.labels, FASHION_FOLDER_NAMES, 2);
}

/** Writes the four IDX files of a set (raw, uncompressed). */
export function writeIdxSet(dir: string, train: { images: Uint8Array; labels: Uint8Array }, test: { images: Uint8Array; labels: Uint8Array }, side = 28): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, FILE_NAMES['train-images']), encodeIdx('uint8', [train.labels.length, side, side], train.images));
  writeFileSync(join(dir, FILE_NAMES['train-labels']), encodeIdx('uint8', [train.labels.length], train.labels));
  writeFileSync(join(dir, FILE_NAMES['test-images']), encodeIdx('uint8', [test.labels.length, side, side], test.images));
  writeFileSync(join(dir, FILE_NAMES['test-labels']), encodeIdx('uint8', [test.labels.length], test.labels));
}

/** Positions 0…n−1 sorted by label, stably: the order an ImageFolder of files named by position lists them in. */
export function folderOrder(labels: Uint8Array): number[] {
  return Array.from(labels.keys()).sort((a, b) => labels[a]! - labels[b]! || a - b);
}
