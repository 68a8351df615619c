import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { gradcheck } from '../helpers/gradcheck.js';

T.manualSeed(0);
const f64 = (shape: number[]): T.Tensor => T.randn(shape, { dtype: 'float64' });
const TOL = 1e-6;

test('conv2d: gradients of input, weight and bias match finite differences (stride, padding, groups)', () => {
  const x = f64([2, 4, 5, 5]);
  const w = f64([6, 2, 3, 3]);
  const b = f64([6]);
  const err = gradcheck(([xi, wi, bi]) => T.conv2d(xi!, wi!, bi!, { stride: 2, padding: 1, groups: 2 }).square().sum(), [x, w, b]);
  assert.ok(err < TOL, `max error ${err}`);
});

test('batchNorm in training mode (batch statistics) matches finite differences', () => {
  const x = f64([4, 3, 3, 3]);
  const w = f64([3]);
  const b = f64([3]);
  const err = gradcheck(([xi, wi, bi]) => {
    const y = T.batchNorm(xi!, null, null, { weight: wi!, bias: bi!, training: true });
    return y.mul(y.sigmoid()).sum();
  }, [x, w, b]);
  assert.ok(err < TOL, `max error ${err}`);
});

test('layerNorm matches finite differences', () => {
  const x = f64([3, 4, 5]);
  const w = f64([5]);
  const b = f64([5]);
  const err = gradcheck(([xi, wi, bi]) => T.layerNorm(xi!, [5], wi!, bi!).pow(3).sum(), [x, w, b]);
  assert.ok(err < TOL, `max error ${err}`);
});

test('gelu matches finite differences', () => {
  const x = f64([20]);
  assert.ok(gradcheck(([xi]) => T.gelu(xi!).square().sum(), [x]) < TOL);
});

test('bilinear interpolate (align_corners=false) matches finite differences', () => {
  const x = f64([2, 1, 4, 4]);
  const err = gradcheck(([xi]) => T.interpolateBilinear(xi!, [7, 9]).pow(3).sum(), [x]);
  assert.ok(err < TOL, `max error ${err}`);
});

test('crossEntropy matches finite differences and its closed form', () => {
  const z = f64([5, 4]);
  const y = T.tensor([0, 3, 1, 1, 2], [5], { dtype: 'int64' });
  assert.ok(gradcheck(([zi]) => T.crossEntropy(zi!, y), [z]) < TOL);
  // Independent value: mean of logsumexp(z) − z[y].
  const zs = z.data() as Float64Array;
  let expected = 0;
  [0, 3, 1, 1, 2].forEach((c, i) => {
    const row = Array.from(zs.slice(i * 4, i * 4 + 4));
    const m = Math.max(...row);
    expected += m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[c]!;
  });
  assert.ok(Math.abs(T.crossEntropy(z, y).item() - expected / 5) < 1e-12);
});

test('second order: d/dW of a loss built from grad(..., {createGraph}) matches finite differences', () => {
  const x = f64([2, 2, 5, 5]);
  const w = f64([3, 2, 3, 3]);
  // L(w) = ‖∂/∂x Σ relu-free conv(x, w)³‖²: the inner gradient depends on w and x, so the outer one is second order.
  const err = gradcheck(([wi]) => {
    const xi = x.detach().requiresGrad_(true);
    const inner = T.conv2d(xi, wi!, null, { padding: 1 }).pow(3).sum();
    const [gx] = T.grad(inner, [xi], { createGraph: true });
    return gx!.square().sum();
  }, [w]);
  assert.ok(err < 1e-5, `max error ${err}`);
});
