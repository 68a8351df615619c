import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { distance, MapComparer, mapDistance } from '../../src/losses/index.js';
import { maxTensorDiff } from '../helpers/tensor-diff.js';

/** Σ_k (k+1)·Σ_i d_k[i]: one scalar that weighs every distance differently, so a mixed-up gradient shows. */
function weighted(ds: readonly T.Tensor[]): T.Tensor {
  return ds.map((d, k) => d.mul(k + 1).sum()).reduce((p, q) => p.add(q));
}

test('MapComparer: SSIM against a constant and a graded target equals two separate distance(…, ssim) calls, values and gradients', () => {
  T.scope(() => {
    T.manualSeed(21);
    const a = T.rand([5, 20, 17], { dtype: 'float64' }).requiresGrad_();
    const fixed = T.rand([5, 20, 17], { dtype: 'float64' }); // a prototype: outside autograd
    const graded = T.rand([5, 20, 17], { dtype: 'float64' }).requiresGrad_(); // an attached class mean
    const maps = new MapComparer(a);
    const shared = [maps.distance(fixed, 'ssim'), maps.distance(graded, 'ssim')];
    maps.dispose();
    const apart = [distance(a, fixed, 'ssim'), distance(a, graded, 'ssim')];
    shared.forEach((d, i) => assert.ok(maxTensorDiff(d, apart[i]!) < 1e-12, `target ${i}`));
    const [ga, gg] = T.grad(weighted(shared), [a, graded]);
    const [va, vg] = T.grad(weighted(apart), [a, graded]);
    assert.ok(maxTensorDiff(ga!, va!) < 1e-12 && maxTensorDiff(gg!, vg!) < 1e-12);
  });
});

test('MapComparer: float32 maps against a float64 and then a float32 target equal separate distance calls (each dtype its own statistics)', () => {
  T.scope(() => {
    T.manualSeed(22);
    const a = T.rand([3, 16, 16]).requiresGrad_();
    const targets = [T.rand([3, 16, 16], { dtype: 'float64' }), T.rand([3, 16, 16]), T.rand([3, 16, 16], { dtype: 'float64' })];
    const maps = new MapComparer(a);
    const shared = targets.map((t) => maps.distance(t, 'ssim'));
    maps.dispose();
    const apart = targets.map((t) => distance(a, t, 'ssim'));
    shared.forEach((d, i) => {
      assert.equal(d.dtype, apart[i]!.dtype, `target ${i} dtype`);
      assert.ok(maxTensorDiff(d, apart[i]!) < 1e-6, `target ${i}`);
    });
    const [g] = T.grad(weighted(shared), [a]);
    const [v] = T.grad(weighted(apart), [a]);
    assert.ok(maxTensorDiff(g!, v!) < 1e-6);
  });
});

test('MapComparer: l1 and l2 give exactly distance()', () => {
  T.scope(() => {
    T.manualSeed(23);
    const a = T.rand([4, 12, 12], { dtype: 'float64' });
    const b = T.rand([4, 12, 12], { dtype: 'float64' });
    const maps = new MapComparer(a);
    for (const kind of ['l1', 'l2'] as const) assert.equal(maxTensorDiff(maps.distance(b, kind), distance(a, b, kind)), 0, kind);
    maps.dispose();
  });
});

test('mapDistance refuses a comparer made for other maps than the CAMs it is given', () => {
  T.scope(() => {
    const a = T.rand([2, 12, 12]);
    const other = T.rand([2, 12, 12]);
    const maps = new MapComparer(other);
    assert.throws(() => mapDistance(a, T.rand([2, 12, 12]), maps.by('ssim')), /other maps/);
    maps.dispose();
  });
});
