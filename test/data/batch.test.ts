import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataLoader, type ArrayDataset } from '../../src/data/batching/data-loader.js';

import * as batchModule from '../../src/data/batching/tensor-batch.js';

describe('tensor batches', () => {
  it('turns plain batches into float32 [n,1,28,28] and int64 [n] tensors', () => {
    const { toTensorBatch, tensorBatches, masksToTensor } = batchModule;
    const n = 5;
    const images = Float32Array.from({ length: n * 784 }, (_, i) => (i % 784) / 784 + Math.floor(i / 784));
    const data: ArrayDataset = { images, labels: BigInt64Array.from([3n, 1n, 4n, 1n, 5n]), n, imageShape: [1, 28, 28] };
    const loader = new DataLoader(data, { batchSize: 2, shuffle: true, seed: 11 });
    const plain = loader.batch(0, 1);
    const t = toTensorBatch(plain);
    assert.deepEqual(t.x.shape, [2, 1, 28, 28]);
    assert.equal(t.x.dtype, 'float32');
    assert.deepEqual(t.y.shape, [2]);
    assert.equal(t.y.dtype, 'int64');
    assert.deepEqual(t.x.data(), plain.x);
    assert.deepEqual(t.y.data(), plain.y);
    t.x.dispose();
    t.y.dispose();
    const sizes = [...tensorBatches(loader, 0, 1)].map((b) => {
      const s = b.x.shape[0];
      b.x.dispose();
      b.y.dispose();
      return s;
    });
    assert.deepEqual(sizes, [2, 1]);
    const m = masksToTensor(new Uint8Array(2 * 784), 2, 28, 28);
    assert.deepEqual(m.shape, [2, 1, 28, 28]);
    assert.equal(m.dtype, 'uint8');
    m.dispose();
  });
});
