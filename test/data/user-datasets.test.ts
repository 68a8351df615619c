import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadDataset } from '../../src/data/load-dataset.js';
import { DataError } from '../../src/errors.js';
import { OptionError, resolveConfig } from '../../src/train/options.js';
import { tempDir } from './fixtures.js';
import { folderOrder, realImages, writeGreyPngs, writeIdxSet } from './user-data.js';

const N_TRAIN = 200;
const N_TEST = 100;

/** The real MNIST test images 0…299: the first 200 as the training split, the rest as the test split. */
async function mnistParts(): Promise<{ train: { images: Uint8Array; labels: Uint8Array }; test: { images: Uint8Array; labels: Uint8Array } }> {
  const { images, labels } = await realImages('mnist', 'test', N_TRAIN + N_TEST);
  return {
    train: { images: images.slice(0, N_TRAIN * 784), labels: labels.slice(0, N_TRAIN) },
    test: { images: images.slice(N_TRAIN * 784), labels: labels.slice(N_TRAIN) },
  };
}

/** The IDX images of a part reordered as the folder lists them, in [0, 1] as the loader scales them. */
function asFolder(part: { images: Uint8Array; labels: Uint8Array }): { pixels: Uint8Array; labels: Uint8Array } {
  const order = folderOrder(part.labels);
  const pixels = new Uint8Array(order.length * 784);
  order.forEach((i, k) => pixels.set(part.images.subarray(i * 784, (i + 1) * 784), k * 784));
  return { pixels, labels: Uint8Array.from(order, (i) => part.labels[i]!) };
}

