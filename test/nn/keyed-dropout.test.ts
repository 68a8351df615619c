import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { keyedDropout, mix32, sampleKeys } from '../../src/nn/keyed-dropout.js';

const GOLDEN = 0x9e3779b9;

/**
 * The mask of one element, computed in plain JS with 32-bit integer arithmetic (Math.imul), not tensors: kept when
 * the hash's top 24 bits as a uniform in [0, 1) reach p as a float32 (the comparison a float32 uniform makes).
 */
function keptInJs(key: number, j: number, salt: number, p: number): boolean {
  const e = mix32((Math.imul(j, GOLDEN) + mix32(salt)) >>> 0);
  const h = mix32((key ^ e) >>> 0);
  return (h >>> 8) / 2 ** 24 >= Math.fround(p);
}

test('keyedDropout: each mask element is the 32-bit hash of (sample key, element, salt), as computed in plain JS', () => {
  T.scope(() => {
    const keys = sampleKeys(7, 3, [5, 900, 12345, 0]);
    const x = T.ones([4, 3, 5, 5]);
    const p = 0.3;
    const y = keyedDropout(x, p, keys, 2).toArray();
    const k = keys.toArray();
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 75; j++) {
        const expect = keptInJs(k[i]!, j, 2, p) ? 1 / (1 - p) : 0;
        assert.ok(Math.abs(y[i * 75 + j]! - expect) < 1e-6, `sample ${i} element ${j}: ${y[i * 75 + j]} vs ${expect}`);
      }
    }
  });
});

test('keyedDropout: the plain-JS mask for every p, including hashes with the top bit set and p that rounds to 1 in float32', () => {
  T.scope(() => {
    const keys = sampleKeys(11, 2, [3, 77, 4096, 65535, 123456, 7]);
    const x = T.ones([6, 400]);
    const k = keys.toArray();
    for (const p of [0.05, 0.25, 0.5, 0.7, 0.95, 1 - 1e-9]) {
      const y = keyedDropout(x, p, keys, 1).toArray();
      let kept = 0;
      for (let i = 0; i < 6; i++) {
        for (let j = 0; j < 400; j++) {
          const keep = keptInJs(k[i]!, j, 1, p);
          kept += keep ? 1 : 0;
          const expect = keep ? Math.fround(1 / (1 - p)) : 0;
          assert.equal(y[i * 400 + j], expect, `p ${p}, sample ${i}, element ${j}`);
        }
      }
      if (p > 0.99) assert.equal(kept, 0, 'p rounds to 1: nothing kept');
      else assert.ok(kept > 0 && kept < 2400, `p ${p}: ${kept} of 2400 kept`);
    }
  });
});

test('keyedDropout: a sample keeps its mask in any batch or shard, drops about p, and layers (salts) and steps differ', () => {
  T.scope(() => {
    const n = 64;
    const indices = Array.from({ length: n }, (_, i) => 1000 + 7 * i);
    const x = T.ones([n, 2000]);
    const whole = keyedDropout(x, 0.5, sampleKeys(1, 4, indices), 1);
    // Samples 1, 3, 5, … alone (the second rank's shard of 2): their rows are the whole batch's rows.
    const odd = indices.filter((_, i) => i % 2 === 1);
    const shard = keyedDropout(T.ones([odd.length, 2000]), 0.5, sampleKeys(1, 4, odd), 1).toArray();
    const rows = whole.toArray();
    for (let k = 0; k < odd.length; k++) {
      assert.deepEqual(shard.slice(k * 2000, (k + 1) * 2000), rows.slice((2 * k + 1) * 2000, (2 * k + 2) * 2000), `row ${k}`);
    }
    const keptShare = whole.ne(0).to('float32').mean().item();
    // 128 000 Bernoulli(0.5) draws: the share is within 4σ (σ ≈ 0.0014) of 0.5.
    assert.ok(Math.abs(keptShare - 0.5) < 0.006, `kept ${keptShare}`);
    const agree = (a: T.Tensor, b: T.Tensor): number => a.ne(0).eq(b.ne(0)).to('float32').mean().item();
    const otherSalt = keyedDropout(x, 0.5, sampleKeys(1, 4, indices), 2);
    const otherStep = keyedDropout(x, 0.5, sampleKeys(1, 5, indices), 1);
    // Independent masks agree on about half the elements.
    for (const [what, m] of [['salt', otherSalt], ['step', otherStep]] as const) {
      const a = agree(whole, m);
      assert.ok(Math.abs(a - 0.5) < 0.006, `another ${what}: agreement ${a}`);
    }
    // p = 0 is the identity; gradients flow through the kept elements only, scaled by 1/(1 − p).
    assert.equal(keyedDropout(x, 0, sampleKeys(1, 4, indices), 1), x);
    const w = T.ones([n, 2000]).requiresGrad_();
    T.backward(keyedDropout(w, 0.5, sampleKeys(1, 4, indices), 1).sum());
    assert.deepEqual(w.grad!.toArray(), rows);
  });
});
