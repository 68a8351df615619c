import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DataLoader, type ArrayDataset } from '../../src/data/batching/data-loader.js';
import { gatherRows } from '../../src/data/sampling/gather-rows.js';
import { loadDataset } from '../../src/data/load-dataset.js';
import type { LoadedDataset } from '../../src/data/dataset.js';
import { pixelStats, toUnitFloat } from '../../src/data/preprocess/normalisation.js';
import { classCounts } from '../../src/data/preprocess/labels.js';
import { Rng } from '../../src/data/sampling/rng.js';
import { stratifiedIndices } from '../../src/data/sampling/stratified.js';
import { offline, REFERENCE } from './fixtures.js';

function synthetic(n: number): ArrayDataset {
  const images = new Float32Array(n * 4);
  for (let i = 0; i < images.length; i++) images[i] = i;
  const labels = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 10));
  return { images, labels, n, imageShape: [1, 2, 2] };
}

const orders = (loader: DataLoader, epoch: number): number[] => [...loader.batches(epoch)].flatMap((b) => Array.from(b.indices));

describe('Rng', () => {
  it('is deterministic, restorable from JSON state, and seeds differ', () => {
    const a = Rng.fromSeed(42);
    const b = Rng.fromSeed(42);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    assert.deepEqual(Array.from({ length: 5 }, () => b.nextUint32()), xs);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const next = [a.random(), a.int(7), a.nextUint32()];
    const restored = Rng.fromState(saved);
    assert.deepEqual([restored.random(), restored.int(7), restored.nextUint32()], next);
    assert.notDeepEqual(Array.from({ length: 5 }, () => Rng.fromSeed(43).nextUint32()), xs);
    assert.notEqual(Rng.derive(1, 0).nextUint32(), Rng.derive(1, 1).nextUint32());
    assert.notEqual(Rng.derive(1).nextUint32(), Rng.derive(1, 0).nextUint32());
    assert.notEqual(Rng.fromSeed(2 ** 40).nextUint32(), Rng.fromSeed(0).nextUint32());
    assert.throws(() => Rng.fromSeed(0.5), RangeError);
    assert.throws(() => Rng.fromState({ algorithm: 'xoshiro128**', s: [0, 0, 0, 0] }), RangeError);
  });

  it('draws uniform integers, floats and fair coins', () => {
    const rng = Rng.fromSeed(7);
    const counts = new Array<number>(10).fill(0);
    let heads = 0;
    for (let i = 0; i < 100000; i++) {
      counts[rng.int(10)]!++;
      const u = rng.random();
      assert.ok(u >= 0 && u < 1);
      heads += rng.bool() ? 1 : 0;
    }
    for (const c of counts) assert.ok(Math.abs(c - 10000) < 500, `int counts ${counts}`);
    assert.ok(Math.abs(heads - 50000) < 1000, `heads ${heads}`);
    const p = rng.permutation(1000);
    assert.deepEqual(Array.from(p).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  });
});

describe('DataLoader', () => {
  const data = synthetic(103);

  it('shuffles each epoch as a pure function of (seed, epoch)', () => {
    const a = new DataLoader(data, { batchSize: 10, shuffle: true, seed: 3 });
    const b = new DataLoader(data, { batchSize: 10, shuffle: true, seed: 3 });
    orders(b, 5); // b has seen another epoch first; epoch orders must not depend on history
    assert.deepEqual(orders(a, 0), orders(b, 0));
    assert.deepEqual(orders(a, 1), orders(b, 1));
    assert.notDeepEqual(orders(a, 0), orders(a, 1));
    const c = new DataLoader(data, { batchSize: 10, shuffle: true, seed: 4 });
    assert.notDeepEqual(orders(c, 0), orders(a, 0));
    for (const e of [0, 1, 2]) assert.deepEqual([...orders(a, e)].sort((x, y) => x - y), Array.from({ length: 103 }, (_, i) => i));
  });

  it('resumes at a batch index within an epoch', () => {
    const loader = new DataLoader(data, { batchSize: 10, shuffle: true, seed: 9 });
    const all = [...loader.batches(2)];
    const resumed = [...new DataLoader(data, { batchSize: 10, shuffle: true, seed: 9 }).batches(2, 4)];
    assert.equal(resumed.length, all.length - 4);
    assert.deepEqual(resumed.map((b) => Array.from(b.indices)), all.slice(4).map((b) => Array.from(b.indices)));
    assert.deepEqual(resumed[0]!.x, all[4]!.x);
    assert.equal(resumed[0]!.batchIndex, 4);
    assert.deepEqual([...loader.batches(2, loader.numBatches)], []);
    assert.throws(() => [...loader.batches(2, loader.numBatches + 1)], RangeError);
  });

  it('batches gather the right images and labels, with a ragged or dropped last batch', () => {
    const loader = new DataLoader(data, { batchSize: 10, shuffle: true, seed: 1 });
    assert.equal(loader.numBatches, 11);
    const batches = [...loader.batches(0)];
    assert.deepEqual(batches.map((b) => b.size), [...new Array<number>(10).fill(10), 3]);
    for (const b of batches) {
      assert.deepEqual(b.shape, [b.size, 1, 2, 2]);
      b.indices.forEach((idx, k) => {
        assert.deepEqual(Array.from(b.x.subarray(4 * k, 4 * k + 4)), [4 * idx, 4 * idx + 1, 4 * idx + 2, 4 * idx + 3]);
        assert.equal(b.y[k], BigInt(idx % 10));
      });
    }
    const dropped = new DataLoader(data, { batchSize: 10, dropLast: true });
    assert.equal(dropped.numBatches, 10);
    assert.equal([...dropped.batches()].length, 10);
  });

  it('keeps dataset order without shuffling (evaluation)', () => {
    const loader = new DataLoader(data, { batchSize: 32 });
    assert.deepEqual(orders(loader, 0), Array.from({ length: 103 }, (_, i) => i));
    assert.deepEqual(orders(loader, 3), orders(loader, 0));
  });

  it('gatherRows keeps the array type', () => {
    const masks = Uint8Array.from([1, 1, 2, 2, 3, 3]);
    const out = gatherRows(masks, [2, 0], 2);
    assert.ok(out instanceof Uint8Array);
    assert.deepEqual(Array.from(out), [3, 3, 1, 1]);
  });
});

describe('stratified subsets and preprocessing on MNIST', () => {
  let mnist: LoadedDataset;
  before(async () => {
    mnist = await loadDataset('mnist', offline());
  });

  it('full MNIST has the published counts, [0,1] floats and int64 labels', () => {
    assert.equal(mnist.train.n, 60000);
    assert.equal(mnist.test.n, 10000);
    assert.deepEqual(classCounts(mnist.train.classes, 10), REFERENCE.mnist.trainCounts);
    assert.equal(mnist.train.labels[0], 5n);
    assert.equal(mnist.test.labels[0], 7n);
    assert.equal(mnist.train.images[14 * 28 + 14], Math.fround(240 / 255));
    assert.equal(mnist.normalisation, undefined);
    assert.ok(Math.abs(mnist.trainStats.mean[0]! - REFERENCE.mnist.trainMean) < 1e-9);
    assert.ok(Math.abs(mnist.trainStats.std[0]! - REFERENCE.mnist.trainStd) < 1e-9);
    assert.deepEqual(toUnitFloat(Uint8Array.from([0, 255, 51])), Float32Array.from([0, 1, 0.2]));
    assert.deepEqual(pixelStats(Uint8Array.from([0, 255])), { mean: [0.5], std: [0.5] });
  });

  it('limits give every class near-equal counts, deterministically, in ascending order', () => {
    const labels = mnist.train.classes;
    for (const limit of [10, 1000, 1005, 2345]) {
      const idx = stratifiedIndices(labels, limit, { numClasses: 10 });
      assert.equal(idx.length, limit);
      assert.equal(new Set(idx).size, limit);
      for (let k = 1; k < idx.length; k++) assert.ok(idx[k]! > idx[k - 1]!);
      const counts = classCounts(gatherRows(labels, idx, 1), 10);
      assert.ok(Math.min(...counts) >= 1);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `counts ${counts}`);
      assert.deepEqual(stratifiedIndices(labels, limit, { numClasses: 10 }), idx);
    }
    assert.notDeepEqual(stratifiedIndices(labels, 100, { numClasses: 10, seed: 1 }), stratifiedIndices(labels, 100, { numClasses: 10 }));
    assert.throws(() => stratifiedIndices(labels, 9, { numClasses: 10 }), /expected at least 10 \(one image per class\), found 9/);
    assert.equal(stratifiedIndices(labels, 70000, { numClasses: 10 }).length, 60000);
  });

  it('caps classes that run out and fills from the others', () => {
    const labels = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2, 2, 2, 2]);
    const counts = classCounts(gatherRows(labels, stratifiedIndices(labels, 9, { numClasses: 3 }), 1), 3);
    assert.equal(counts[1], 1);
    assert.equal(counts[0]! + counts[2]!, 8);
    assert.ok(Math.abs(counts[0]! - counts[2]!) <= 1);
  });

  it('loadDataset applies the limits with the same subset every time', async () => {
    const small = await loadDataset('mnist', { ...offline(), trainLimit: 500, testLimit: 200 });
    assert.equal(small.train.n, 500);
    assert.equal(small.test.n, 200);
    assert.deepEqual(classCounts(small.train.classes, 10), new Array<number>(10).fill(50));
    assert.deepEqual(classCounts(small.test.classes, 10), new Array<number>(10).fill(20));
    for (let k = 0; k < 500; k += 50) {
      const src = small.train.sourceIndices[k]!;
      assert.equal(small.train.classes[k], mnist.train.classes[src]);
      assert.equal(small.train.images[k * 784 + 300], mnist.train.images[src * 784 + 300]);
    }
    const again = await loadDataset('mnist', { ...offline(), trainLimit: 500, testLimit: 200 });
    assert.deepEqual(again.train.sourceIndices, small.train.sourceIndices);
    const loader = new DataLoader(small.train, { batchSize: 64, shuffle: true, seed: 0 });
    assert.equal(loader.numBatches, 8);
  });
});
