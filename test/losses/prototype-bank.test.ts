import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';
import { PrototypeBank } from '../../src/losses/index.js';
import { maxAbsDiff, rng } from './maps.js';

const HW = 4; // 2×2 maps keep the hand computation readable
const r = rng(42);
const map = (): number[] => Array.from({ length: HW }, () => Math.fround(r()));
const f32 = (xs: number[]): number[] => xs.map(Math.fround);
const mean = (...ms: number[][]): number[] => ms[0]!.map((_, k) => ms.reduce((s, m) => s + m[k]!, 0) / ms.length);
const ema = (p: number[], m: number[], mom: number): number[] => p.map((v, k) => mom * v + (1 - mom) * m[k]!);
const zero = [0, 0, 0, 0];

function batch(maps: number[][], labels: number[], correct: boolean[]): [T.Tensor, T.Tensor, T.Tensor] {
  return [
    T.tensor(maps.flat(), [maps.length, 2, 2]),
    T.tensor(labels, [labels.length], { dtype: 'int64' }),
    T.fromArray(Uint8Array.from(correct, Number), [correct.length]).to('bool'),
  ];
}

function protos(bank: PrototypeBank): number[][] {
  const v = bank.prototypes.toArray();
  return Array.from({ length: bank.numClasses }, (_, c) => v.slice(c * HW, (c + 1) * HW));
}

function assertBank(bank: PrototypeBank, expected: number[][], init: boolean[], what: string): void {
  const got = protos(bank);
  expected.forEach((e, c) => assert.ok(maxAbsDiff(got[c]!, e) < 1e-6, `${what}, class ${c}: ${got[c]} vs ${e}`));
  assert.deepEqual(bank.initialisedClasses(), init, what);
}

// Three batches: class 0 twice with a wrong sample, class 2 first seen in batch 2, class 1 with only wrong samples
// in batch 2.
const s = [map(), map(), map(), map()];
const t = [map(), map(), map()];
const u = [map(), map(), map(), map()];
const B1 = { maps: s, labels: [0, 0, 1, 0], correct: [true, true, true, false] };
const B2 = { maps: t, labels: [2, 0, 1], correct: [true, true, false] };
const B3 = { maps: u, labels: [1, 1, 0, 2], correct: [true, true, false, false] };

test('correctOnly bank (momentum 0.9) follows the EMA rule over three updates, computed by hand', () => {
  T.scope(() => {
    const bank = new PrototypeBank({ numClasses: 3, height: 2, width: 2 });
    assert.equal(bank.momentum, 0.9);
    assert.equal(bank.correctOnly, true);
    assert.equal(bank.source, 'cam');
    assertBank(bank, [zero, zero, zero], [false, false, false], 'fresh');

    bank.update(...batch(B1.maps, B1.labels, B1.correct));
    // Class 0: first batch initialises with the mean of its CORRECT samples (s[3] was wrong); class 1 likewise.
    let p0 = mean(s[0]!, s[1]!);
    let p1 = s[2]!;
    assertBank(bank, [p0, p1, zero], [true, true, false], 'after update 1');

    bank.update(...batch(B2.maps, B2.labels, B2.correct));
    const p2 = t[0]!; // first sight of class 2: P = m, not an EMA with the zero it held
    p0 = ema(p0, t[1]!, 0.9); // already initialised: EMA
    // Class 1's only sample was wrong: untouched.
    assertBank(bank, [p0, p1, p2], [true, true, true], 'after update 2');

    bank.update(...batch(B3.maps, B3.labels, B3.correct));
    p1 = ema(p1, mean(u[0]!, u[1]!), 0.9);
    assertBank(bank, [p0, p1, p2], [true, true, true], 'after update 3'); // classes 0 and 2: wrong only, untouched
  });
});

