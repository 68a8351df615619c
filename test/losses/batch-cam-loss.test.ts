import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { batchCamLoss, distance, type Distance } from '../../src/losses/index.js';
import { blobMaps, f64, jsDistance, maxAbsDiff, rng } from './maps.js';

const H = 11;
const N = H * H;
const KINDS: Distance[] = ['l1', 'l2', 'ssim'];
// Class 0 has 3 members, class 1 two, classes 2 and 3 one each (those two are skipped).
const labels = [0, 1, 0, 2, 1, 0, 3];
const B = labels.length;
const y = (): T.Tensor => T.tensor(labels, [B], { dtype: 'int64' });
const row = (a: ArrayLike<number>, i: number): number[] => Array.from(a).slice(i * N, (i + 1) * N);

/** Per sample, the plain-JS mean map of its class in the batch. */
function classMeans(cams: Float64Array): number[][] {
  return labels.map((c) => {
    const members = labels.flatMap((d, j) => (d === c ? [j] : []));
    return Array.from({ length: N }, (_, k) => members.reduce((s, j) => s + cams[j * N + k]!, 0) / members.length);
  });
}

/**
 * Central finite difference of f at x along a random direction v (seeded), against ⟨g, v⟩ for a given gradient g:
 * a full-gradient check at the cost of two evaluations (float64).
 */
function directional(f: (x: T.Tensor) => T.Tensor, x: T.Tensor, g: number[], seed: number, eps = 1e-6): { numeric: number; analytic: number } {
  const r = rng(seed);
  const v = Array.from({ length: g.length }, () => r() - 0.5);
  return T.noGrad(() => T.scope(() => {
    const dv = f64(v, x.shape).mul(eps);
    const numeric = (f(x.add(dv)).item() - f(x.sub(dv)).item()) / (2 * eps);
    return { numeric, analytic: g.reduce((s, gi, k) => s + gi * v[k]!, 0) };
  }));
}

const eligible = labels.map((c) => labels.filter((d) => d === c).length >= 2);

test('batchCamLoss is the mean of d(cam_i, class mean) over samples whose class has ≥ 2 members', () => {
  T.scope(() => {
    const cams = blobMaps(B, H, H, 31);
    const M = classMeans(cams);
    for (const kind of KINDS) {
      const ds = labels.flatMap((_, i) => {
        if (!eligible[i]) return [];
        if (kind !== 'ssim') return jsDistance(row(cams, i), M[i]!, 1, kind);
        return [distance(f64(row(cams, i), [1, H, H]), f64(M[i]!, [1, H, H]), 'ssim').item()];
      });
      const exp = ds.reduce((s, v) => s + v, 0) / ds.length;
      assert.equal(ds.length, 5);
      for (const o of [{}, { means: 'attached' as const }, { numClasses: 4 }, { numClasses: 4, means: 'attached' as const }]) {
        const ours = batchCamLoss(T.fromArray(cams, [B, H, H]), y(), kind, o).item();
        assert.ok(Math.abs(ours - exp) < 1e-12, `${kind} ${JSON.stringify(o)}: ${ours} vs ${exp}`);
      }
    }
  });
});

test('detached target: the gradient is that of d(cam_i, constant M_{y_i}); singletons get none', () => {
  T.scope(() => {
    const data = blobMaps(B, H, H, 32);
    const cams = T.fromArray(data, [B, H, H]).requiresGrad_();
    const target = T.fromArray(Float64Array.from(classMeans(data).flat()), [B, H, H]);
    const w = f64(eligible.map((e) => (e ? 1 / 5 : 0)), [B]);
    for (const kind of KINDS) {
      for (const numClasses of [undefined, 4]) {
        const [g] = T.grad(batchCamLoss(cams, y(), kind, { numClasses }), [cams]);
        const [gRef] = T.grad(distance(cams, target, kind).mul(w).sum(), [cams]);
        assert.ok(maxAbsDiff(g!.toArray(), gRef!.toArray()) < 1e-12, `${kind} numClasses=${numClasses}`);
        const gs = g!.toArray();
        eligible.forEach((e, i) => {
          const norm = Math.max(...row(gs, i).map(Math.abs));
          assert.ok(e ? norm > 0 : norm === 0, `${kind} sample ${i}: |grad| ${norm}`);
        });
      }
    }
  });
});

