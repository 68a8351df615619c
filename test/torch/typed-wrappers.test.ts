import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';

/** Seeded uniform float64 values in [lo, hi) as a tensor and as the plain numbers an independent JS computation uses. */
function sample(n: number, lo = -1, hi = 1): { t: T.Tensor; v: number[] } {
  const t = T.rand([n], { dtype: 'float64' }).mul(hi - lo).add(lo);
  return { t, v: t.toArray() };
}

function assertClose(t: T.Tensor, want: number[], what: string): void {
  const got = t.toArray();
  assert.equal(got.length, want.length, what);
  const worst = Math.max(...got.map((g, i) => Math.abs(g - want[i]!) / Math.max(1, Math.abs(want[i]!))));
  assert.ok(worst < 1e-12, `${what}: relative difference ${worst}`);
}

test('foreach ops equal the same arithmetic done per element in JS, on every tensor of the list', () => {
  T.manualSeed(0);
  T.scope(() => {
    const sizes = [5, 1, 12];
    const mk = (lo = -1, hi = 1) => sizes.map((n) => sample(n, lo, hi));
    const xs = mk(); const as = mk(); const bs = mk(0.5, 2);
    const ts = xs.map((s) => s.t);
    const ref = xs.map((s) => [...s.v]);
    const each = (f: (x: number, i: number, k: number) => number): void => {
      ref.forEach((r, k) => r.forEach((x, i) => { r[i] = f(x, i, k); }));
    };
    const check = (what: string): void => ts.forEach((t, k) => assertClose(t, ref[k]!, `${what} [${k}]`));
    T.foreachMul_(ts, 0.75); each((x) => x * 0.75); check('foreachMul_');
    T.foreachDiv_(ts, 3); each((x) => x / 3); check('foreachDiv_');
    T.foreachAdd_(ts, 0.5); each((x) => x + 0.5); check('foreachAdd_ scalar');
    T.foreachAdd_(ts, as.map((s) => s.t), -2); each((x, i, k) => x - 2 * as[k]!.v[i]!); check('foreachAdd_ list');
    T.foreachAddcmul_(ts, as.map((s) => s.t), bs.map((s) => s.t), 0.3);
    each((x, i, k) => x + 0.3 * as[k]!.v[i]! * bs[k]!.v[i]!); check('foreachAddcmul_');
    T.foreachAddcdiv_(ts, as.map((s) => s.t), bs.map((s) => s.t), -1.5);
    each((x, i, k) => x - (1.5 * as[k]!.v[i]!) / bs[k]!.v[i]!); check('foreachAddcdiv_');

    // Out of place: the inputs are left as they were.
    const sums = T.foreachAdd(ts, as.map((s) => s.t), 2);
    sums.forEach((s, k) => assertClose(s, ref[k]!.map((x, i) => x + 2 * as[k]!.v[i]!), `foreachAdd list [${k}]`));
    T.foreachAdd(ts, 1).forEach((s, k) => assertClose(s, ref[k]!.map((x) => x + 1), `foreachAdd scalar [${k}]`));
    check('inputs after out-of-place foreachAdd');
    T.foreachSqrt(bs.map((s) => s.t)).forEach((s, k) => assertClose(s, bs[k]!.v.map(Math.sqrt), `foreachSqrt [${k}]`));
    const norms = T.foreachNorm(ts);
    norms.forEach((nrm, k) => {
      assert.deepEqual(nrm.shape, [], 'a 0-d tensor per input');
      assertClose(nrm.reshape([1]), [Math.hypot(...ref[k]!)], `foreachNorm [${k}]`);
    });
    T.foreachNorm(ts, 1).forEach((nrm, k) => assertClose(nrm.reshape([1]), [ref[k]!.reduce((s, x) => s + Math.abs(x), 0)], `foreachNorm ord 1 [${k}]`));
    assert.throws(() => T.foreachAdd_(ts, as.slice(0, 2).map((s) => s.t)), /same number of tensors|size/i,
      'lists of different lengths are a JS error');
  });
});

test('argsort: stable keeps ties in index order, descending reverses the order; logicalOr', () => {
  T.scope(() => {
    const v = [3, 1, 3, 2, 1, 3, 0, 2];
    const x = T.tensor([...v, ...v.map((e) => -e)], [2, 8]);
    const byJs = (row: number[], desc: boolean): number[] =>
      row.map((e, i) => [e, i] as const).sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]) || a[1] - b[1]).map((p) => p[1]);
    const rows = [v, v.map((e) => -e)];
    const asc = T.argsort(x, 1, { stable: true });
    const desc = T.argsort(x, 1, { stable: true, descending: true });
    assert.equal(asc.dtype, 'int64');
    assert.deepEqual(asc.toArray(), rows.flatMap((r) => byJs(r, false)));
    assert.deepEqual(desc.toArray(), rows.flatMap((r) => byJs(r, true)));
    // Along dim 0 (columns): the default dim is the last one, so ask for 0 explicitly.
    assert.deepEqual(T.argsort(x, 0, { stable: true }).toArray().slice(0, 8), v.map((e) => (e > -e ? 1 : 0)));

    const a = T.tensor([0, 1, 0, 2]);
    const b = T.tensor([0, 0, -1, 3]);
    const or = T.logicalOr(a, b);
    assert.equal(or.dtype, 'bool');
    assert.deepEqual(or.toArray(), [0, 1, 1, 1]);
  });
});

test('bytes() and fromBytes round-trip raw bytes for every dtype; dataPtr identifies shared storage', () => {
  T.scope(() => {
    const bools = T.fromBytes(Uint8Array.from([1, 0, 0, 1, 1, 0]), [2, 3], 'bool');
    assert.equal(bools.dtype, 'bool');
    assert.deepEqual(bools.toArray(), [1, 0, 0, 1, 1, 0]);
    const f = T.tensor([1.5, -2, 0.25]);
    const bytes = f.bytes();
    assert.deepEqual([...bytes], [...new Uint8Array(Float32Array.from([1.5, -2, 0.25]).buffer)]);
    for (const dtype of ['uint8', 'int32', 'int64', 'float32', 'float64', 'bool'] as const) {
      const t = T.tensor([0, 1, 1, 0, 1, 1], [3, 2]).to(dtype);
      const back = T.fromBytes(t.bytes(), [3, 2], dtype);
      assert.equal(back.dtype, dtype);
      assert.deepEqual(back.toArray(), t.toArray(), dtype);
      assert.equal(t.bytes().length, 6 * T.dtypeSize(dtype));
    }
    // A transposed view reads out contiguous (row-major in its own shape).
    assert.deepEqual(T.fromBytes(T.tensor([1, 2, 3, 4], [2, 2]).transpose(0, 1).bytes(), [4], 'float32').toArray(), [1, 3, 2, 4]);
    assert.throws(() => T.fromBytes(new Uint8Array(5), [2], 'float32'), /5 bytes given, shape needs 8/);

    assert.equal(f.detach().dataPtr(), f.dataPtr(), 'a view from the first element shares the address');
    assert.notEqual(f.clone().dataPtr(), f.dataPtr(), 'a copy does not');
    assert.equal(f.slice(0, 1).dataPtr() - f.dataPtr(), 4, 'one float32 further along');
  });
});