test('MNIST test images written as a PNG folder load bit-identical to the IDX path, classes in the same order', async () => {
  const parts = await mnistParts();
  const root = tempDir();
  await writeGreyPngs(join(root, 'train'), parts.train.images, parts.train.labels, 0);
  await writeGreyPngs(join(root, 'test'), parts.test.images, parts.test.labels, N_TRAIN);
  const idxDir = join(tempDir(), 'idx');
  writeIdxSet(idxDir, parts.train, parts.test);

  const folder = await loadDataset(`folder:${root}`);
  const idx = await loadDataset(`idx:${idxDir}`);
  assert.deepEqual(folder.info.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.deepEqual(idx.info.classNames, folder.info.classNames);
  assert.deepEqual(folder.info.imageShape, [1, 28, 28], 'grey images give one channel by default');
  assert.deepEqual(idx.info.imageShape, [1, 28, 28]);
  for (const split of ['train', 'test'] as const) {
    const want = asFolder(parts[split]);
    const f = folder[split];
    assert.equal(f.n, want.labels.length);
    assert.ok(Buffer.from(f.pixels).equals(Buffer.from(want.pixels)), `${split}: folder pixels equal the IDX pixels`);
    assert.deepEqual(f.classes, want.labels, `${split}: labels`);
    // idx: keeps the files' order; the same images, the same tensors.
    const i = idx[split];
    assert.ok(Buffer.from(i.pixels).equals(Buffer.from(parts[split].images)), `${split}: idx pixels`);
    assert.deepEqual(i.classes, parts[split].labels);
    // The float tensors (pixels/255) agree bit for bit with the built-in loader's scaling of the same bytes.
    const ref = await loadDataset('mnist', { env: {}, download: false, cacheDir: join(tempDir(), 'c') });
    const offset = split === 'train' ? 0 : N_TRAIN;
    const refImages = ref.test.images.subarray(offset * 784, (offset + parts[split].labels.length) * 784);
    assert.ok(Buffer.from(i.images.buffer).equals(Buffer.from(refImages.slice().buffer)), `${split}: idx float images equal the built-in MNIST ones`);
    const order = folderOrder(parts[split].labels);
    const permuted = new Float32Array(order.length * 784);
    order.forEach((p, k) => permuted.set(refImages.subarray(p * 784, (p + 1) * 784), k * 784));
    assert.ok(Buffer.from(f.images.buffer).equals(Buffer.from(permuted.buffer)), `${split}: folder float images equal the built-in MNIST ones`);
    assert.deepEqual(Array.from(f.labels, Number), Array.from(f.classes));
  }
  // Standardising uses the same statistics either way (the same training pixels, in another order).
  const fs = await loadDataset(`folder:${root}`, { standardise: true });
  const is = await loadDataset(`idx:${idxDir}`, { standardise: true });
  assert.deepEqual(fs.normalisation, is.normalisation);
});

test('a DIR/<class>/* folder is split per class with a seeded shuffle, --test-fraction of each class held out', async () => {
  const { images, labels } = await realImages('mnist', 'test', 150);
  const root = tempDir();
  await writeGreyPngs(root, images, labels);
  const a = await loadDataset(`folder:${root}`, { testFraction: 0.2 });
  const b = await loadDataset(`folder:${root}`, { testFraction: 0.2 });
  assert.deepEqual(a.test.sources, b.test.sources, 'the split is the same every time');
  const counts = new Array<number>(10).fill(0);
  for (const y of labels) counts[y]!++;
  for (let c = 0; c < 10; c++) {
    const inTest = Array.from(a.test.classes).filter((y) => y === c).length;
    const inTrain = Array.from(a.train.classes).filter((y) => y === c).length;
    assert.equal(inTest, Math.round(counts[c]! * 0.2), `class ${c}: test share`);
    assert.equal(inTrain + inTest, counts[c]!, `class ${c}: every image in one split`);
  }
  const all = new Set([...a.train.sources!, ...a.test.sources!]);
  assert.equal(all.size, 150, 'the splits are disjoint and cover the folder');
  // Each image keeps its own pixels.
  const order = folderOrder(labels);
  const byName = new Map(order.map((i) => [join(root, String(labels[i]), `${String(i).padStart(5, '0')}.png`), i]));
  a.test.sources!.forEach((src, k) => {
    const i = byName.get(src)!;
    assert.ok(Buffer.from(a.test.pixels.subarray(k * 784, (k + 1) * 784)).equals(Buffer.from(images.subarray(i * 784, (i + 1) * 784))), src);
  });
  const c = await loadDataset(`folder:${root}`, { testFraction: 0.5 });
  assert.ok(c.test.n > a.test.n);
});

test('--image-size and --channels resize with a proper filter and convert grey to RGB', async () => {
  const { images, labels } = await realImages('fashion-mnist', 'test', 40);
  const root = tempDir();
  await writeGreyPngs(root, images, labels);
  const d = await loadDataset(`folder:${root}`, { imageSize: [32, 40], channels: 3 });
  assert.deepEqual(d.info.imageShape, [3, 32, 40]);
  assert.equal(d.train.pixels.length, d.train.n * 3 * 32 * 40);
  // The three planes of a grey image are equal, and the resize is sharp's Lanczos-3 of the original.
  const first = d.train.sources![0]!;
  const ref = await sharp(first).resize(40, 32, { fit: 'fill', kernel: 'lanczos3' }).extractChannel(0).raw().toBuffer();
  const hw = 32 * 40;
  for (let k = 0; k < 3; k++) assert.ok(Buffer.from(d.train.pixels.subarray(k * hw, (k + 1) * hw)).equals(ref), `plane ${k}`);
});

/** Runs `fn` on a fresh folder of a few real MNIST PNGs (DIR/train, DIR/test) and expects a DataError matching `re`. */
async function badFolder(change: (root: string) => void | Promise<void>, re: RegExp, o: { split?: boolean } = {}): Promise<void> {
  const { images, labels } = await realImages('mnist', 'test', 30);
  const root = tempDir();
  if (o.split) {
    await writeGreyPngs(root, images, labels);
  } else {
    await writeGreyPngs(join(root, 'train'), images.subarray(0, 20 * 784), labels.subarray(0, 20));
    await writeGreyPngs(join(root, 'test'), images.subarray(20 * 784), labels.subarray(20), 20);
  }
  await change(root);
  await assert.rejects(loadDataset(`folder:${root}`), (e: Error) => {
    assert.ok(e instanceof DataError, `a DataError, got ${e.name}: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

test('bad folders are refused naming the file and the fix', async () => {
  // An empty class folder.
  await badFolder((r) => mkdirSync(join(r, 'train', 'zebra')), /train\/zebra: class folder holds no images.*add images or remove the folder/);
  // A corrupt image (random bytes), a truncated one, a non-image file.
  await badFolder((r) => writeFileSync(join(r, 'train', '3', 'bad.png'), Buffer.from('definitely not a png, just text')),
    /train\/3\/bad\.png: cannot decode this image.*corrupt, truncated or not a PNG, JPEG or WebP.*replace it or remove it/);
  await badFolder((r) => {
    const src = join(r, 'train', '1', '00002.png');
    const bytes = readFileSync(src);
    writeFileSync(join(r, 'train', '1', 'short.png'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  }, /train\/1\/short\.png: cannot decode this image/);
  await badFolder((r) => writeFileSync(join(r, 'train', '0', 'notes.txt'), 'labels checked by hand'),
    /train\/0\/notes\.txt: not an image .*\.png, \.jpg, \.jpeg, \.webp.*remove it/);
  // Mixed sizes without --image-size.
  await badFolder(async (r) => {
    writeFileSync(join(r, 'train', '7', 'big.png'), await sharp({ create: { width: 40, height: 36, channels: 3, background: { r: 0, g: 0, b: 0 } } }).toColourspace('b-w').png().toBuffer());
  }, /images differ in size .*big\.png is 36×40.*pass --image-size H\[xW\]/);
  // A class in test but not in train.
  await badFolder((r) => {
    mkdirSync(join(r, 'test', 'ghost'));
    copyFileSync(join(r, 'train', '1', '00002.png'), join(r, 'test', 'ghost', 'a.png'));
  }, /test\/ghost: class "ghost" is in test\/ but not in train\/.*add .*train\/ghost\/ or remove it from test\//);
  // A folder with one class.
  const one = tempDir();
  const { images, labels } = await realImages('mnist', 'test', 10);
  await writeGreyPngs(one, images, new Uint8Array(labels.length).fill(4));
  await assert.rejects(loadDataset(`folder:${one}`), /expected at least two class folders, found 1 \(4\).*add a folder per class/);
  // A missing directory.
  await assert.rejects(loadDataset(`folder:${join(one, 'nope')}`), /nope: expected a directory of class folders .*found nothing at that path/);
});

test('mixed sizes load once --image-size is given', async () => {
  const { images, labels } = await realImages('mnist', 'test', 20);
  const root = tempDir();
  await writeGreyPngs(root, images, labels);
  writeFileSync(join(root, '7', 'big.png'), await sharp({ create: { width: 40, height: 36, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toBuffer());
  const d = await loadDataset(`folder:${root}`, { imageSize: [28, 28] });
  assert.deepEqual(d.info.imageShape, [3, 28, 28], 'one colour image makes the set RGB');
});

test('unknown dataset spec syntax is refused by the options, the loader and --image-size / --channels checks', async () => {
  for (const bad of ['mnist2', 'folders:/x', 'folder:', 'idx:', 'cifar10', 'biased-mnist:1.5', 'biased-mnist']) {
    assert.throws(() => resolveConfig({ dataset: bad }), (e: Error) => e instanceof OptionError && /--dataset: /.test(e.message), bad);
    await assert.rejects(loadDataset(bad), DataError);
  }
  assert.match(String((() => { try { resolveConfig({ dataset: 'cifar10' }); } catch (e) { return (e as Error).message; } return ''; })()),
    /unknown dataset "cifar10": expected one of mnist, fashion-mnist, decoy-mnist, decoy-fashion-mnist, color-mnist, biased-mnist:RHO, .*folder:DIR .* or idx:DIR/);
  assert.equal(resolveConfig({ dataset: 'folder:rel/dir' }).dataset, `folder:${join(process.cwd(), 'rel/dir')}`, 'directories are stored absolute');
  assert.throws(() => resolveConfig({ dataset: 'folder:/x', imageSize: '8' }), /--image-size: got "8", expected H or HxW with both in \[16, 4096\]/);
  assert.throws(() => resolveConfig({ dataset: 'folder:/x', channels: 2 }), /--channels: got 2, expected 1 \(grey\) or 3 \(RGB\)/);
  assert.throws(() => resolveConfig({ dataset: 'mnist', imageSize: '32' }), /apply to folder:DIR and idx:DIR datasets; mnist is always 1×28×28/);
  assert.equal(resolveConfig({ dataset: 'folder:/x', imageSize: '32x48', channels: 3 }).imageSize, '32x48');
});

test('idx: sets are not checksummed, take their class count from the labels, and name a missing file', async () => {
  const { images, labels } = await realImages('fashion-mnist', 'test', 60);
  // Only classes 0…4: five classes.
  const keep = Array.from(labels.keys()).filter((i) => labels[i]! < 5);
  const img = new Uint8Array(keep.length * 784);
  keep.forEach((i, k) => img.set(images.subarray(i * 784, (i + 1) * 784), k * 784));
  const lab = Uint8Array.from(keep, (i) => labels[i]!);
  const dir = join(tempDir(), 'kmnist-like');
  writeIdxSet(dir, { images: img, labels: lab }, { images: img, labels: lab });
  const d = await loadDataset(`idx:${dir}`);
  assert.equal(d.info.numClasses, 5);
  assert.deepEqual(d.info.classNames, ['0', '1', '2', '3', '4']);
  const up = await loadDataset(`idx:${dir}`, { imageSize: [32, 32] });
  assert.deepEqual(up.info.imageShape, [1, 32, 32]);
  const ref = await sharp(img.subarray(0, 784), { raw: { width: 28, height: 28, channels: 1 } }).resize(32, 32, { fit: 'fill', kernel: 'lanczos3' }).extractChannel(0).raw().toBuffer();
  assert.ok(Buffer.from(up.train.pixels.subarray(0, 1024)).equals(ref));
  const empty = join(tempDir(), 'empty');
  mkdirSync(empty);
  await assert.rejects(loadDataset(`idx:${empty}`), /empty: no train-images IDX file; expected train-images-idx3-ubyte/);
});
