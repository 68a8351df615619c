import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { attentionMiningLoss, type MiningMask } from '../../src/losses/index.js';
import { blobMaps, f64, rng } from './maps.js';
import { gradcheck } from '../helpers/gradcheck.js';

// A hand-made linear classifier on 6×6 one-channel images, logits = W·vec(x) (C×36), so the loss has a plain-JS answer.
const H = 6;
const N = H * H;
const C = 3;
const B = 4;
const labels = [0, 2, 1, 2];
const r = rng(11);
const W = Array.from({ length: C * N }, () => r() * 2 - 1);
const X = Array.from({ length: B * N }, () => r());
const forward = (x: T.Tensor): T.Tensor => x.flatten(1).matmul(f64(W, [C, N]).transpose(0, 1));
const y = (): T.Tensor => T.tensor(labels, [B], { dtype: 'int64' });
const opts = (mask: MiningMask) => ({ threshold: 0.5, scale: 10, mask });

/** Plain JS: mean_i softmax(W·(x_i − sigmoid(ω(cam_i − σ))·x_i))[y_i]. */
function jsMining(cams: ArrayLike<number>, x: ArrayLike<number>): number {
  let sum = 0;
  labels.forEach((c, i) => {
    const erased = Array.from({ length: N }, (_, k) => {
      const t = 1 / (1 + Math.exp(-10 * (cams[i * N + k]! - 0.5)));
      return x[i * N + k]! - t * x[i * N + k]!;
    });
    const z = Array.from({ length: C }, (_, j) => erased.reduce((s, v, k) => s + v * W[j * N + k]!, 0));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    sum += e[c]! / e.reduce((a, b) => a + b, 0);
  });
  return sum / B;
}

test('attentionMiningLoss equals a plain-JS erase-and-classify on hand-made maps, for both mask modes', () => {
  T.scope(() => {
    const cams = blobMaps(B, H, H, 3);
    for (const mask of ['attached', 'detached'] as const) {
      const ours = attentionMiningLoss(forward, f64(X, [B, 1, H, H]), T.fromArray(cams, [B, H, H]), y(), opts(mask)).item();
      const exp = jsMining(cams, X);
      assert.ok(Math.abs(ours - exp) < 1e-12, `${mask}: ${ours} vs ${exp}`);
    }
  });
});

test('attentionMiningLoss gradients match finite differences (maps and image); a detached mask passes none to the maps', () => {
  T.scope(() => {
    const cams0 = f64(Array.from(blobMaps(B, H, H, 4)), [B, H, H]);
    const x0 = f64(X, [B, 1, H, H]);
    for (const [which, wrt] of [['maps', cams0], ['image', x0]] as const) {
      const f = ([t]: T.Tensor[]): T.Tensor => which === 'maps'
        ? attentionMiningLoss(forward, x0, t!, y(), opts('attached'))
        : attentionMiningLoss(forward, t!, cams0, y(), opts('attached'));
      const t = wrt.clone();
      const worst = gradcheck(f, [t]);
      assert.ok(worst < 1e-7, `${which}: worst finite-difference error ${worst}`);
      const [g] = T.grad(f([t]), [t]);
      assert.ok(g!.abs().amax().item() > 1e-4, `${which}: the gradient is not trivially zero`);
    }
    const ci = cams0.detach().requiresGrad_();
    const [g] = T.grad(attentionMiningLoss(forward, x0.detach().requiresGrad_(), ci, y(), opts('detached')), [ci], { allowUnused: true });
    assert.ok(g === null || g.abs().amax().item() === 0, 'detached: no gradient reaches the maps');
  });
});

test('attentionMiningLoss: the empty map is not a minimiser; a map over the pixels the classifier reads scores as low as erasing everything', () => {
  T.scope(() => {
    // The classifier reads only the top-left 2×2 patch: class 0 when it is bright.
    const Wp = Array.from({ length: C * N }, (_, k) => {
      const [j, p] = [Math.floor(k / N), k % N];
      return Math.floor(p / H) < 2 && p % H < 2 ? (j === 0 ? 4 : -2) : 0;
    });
    const fwd = (x: T.Tensor): T.Tensor => x.flatten(1).matmul(f64(Wp, [C, N]).transpose(0, 1));
    const x = f64(Array.from({ length: B * N }, () => 1), [B, 1, H, H]);
    const y0 = T.zeros([B], { dtype: 'int64' });
    const patch = Array.from({ length: B * N }, (_, k) => (Math.floor((k % N) / H) < 2 && (k % N) % H < 2 ? 1 : 0));
    const other = patch.map((v) => 1 - v);
    const loss = (m: number[]): number => attentionMiningLoss(fwd, x, f64(m, [B, H, H]), y0, opts('attached')).item();
    const empty = loss(Array(B * N).fill(0));
    const uniform = loss(Array(B * N).fill(1));
    const onPatch = loss(patch);
    const offPatch = loss(other);
    // Nothing erased: the classifier still sees its evidence and is sure of class 0.
    assert.ok(empty > 0.99, `empty map: ${empty}`);
    assert.ok(offPatch > 0.99, `a map off the evidence erases nothing that matters: ${offPatch}`);
    assert.ok(onPatch < 0.4 && Math.abs(onPatch - uniform) < 1e-9, `on the evidence ${onPatch} vs uniform ${uniform}`);
  });
});

test('attentionMiningLoss refuses maps that are not B×H×W at the input size', () => {
  T.scope(() => {
    assert.throws(() => attentionMiningLoss(forward, f64(X, [B, 1, H, H]), T.zeros([B, 3, 3]), y(), opts('attached')),
      /expected B×H×W CAMs at the input's size \[4, 6, 6\], got \[4,3,3\]/);
  });
});
