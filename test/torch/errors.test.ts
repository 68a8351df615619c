import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/torch/index.js';

test('a conv2d shape mismatch throws a JS Error carrying libtorch\'s message, and the process goes on', () => {
  const x = T.randn([1, 2, 5, 5]);
  const w = T.randn([4, 3, 3, 3]);
  assert.throws(() => T.conv2d(x, w), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /expected input\[1, 2, 5, 5\] to have 3 channels, but got 2 channels/);
    return true;
  });
  // The runtime is intact afterwards.
  const ok = T.conv2d(T.randn([1, 3, 5, 5]), w);
  assert.deepEqual(ok.shape, [1, 4, 3, 3]);
});

test('bad arguments and disposed tensors are JS errors, not crashes', () => {
  assert.throws(() => T.callOp('aten::no_such_op'), /no_such_op/);
  const t = T.ones([2]);
  t.dispose();
  assert.throws(() => t.add(1), /disposed/);
  assert.throws(() => T.ones([2]).reshape([3]), /shape '\[3\]' is invalid for input of size 2/);
  assert.throws(() => T.fromArray(new Float32Array(3), [2, 2]), /12 bytes given, shape needs 16/);
  assert.throws(() => T.grad(T.ones([2]).sum(), [T.ones([2])]), /does not require grad/);
});

test('scope frees what it created except its result; keep() opts out', () => {
  const before = T.liveTensors();
  const kept = T.scope(() => {
    const a = T.ones([3]);
    const b = a.mul(2);
    T.keep(T.zeros([1])).dispose();
    return { sum: b.sum(), list: [b] };
  });
  assert.equal(T.liveTensors(), before + 2);
  assert.equal(kept.sum.item(), 6);
  kept.sum.dispose();
  kept.list[0]!.dispose();
  assert.equal(T.liveTensors(), before);
  assert.throws(() => T.scope(() => { T.ones([1]); throw new Error('boom'); }), /boom/);
  assert.equal(T.liveTensors(), before);
});

test('typed-array round trip for every dtype, and seeded generators repeat', () => {
  for (const arr of [new Float32Array([1.5, -2]), new Float64Array([1e-300, 3]), new BigInt64Array([2n ** 40n, -1n]),
    new Int32Array([7, -7]), new Uint8Array([0, 255])]) {
    const t = T.fromArray(arr, [2]);
    assert.deepEqual(Array.from(t.data() as ArrayLike<number>), Array.from(arr as ArrayLike<number>));
  }
  T.manualSeed(42);
  const a = T.randn([5]).toArray();
  const state = T.getRngState();
  const b = T.randn([5]).toArray();
  T.manualSeed(42);
  assert.deepEqual(T.randn([5]).toArray(), a);
  T.setRngState(state);
  assert.deepEqual(T.randn([5]).toArray(), b);
  assert.notDeepEqual(a, b);
});
