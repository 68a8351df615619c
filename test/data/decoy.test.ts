import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { addDecoy, cornerOrigin, decoyGrey, decoyLabelOfGrey, DECOY_PATCH_SIZE, type DecoyResult } from '../../src/data/builtin/decoy.js';
import { loadDataset } from '../../src/data/load-dataset.js';
import type { LoadedDataset } from '../../src/data/dataset.js';
import { loadRawSplit, type RawSplit } from '../../src/data/builtin/raw.js';
import { offline } from './fixtures.js';

const SIZE = 784;

/** Checks every image: the mask is exactly the 4×4 patch of its corner, the patch has the expected grey, the rest is untouched. */
function checkPatches(raw: RawSplit, d: DecoyResult, greyLabel: (i: number) => number): void {
  for (let i = 0; i < raw.n; i++) {
    const { row, col } = cornerOrigin(d.corners[i]!);
    const grey = decoyGrey(greyLabel(i));
    for (let p = 0; p < SIZE; p++) {
      const r = Math.floor(p / 28);
      const c = p % 28;
      const inside = r >= row && r < row + DECOY_PATCH_SIZE && c >= col && c < col + DECOY_PATCH_SIZE;
      if (d.masks[i * SIZE + p] !== (inside ? 1 : 0)) assert.fail(`image ${i} pixel ${p}: mask ${d.masks[i * SIZE + p]}, inside=${inside}`);
      const want = inside ? grey : raw.images[i * SIZE + p];
      if (d.images[i * SIZE + p] !== want) assert.fail(`image ${i} pixel ${p}: ${d.images[i * SIZE + p]} != ${want}`);
    }
  }
}

describe('DecoyMNIST', () => {
  let train: RawSplit;
  let test: RawSplit;
  let dTrain: DecoyResult;
  let dTest: DecoyResult;
  before(async () => {
    train = await loadRawSplit('mnist', 'train', offline());
    test = await loadRawSplit('mnist', 'test', offline());
    dTrain = addDecoy(train.images, train.labels, { split: 'train', seed: 0 });
    dTest = addDecoy(test.images, test.labels, { split: 'test', seed: 0 });
  });

  it('puts a 4×4 patch in a corner; its grey level encodes the label in train', () => {
    checkPatches(train, dTrain, (i) => train.labels[i]!);
    assert.deepEqual(dTrain.decoyLabels, train.labels);
    // The grey level alone recovers every training label.
    for (let i = 0; i < train.n; i++) {
      const { row, col } = cornerOrigin(dTrain.corners[i]!);
      assert.equal(decoyLabelOfGrey(dTrain.images[i * SIZE + row * 28 + col]!), train.labels[i]);
    }
  });

  it('encodes a random label in test, agreeing with the truth about 10% of the time', () => {
    checkPatches(test, dTest, (i) => dTest.decoyLabels[i]!);
    let agree = 0;
    for (let i = 0; i < test.n; i++) agree += dTest.decoyLabels[i] === test.labels[i] ? 1 : 0;
    const rate = agree / test.n;
    assert.ok(rate > 0.07 && rate < 0.13, `agreement ${rate}`);
    const perClass = new Array<number>(10).fill(0);
    for (const y of dTest.decoyLabels) perClass[y]!++;
    for (const c of perClass) assert.ok(c > 850 && c < 1150, `decoy label counts ${perClass}`);
  });

  it('uses each corner about 25% of the time', () => {
    for (const d of [dTrain, dTest]) {
      const counts = [0, 0, 0, 0];
      for (const c of d.corners) counts[c]!++;
      for (const c of counts) assert.ok(Math.abs(c / d.corners.length - 0.25) < 0.02, `corner counts ${counts}`);
    }
  });

  it('leaves the input untouched and is reproducible by seed', () => {
    assert.notEqual(dTrain.images, train.images);
    assert.equal(train.images[0], 0); // image 0's top-left pixel is background in the original
    const again = addDecoy(test.images, test.labels, { split: 'test', seed: 0 });
    assert.deepEqual(again.images, dTest.images);
    assert.deepEqual(again.corners, dTest.corners);
    const other = addDecoy(test.images, test.labels, { split: 'test', seed: 1 });
    assert.notDeepEqual(other.corners, dTest.corners);
    assert.notDeepEqual(other.decoyLabels, dTest.decoyLabels);
    // Train and test draw from different streams of one seed.
    assert.notDeepEqual(dTrain.corners.subarray(0, 10000), dTest.corners);
  });
});

describe('loadDataset', () => {
  let decoy: LoadedDataset;
  before(async () => {
    decoy = await loadDataset('decoy-fashion-mnist', { ...offline(), trainLimit: 1000, testLimit: 500, standardise: true });
  });

  it('subsets decoy datasets consistently: pixels, masks and corners stay aligned', () => {
    for (const split of [decoy.train, decoy.test]) {
      assert.ok(split.decoy);
      assert.equal(split.decoy.masks.length, split.n * SIZE);
      for (let i = 0; i < split.n; i++) {
        const { row, col } = cornerOrigin(split.decoy.corners[i]!);
        assert.equal(split.decoy.masks[i * SIZE + row * 28 + col], 1);
        assert.equal(split.pixels[i * SIZE + row * 28 + col], decoyGrey(split.decoy.decoyLabels[i]!));
      }
    }
    assert.deepEqual(decoy.train.decoy!.decoyLabels, decoy.train.classes);
  });

  it('standardises with the full training split statistics', () => {
    const [mean, std] = [decoy.normalisation!.mean[0]!, decoy.normalisation!.std[0]!];
    // Decoy patches (mostly bright) raise the mean a little above plain Fashion-MNIST's 0.286.
    assert.ok(mean > 0.286 && mean < 0.3, `mean ${mean}`);
    assert.ok(std > 0.3 && std < 0.4, `std ${std}`);
    const x = decoy.train.images;
    assert.ok(Math.abs(x[0]! - (decoy.train.pixels[0]! / 255 - mean) / std) < 1e-6);
    const avg = x.reduce((a, b) => a + b, 0) / x.length;
    assert.ok(Math.abs(avg) < 0.05, `standardised mean ${avg}`);
    assert.deepEqual(decoy.train.imageShape, [1, 28, 28]);
    assert.equal(decoy.train.labels.length, 1000);
    assert.equal(decoy.train.labels[0], BigInt(decoy.train.classes[0]!));
  });
});
