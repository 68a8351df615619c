import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { GRN } from '../../src/nn/grn.js';
import { ConvNeXtBlock } from '../../src/models/convnext-v2.js';
import { gradcheck } from '../helpers/gradcheck.js';

const maxAbs = (a: T.Tensor, b: T.Tensor): number => T.scope(() => a.sub(b).abs().amax().item());

/** GRN exactly as the official ConvNeXt-V2 code writes it: torch.norm over H, W, then γ·(x·Nx) + β + x. */
function officialGrn(x: T.Tensor, gamma: T.Tensor, beta: T.Tensor): T.Tensor {
  const gx = x.norm([1, 2], true);
  const nx = gx.div(gx.mean(-1, true).add(1e-6));
  return gamma.mul(x.mul(nx)).add(beta).add(x);
}

function grnWithParams(c: number): GRN {
  const g = new GRN(c);
  T.noGrad(() => {
    g.gamma.copy_(T.randn([1, 1, 1, c]));
    g.beta.copy_(T.randn([1, 1, 1, c]));
  });
  return g;
}

test('GRN (fused): output and gradients for x, gamma, beta equal the official formula to 1e-5', () => {
  T.manualSeed(5);
  const grn = grnWithParams(24);
  T.scope(() => {
    const x = T.randn([3, 7, 7, 24]).requiresGrad_();
    const w = T.randn([3, 7, 7, 24]); // a non-trivial upstream gradient
    const ours = grn.forward(x);
    const ref = officialGrn(x, grn.gamma, grn.beta);
    assert.ok(maxAbs(ours, ref) < 1e-5, `output differs by ${maxAbs(ours, ref)}`);
    const inputs = [x, grn.gamma, grn.beta];
    const g1 = T.grad(ours.mul(w).sum(), inputs);
    const g2 = T.grad(ref.mul(w).sum(), inputs);
    ['x', 'gamma', 'beta'].forEach((n, i) => {
      const scale = Math.max(1, T.scope(() => g2[i]!.abs().amax().item()));
      assert.ok(maxAbs(g1[i]!, g2[i]!) / scale < 1e-5, `grad ${n} differs by ${maxAbs(g1[i]!, g2[i]!)}`);
    });
  });
});

test('GRN (fused): gradient matches finite differences (float64), and an all-zero channel has a finite gradient', () => {
  T.manualSeed(6);
  const grn = grnWithParams(5);
  const x = T.randn([2, 3, 3, 5]).to('float64');
  const w = T.randn([2, 3, 3, 5]).to('float64');
  const err = gradcheck(([a]) => grn.forward(a!).mul(w).sum(), [x]);
  assert.ok(err < 1e-6, `finite-difference error ${err}`);
  T.scope(() => {
    const z = T.randn([2, 3, 3, 5]);
    T.noGrad(() => z.select(3, 2).zero_()); // channel 2 is zero everywhere in every sample
    z.requiresGrad_();
    const [g] = T.grad(grnWithParams(5).forward(z).sum(), [z]);
    assert.equal(T.scope(() => g!.isfinite().all().item()), 1);
  });
});

test('ConvNeXt block: NCHW-contiguous and channels-last inputs give the same output and gradients', () => {
  T.manualSeed(7);
  const block = new ConvNeXtBlock(16);
  T.noGrad(() => {
    block.grn.gamma.copy_(T.randn([1, 1, 1, 64]));
    block.grn.beta.copy_(T.randn([1, 1, 1, 64]));
  });
  T.scope(() => {
    const base = T.randn([4, 16, 14, 14]);
    const w = T.randn([4, 16, 14, 14]);
    const results = [base.contiguous(), base.contiguous('channels-last')].map((x) => {
      x.requiresGrad_();
      const out = block.forward(x);
      const grads = T.grad(out.mul(w).sum(), [x, block.dwconv.weight, block.pwconv1.weight, block.grn.gamma]);
      return [out, ...grads.map((g) => g!)];
    });
    results[0]!.forEach((t, i) => {
      const d = maxAbs(t, results[1]![i]!);
      const scale = Math.max(1, T.scope(() => t.abs().amax().item()));
      assert.ok(d / scale < 1e-5, `tensor ${i} differs by ${d}`);
    });
  });
});
