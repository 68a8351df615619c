import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/torch/index.js';
import { freePort } from '../../src/cli/launcher.js';
import { DataParallel, distEnv, rankDevice } from '../../src/train/data-parallel.js';
import { UsageError } from '../../src/errors.js';
import type { PlainBatch } from '../../src/data/batching/data-loader.js';

const TORCH = fileURLToPath(new URL('../../src/torch/index.js', import.meta.url));

/** Each rank's collectives on its own values; printed as JSON for the parent to check against plain JS sums. */
const WORKER = `
const T = await import(${JSON.stringify(TORCH)});
const rank = Number(process.env.RANK), world = Number(process.env.WORLD_SIZE);
const pg = T.ProcessGroup.create({ host: '127.0.0.1', port: Number(process.env.MASTER_PORT), rank, worldSize: world, timeoutMs: 20000 });
const a = T.tensor([rank + 1, 10 * (rank + 1), 0.5]);
const a2 = T.tensor([rank, 1, 2, 3], [2, 2]);
pg.allReduce([a, a2]); // one coalesced collective: one dtype, any shapes
const b = T.tensor([rank], [1], { dtype: 'int64' });
pg.allReduce([b]);
const c = T.tensor([rank * 5 + 2]);
pg.broadcast([c], 0);
const g = pg.allGather(T.tensor([rank * rank, 0 - rank]));
// d/dx of Σ_r (r+1)·‖Σ_ranks x‖²: the gradient is summed back over the ranks.
const x = T.tensor([rank + 1, 2]).requiresGrad_();
const s = pg.allReduceSum(x);
T.backward(s.mul(s).sum().mul(rank + 1));
pg.barrier();
console.log(JSON.stringify({ a: a.toArray(), a2: a2.toArray(), b: b.toArray(), c: c.toArray(), g: g.map((t) => t.toArray()), s: s.toArray(), dx: x.grad.toArray() }));
pg.destroy();
`;

function worker(rank: number, world: number, port: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', WORKER], {
      env: { ...process.env, RANK: String(rank), WORLD_SIZE: String(world), MASTER_PORT: String(port), OMP_NUM_THREADS: '1', BATCHCAM_THREADS: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

test('c10d over Gloo, 3 processes: all-reduce (coalesced), broadcast, all-gather and the differentiable all-reduce against plain sums', async () => {
  const port = await freePort();
  const world = 3;
  const runs = await Promise.all([0, 1, 2].map((r) => worker(r, world, port)));
  const ranks = [0, 1, 2];
  const sum = (f: (r: number) => number): number => ranks.reduce((acc, r) => acc + f(r), 0);
  for (const [r, run] of runs.entries()) {
    assert.equal(run.code, 0, `rank ${r}: ${run.err}`);
    const v = JSON.parse(run.out) as { a: number[]; a2: number[]; b: number[]; c: number[]; g: number[][]; s: number[]; dx: number[] };
    assert.deepEqual(v.a, [sum((q) => q + 1), sum((q) => 10 * (q + 1)), 1.5]);
    assert.deepEqual(v.a2, [sum((q) => q), 3, 6, 9]);
    assert.deepEqual(v.b, [sum((q) => q)]);
    assert.deepEqual(v.c, [2], 'rank 0 broadcast its value');
    assert.deepEqual(v.g, ranks.map((q) => [q * q, q === 0 ? 0 : -q]));
    const s = [sum((q) => q + 1), 2 * world];
    assert.deepEqual(v.s, s);
    // L = Σ_q (q+1)·‖s‖², s = Σ_q x_q: dL/dx_r = 2·s·Σ_q (q+1), the same on every rank.
    assert.deepEqual(v.dx, s.map((e) => 2 * e * sum((q) => q + 1)));
  }
});

test('a rendezvous that no peer joins fails within its timeout, naming rank and address; bad launcher variables are usage errors', async () => {
  const port = await freePort();
  const t0 = Date.now();
  assert.throws(() => T.ProcessGroup.create({ host: '127.0.0.1', port, rank: 1, worldSize: 2, timeoutMs: 1500 }),
    (e: Error) => e instanceof T.ProcessGroupError && /rank 1 of 2: joining the process group at 127\.0\.0\.1:\d+ failed/.test(e.message));
  assert.ok(Date.now() - t0 < 20_000, `gave up after ${Date.now() - t0} ms`);
  assert.equal(distEnv({}), null);
  assert.equal(distEnv({ WORLD_SIZE: '1' }), null);
  assert.deepEqual(distEnv({ WORLD_SIZE: '4', RANK: '2', MASTER_ADDR: 'h', MASTER_PORT: '29500' }),
    { rank: 2, worldSize: 4, localRank: 2, masterAddr: 'h', masterPort: 29500 });
  assert.throws(() => distEnv({ WORLD_SIZE: '2', RANK: '2', MASTER_ADDR: 'h', MASTER_PORT: '1' }), /RANK=2: expected an integer in \[0, 1\]/);
  assert.throws(() => distEnv({ WORLD_SIZE: '2', RANK: '0', MASTER_PORT: '1' }), /MASTER_ADDR is unset/);
  assert.throws(() => T.ProcessGroup.create({ host: '127.0.0.1', port, rank: 0, worldSize: 1, backend: 'nccl' }), /no NCCL process group/);
});

test('NCCL is refused for CPU training, whatever the build; `cuda` means each rank its own GPU (cuda:LOCAL_RANK)', () => {
  const env = { rank: 3, worldSize: 4, localRank: 1, masterAddr: '127.0.0.1', masterPort: 1 };
  assert.throws(() => DataParallel.join(env, 'nccl', 1000, 'cpu'), (e: Error) => e instanceof UsageError && /--dist-backend nccl reduces CUDA tensors only; train with --device cuda/.test(e.message));
  // This CPU-only libtorch has no NCCL: with a CUDA device the group's own clear error comes instead.
  if (!T.distBackends().nccl) assert.throws(() => DataParallel.join(env, 'nccl', 1000, 'cuda'), /no NCCL process group/);
  assert.equal(rankDevice('cuda', env), 'cuda:1');
  assert.equal(rankDevice('cuda:0', env), 'cuda:0');
  assert.equal(rankDevice('cpu', env), 'cpu');
  assert.equal(rankDevice('cuda', null), 'cuda');
});

test('DataParallel.shard: the shards of a batch interleave (DistributedSampler) and together are the batch', () => {
  const n = 7;
  const batch: PlainBatch = {
    x: Float32Array.from({ length: n * 4 }, (_, i) => i), y: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3)),
    indices: Int32Array.from({ length: n }, (_, i) => 100 + i), size: n, shape: [n, 1, 2, 2], epoch: 0, batchIndex: 0,
  };
  const seen: number[] = [];
  for (const rank of [0, 1, 2]) {
    const dp = new DataParallel(null as unknown as T.ProcessGroup, { rank, worldSize: 3, localRank: rank, masterAddr: 'h', masterPort: 1 });
    const s = dp.shard(batch);
    const expect = [0, 1, 2, 3, 4, 5, 6].filter((i) => i % 3 === rank);
    assert.deepEqual([...s.indices], expect.map((i) => 100 + i));
    assert.deepEqual([...s.y], expect.map((i) => BigInt(i % 3)));
    assert.deepEqual([...s.x], expect.flatMap((i) => [4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3]));
    assert.deepEqual(s.shape, [expect.length, 1, 2, 2]);
    seen.push(...s.indices);
  }
  assert.deepEqual(seen.sort(), [...batch.indices]);
});