test('with correctOnly off every sample counts, and a custom momentum is used', () => {
  T.scope(() => {
    const bank = new PrototypeBank({ numClasses: 4, height: 2, width: 2, correctOnly: false, momentum: 0.6 });
    bank.update(...batch(B1.maps, B1.labels, B1.correct));
    let p0 = mean(s[0]!, s[1]!, s[3]!);
    let p1 = s[2]!;
    assertBank(bank, [p0, p1, zero, zero], [true, true, false, false], 'after update 1');
    // No correct mask is needed when correctOnly is off.
    const [c2, y2] = batch(B2.maps, B2.labels, B2.correct);
    bank.update(c2, y2);
    const p2 = t[0]!;
    p0 = ema(p0, t[1]!, 0.6);
    p1 = ema(p1, t[2]!, 0.6);
    assertBank(bank, [p0, p1, p2, zero], [true, true, true, false], 'after update 2');
    bank.update(...batch(B3.maps, B3.labels, B3.correct));
    p1 = ema(p1, mean(u[0]!, u[1]!), 0.6);
    p0 = ema(p0, u[2]!, 0.6);
    assertBank(bank, [p0, p1, ema(p2, u[3]!, 0.6), zero], [true, true, true, false], 'after update 3');
    // Class 3 was never seen: skipped by the mask, still zero.
    const y = T.tensor([3, 0, 3, 2], [4], { dtype: 'int64' });
    assert.deepEqual(bank.initialisedMask(y).toArray(), [0, 1, 0, 1]);
    const pf = bank.prototypesFor(y);
    assert.deepEqual(pf.shape, [4, 2, 2]);
    assert.ok(maxAbsDiff(pf.toArray(), f32([...zero, ...p0, ...zero, ...ema(p2, u[3]!, 0.6)])) < 1e-6);
  });
});

test('the bank is outside autograd and holds copies, not views of the CAMs', () => {
  T.scope(() => {
    const bank = new PrototypeBank({ numClasses: 2, height: 2, width: 2, correctOnly: false });
    const leaf = T.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], [2, 2, 2]).requiresGrad_();
    const cams = leaf.mul(1); // a non-leaf in the graph, like real CAMs
    bank.update(cams, T.tensor([1, 1], [2], { dtype: 'int64' }));
    assert.equal(bank.prototypes.requiresGrad, false);
    assert.equal(bank.prototypesFor(T.tensor([1], [1], { dtype: 'int64' })).requiresGrad, false);
    T.noGrad(() => leaf.mul_(10));
    assert.ok(maxAbsDiff(protos(bank)[1]!, [0.3, 0.4, 0.5, 0.6]) < 1e-6);
  });
});

test('a correctOnly bank refuses an update without the correct mask; bad shapes are errors', () => {
  T.scope(() => {
    const bank = new PrototypeBank({ numClasses: 2, height: 2, width: 2 });
    assert.throws(() => bank.update(T.zeros([1, 2, 2]), T.tensor([0], [1], { dtype: 'int64' })), /correct/);
    assert.throws(() => bank.update(T.zeros([1, 3, 3]), T.tensor([0], [1], { dtype: 'int64' })), /B×2×2/);
    assert.throws(() => new PrototypeBank({ numClasses: 2, height: 2, width: 2, momentum: 1.5 }), /momentum/);
  });
});

test('fromImages: each present class is its mean image scaled by its max, computed once', () => {
  T.scope(() => {
    // 5 images of 2×2 (uint8, as raw pixels come), classes 0, 0, 2, 0, 2; class 1 absent.
    const px = [[0, 10, 20, 40], [20, 30, 0, 0], [255, 0, 0, 5], [10, 20, 40, 80], [55, 100, 0, 5]];
    const labels = [0, 0, 2, 0, 2];
    const images = T.fromArray(Uint8Array.from(px.flat()), [5, 1, 2, 2]);
    const bank = PrototypeBank.fromImages(images, T.tensor(labels, [5], { dtype: 'int64' }), 3);
    const scale = (m: number[]): number[] => m.map((v) => v / Math.max(...m));
    const p0 = scale(mean(px[0]!, px[1]!, px[3]!));
    const p2 = scale(mean(px[2]!, px[4]!));
    assert.equal(bank.source, 'image');
    assertBank(bank, [p0, zero, p2], [true, false, true], 'fromImages');
    // An image bank is fixed: updates leave it as it is.
    bank.update(T.ones([1, 2, 2]), T.tensor([0], [1], { dtype: 'int64' }), T.ones([1], { dtype: 'bool' }));
    assertBank(bank, [p0, zero, p2], [true, false, true], 'after update');
    assert.throws(() => PrototypeBank.fromImages(T.tensor([-0.4, 1, 2, 3], [1, 1, 2, 2]),
      T.tensor([0], [1], { dtype: 'int64' }), 3), /negative/);
  });
});