test('attached target: the gradient also flows through the class mean; it is the true derivative (finite differences)', () => {
  const data = blobMaps(B, H, H, 33);
  const grads = (kind: Distance, c: T.Tensor): [number[], number[]] => {
    const [gAtt] = T.grad(batchCamLoss(c, y(), kind, { means: 'attached' }), [c]);
    const [gDet] = T.grad(batchCamLoss(c, y(), kind), [c]);
    return [gAtt!.toArray(), gDet!.toArray()];
  };
  T.scope(() => {
    const cams = T.fromArray(data, [B, H, H]).requiresGrad_();
    // ssim: the two differ, and (same value, so finite differences of the loss measure the attached gradient)
    // only the attached one is the derivative.
    const [att, det] = grads('ssim', cams);
    assert.ok(maxAbsDiff(att, det) > 1e-4, `ssim: attached and detached gradients should differ (${maxAbsDiff(att, det)})`);
    const f = (c: T.Tensor): T.Tensor => batchCamLoss(c, y(), 'ssim', { means: 'attached' });
    for (const seed of [1, 2, 3]) {
      const { numeric, analytic: a } = directional(f, cams, att, seed);
      assert.ok(Math.abs(numeric - a) < 1e-8 * Math.max(1, Math.abs(numeric)), `attached: ${a} vs finite difference ${numeric}`);
      const d = directional(f, cams, det, seed).analytic;
      assert.ok(Math.abs(numeric - d) > 1e-4 * Math.abs(numeric), `detached ${d} should miss the derivative ${numeric}`);
    }
  });
  T.scope(() => {
    const cams = T.fromArray(data, [B, H, H]).requiresGrad_();
    const M = classMeans(data);
    const members = (c: number): number[] => labels.flatMap((d, j) => (d === c ? [j] : []));
    // l1, by hand: through M_c every member i of an eligible class c gets −(1/(5N))·Σ_{j∈c} sign(cam_j − M_c)/|c|.
    const [att, det] = grads('l1', cams);
    const through = labels.flatMap((c, i) => {
      const m = members(c);
      if (m.length < 2) return new Array<number>(N).fill(0);
      return Array.from({ length: N }, (_, k) => -m.reduce((s, j) => s + Math.sign(data[j * N + k]! - M[i]![k]!), 0) / (5 * N * m.length));
    });
    assert.ok(maxAbsDiff(through, new Array<number>(B * N).fill(0)) > 1e-5);
    assert.ok(maxAbsDiff(att, det.map((v, k) => v + through[k]!)) < 1e-12, 'l1 attached = detached + path through M');
    // l2: the path through the exact mean is −(2/(5N))·Σ_{j∈c}(cam_j − M_c)/|c| = 0, so the two coincide.
    const [att2, det2] = grads('l2', cams);
    assert.ok(maxAbsDiff(att2, det2) < 1e-15);
  });
});

test('a batch of singletons gives a connected zero', () => {
  T.scope(() => {
    const cams = T.fromArray(blobMaps(3, H, H, 34), [3, H, H]).requiresGrad_();
    for (const kind of KINDS) {
      for (const means of ['detached', 'attached'] as const) {
        const loss = batchCamLoss(cams, T.tensor([2, 0, 1], [3], { dtype: 'int64' }), kind, { means });
        assert.equal(loss.item(), 0);
        const [g] = T.grad(loss, [cams]);
        assert.ok(g!.toArray().every((v) => v === 0));
      }
    }
    assert.throws(() => batchCamLoss(cams, T.tensor([0, 1], [2], { dtype: 'int64' }), 'l1'), /labels of shape \[3\]/);
  });
});
