import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { classMapSums, classMeanMaps } from '../../src/losses/index.js';
import { blobMaps, maxAbsDiff } from './maps.js';

const H = 7;
const N = H * H;
const C = 4;
// Class 0 has three members, class 1 two, class 2 one, class 3 none (its mean must be zero).
const labels = [0, 1, 0, 2, 1, 0];
const B = labels.length;
const y = (): T.Tensor => T.tensor(labels, [B], { dtype: 'int64' });

/** Plain-JS per-class weighted sums and counts of flat B×N maps. */
function jsClassSums(maps: Float64Array, weights: readonly number[]): { sums: number[][]; counts: number[] } {
  const sums = Array.from({ length: C }, () => new Array<number>(N).fill(0));
  const counts = new Array<number>(C).fill(0);
  labels.forEach((c, i) => {
    counts[c]! += weights[i]!;
    for (let k = 0; k < N; k++) sums[c]![k]! += weights[i]! * maps[i * N + k]!;
  });
  return { sums, counts };
}

test('classMeanMaps: each class mean map equals the plain-JS per-class mean (zero for an absent class), counts its members', () => {
  T.scope(() => {
    const maps = blobMaps(B, H, H, 31);
    const { means, counts } = classMeanMaps(T.fromArray(maps, [B, H, H]), y(), C);
    assert.deepEqual(means.shape, [C, H, H]);
    const js = jsClassSums(maps, labels.map(() => 1));
    assert.deepEqual(counts.toArray(), [3, 2, 1, 0]);
    const want = js.sums.flatMap((s, c) => s.map((v) => v / Math.max(js.counts[c]!, 1)));
    assert.ok(maxAbsDiff(means.toArray(), want) < 1e-12);
  });
});

test('classMapSums with weights: each sample counts by its weight in the sums and the counts (the plain-JS weighted sums)', () => {
  T.scope(() => {
    const maps = blobMaps(B, H, H, 32);
    const correct = [true, false, true, true, true, false];
    const s = classMapSums(T.fromArray(maps, [B, H, H]), y(), C, { weights: T.tensor(correct.map(Number), [B], { dtype: 'bool' }) });
    const js = jsClassSums(maps, correct.map(Number));
    assert.deepEqual(s.counts.toArray(), js.counts);
    assert.ok(maxAbsDiff(s.sums.toArray(), js.sums.flat()) < 1e-12);
  });
});

test('classMapSums with shards: sums and counts are each summed over the shards (two identical shards double both, means unchanged)', () => {
  T.scope(() => {
    const maps = blobMaps(B, H, H, 33);
    const calls: number[][] = [];
    const twoShards = { count: 2, sum: (t: T.Tensor): T.Tensor => { calls.push(t.shape); return t.mul(2); } };
    const flat = T.fromArray(maps, [B, N]);
    const s = classMapSums(flat, y(), C, { shards: twoShards });
    const m = classMeanMaps(flat, y(), C, { shards: twoShards });
    const js = jsClassSums(maps, labels.map(() => 1));
    assert.deepEqual(calls, [[C], [C, N], [C], [C, N]], 'counts first, then sums, both summed');
    assert.deepEqual(s.counts.toArray(), js.counts.map((n) => 2 * n));
    assert.ok(maxAbsDiff(s.sums.toArray(), js.sums.flat().map((v) => 2 * v)) < 1e-12);
    assert.ok(maxAbsDiff(m.means.toArray(), js.sums.flatMap((r, c) => r.map((v) => v / Math.max(js.counts[c]!, 1)))) < 1e-12);
  });
});

test('classMapSums of a per-sample vector in float64: the per-class sums of float32 values, computed in float64', () => {
  T.scope(() => {
    const v = [0.1, 0.7, 0.2, 0.9, 0.3, 0.6];
    const t = T.tensor(v, [B]); // float32
    const f32 = Array.from(t.toArray());
    const s = classMapSums(t, y(), C, { dtype: 'float64' });
    assert.equal(s.sums.dtype, 'float64');
    assert.deepEqual(s.sums.shape, [C]);
    const want = Array.from({ length: C }, (_, c) => labels.reduce((p, d, i) => (d === c ? p + f32[i]! : p), 0));
    assert.ok(maxAbsDiff(s.sums.toArray(), want) < 1e-15);
  });
});

test('classMeanMaps is differentiable in the maps: d(Σ_c Σ mean_c)/d map_i = 1/|class of i|', () => {
  T.scope(() => {
    const x = T.fromArray(blobMaps(B, H, H, 34), [B, H, H]).requiresGrad_();
    const [g] = T.grad(classMeanMaps(x, y(), C).means.sum(), [x]);
    const size = labels.map((c) => labels.filter((d) => d === c).length);
    assert.ok(maxAbsDiff(g!.toArray(), size.flatMap((n) => new Array<number>(N).fill(1 / n))) < 1e-12);
  });
});