test('fromImages image-median: each present class is its per-pixel lower median scaled by its max', () => {
  T.scope(() => {
    // Class 0: three images; class 2: two (an even count takes the lower middle value, as torch.median does).
    // Pixel 3 of class 0 is bright in one image of three (a minority feature, like a randomly placed patch): the
    // mean keeps a third of it, the median drops it.
    const px = [[0, 10, 20, 0], [20, 30, 0, 0], [255, 0, 0, 5], [10, 20, 40, 240], [55, 100, 0, 5]];
    const labels = [0, 0, 2, 0, 2];
    const images = T.fromArray(Uint8Array.from(px.flat()), [5, 1, 2, 2]);
    const bank = PrototypeBank.fromImages(images, T.tensor(labels, [5], { dtype: 'int64' }), 3, { source: 'image-median' });
    const lowerMedian = (...rows: number[][]): number[] => rows[0]!.map((_, j) => {
      const v = rows.map((r) => r[j]!).sort((a, b) => a - b);
      return v[Math.floor((v.length - 1) / 2)]!;
    });
    const scale = (m: number[]): number[] => m.map((v) => v / Math.max(...m));
    const p0 = scale(lowerMedian(px[0]!, px[1]!, px[3]!));
    const p2 = scale(lowerMedian(px[2]!, px[4]!));
    assert.deepEqual(lowerMedian(px[0]!, px[1]!, px[3]!), [10, 20, 20, 0]);
    assert.equal(bank.source, 'image-median');
    assertBank(bank, [p0, zero, p2], [true, false, true], 'fromImages median');
    bank.update(T.ones([1, 2, 2]), T.tensor([0], [1], { dtype: 'int64' }), T.ones([1], { dtype: 'bool' }));
    assertBank(bank, [p0, zero, p2], [true, false, true], 'after update');
  });
});

test('stateDict holds prototypes (C×H×W float32) and initialised (C uint8) and round-trips', () => {
  T.scope(() => {
    const bank = new PrototypeBank({ numClasses: 3, height: 2, width: 2 });
    bank.update(...batch(B1.maps, B1.labels, B1.correct));
    const sd = bank.stateDict();
    assert.deepEqual([...sd.keys()], ['prototypes', 'initialized']);
    assert.equal(sd.get('prototypes')!.dtype, 'float32');
    assert.deepEqual(sd.get('prototypes')!.shape, [3, 2, 2]);
    assert.equal(sd.get('initialized')!.dtype, 'uint8');
    assert.deepEqual(sd.get('initialized')!.toArray(), [1, 1, 0]);

    const copy = new PrototypeBank({ numClasses: 3, height: 2, width: 2 });
    copy.loadStateDict(new Map([...sd].map(([k, v]) => [k, v.clone()])));
    assert.deepEqual(copy.prototypes.toArray(), bank.prototypes.toArray());
    assert.deepEqual(copy.initialisedClasses(), [true, true, false]);
    // The loaded bank continues the EMA exactly like the original.
    for (const b of [bank, copy]) b.update(...batch(B2.maps, B2.labels, B2.correct));
    assert.deepEqual(copy.prototypes.toArray(), bank.prototypes.toArray());

    assert.throws(() => copy.loadStateDict(new Map([['prototypes', T.zeros([3, 2, 2])]])), /missing key 'initialized'/);
    assert.throws(() => copy.loadStateDict(new Map([['prototypes', T.zeros([3, 3, 3])], ['initialized', T.zeros([3])]])),
      /expected shape \[3,2,2\]/);
  });
});
