import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { distance, PrototypeBank, prototypeLoss, type Distance } from '../../src/losses/index.js';
import { blobMaps, f64, jsDistance, maxAbsDiff } from './maps.js';

const H = 12;
const N = H * H;
const KINDS: Distance[] = ['l1', 'l2', 'ssim'];
const labels = [0, 1, 2, 1, 3, 0];
const init = [1, 0, 1, 1]; // class 1 uninitialised

/** A bank holding known prototypes (set through its state dict) and the prototypes as plain arrays. */
function knownBank(flags: number[]): { bank: PrototypeBank; P: Float64Array } {
  const P = blobMaps(4, H, H, 21).map(Math.fround);
  const bank = new PrototypeBank({ numClasses: 4, height: H, width: H });
  bank.loadStateDict(new Map([
    ['prototypes', T.fromArray(Float32Array.from(P), [4, H, H])],
    ['initialized', T.fromArray(Uint8Array.from(flags), [4])],
  ]));
  return { bank, P };
}

const row = (a: ArrayLike<number>, i: number): number[] => Array.from(a).slice(i * N, (i + 1) * N);

/** The expected loss sample by sample: plain JS for l1/l2; for ssim, one single-sample `distance` call per pair. */
function expected(cams: Float64Array, P: Float64Array, kind: Distance, flags: number[]): number {
  const ds: number[] = [];
  labels.forEach((y, i) => {
    if (!flags[y]) return;
    const a = row(cams, i);
    const b = row(P, y);
    ds.push(kind === 'ssim'
      ? T.scope(() => distance(f64(a, [1, H, H]), f64(b, [1, H, H]), 'ssim').item())
      : jsDistance(a, b, 1, kind)[0]!);
  });
  return ds.length ? ds.reduce((s, v) => s + v, 0) / ds.length : 0;
}

test('prototypeLoss is the mean of d(cam_i, P_{y_i}) over samples of initialised classes, per distance', () => {
  T.scope(() => {
    const { bank, P } = knownBank(init);
    const cams = blobMaps(6, H, H, 22);
    const y = T.tensor(labels, [6], { dtype: 'int64' });
    for (const kind of KINDS) {
      const ours = prototypeLoss(T.fromArray(cams, [6, H, H]), y, bank, kind).item();
      const exp = expected(cams, P, kind, init);
      assert.ok(Math.abs(ours - exp) < 1e-12, `${kind}: ${ours} vs ${exp}`);
      assert.ok(exp > 1e-3); // not trivially zero
    }
  });
});

test('its gradient is that of d(cam_i, constant prototype); skipped samples get none; the bank gets none', () => {
  T.scope(() => {
    const { bank, P } = knownBank(init);
    const cams = T.fromArray(blobMaps(6, H, H, 23), [6, H, H]).requiresGrad_();
    const y = T.tensor(labels, [6], { dtype: 'int64' });
    const eligible = labels.map((c) => init[c] === 1);
    const n = eligible.filter(Boolean).length;
    // The reference: a constant target built from plain arrays, eligible rows summed explicitly.
    const target = T.fromArray(Float64Array.from(labels.flatMap((c) => row(P, c))), [6, H, H]);
    const w = f64(eligible.map((e) => (e ? 1 / n : 0)), [6]);
    for (const kind of KINDS) {
      const [g] = T.grad(prototypeLoss(cams, y, bank, kind), [cams]);
      const [gRef] = T.grad(distance(cams, target, kind).mul(w).sum(), [cams]);
      assert.ok(maxAbsDiff(g!.toArray(), gRef!.toArray()) < 1e-12, kind);
      const gs = g!.toArray();
      eligible.forEach((e, i) => {
        const norm = Math.max(...row(gs, i).map(Math.abs));
        assert.ok(e ? norm > 0 : norm === 0, `${kind} sample ${i}: |grad| ${norm}`);
      });
    }
    assert.equal(bank.prototypes.requiresGrad, false);
  });
});

test('with no initialised class the loss is a connected zero', () => {
  T.scope(() => {
    const { bank } = knownBank([0, 0, 0, 0]);
    const cams = T.fromArray(blobMaps(6, H, H, 24), [6, H, H]).requiresGrad_();
    for (const kind of KINDS) {
      const loss = prototypeLoss(cams, T.tensor(labels, [6], { dtype: 'int64' }), bank, kind);
      assert.equal(loss.item(), 0);
      const [g] = T.grad(loss, [cams]);
      assert.ok(g!.toArray().every((v) => v === 0));
    }
    assert.throws(() => prototypeLoss(T.zeros([2, 5, 5]), T.tensor([0, 1], [2], { dtype: 'int64' }), bank, 'l1'), /B×12×12/);
  });
});
