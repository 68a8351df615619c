import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../../src/torch/index.js';
import { train } from '../../src/train/trainer.js';
import { type EpochRecord } from '../../src/train/session.js';
import type { StepRecord } from '../../src/train/run/step-log.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';
import { NonFiniteError } from '../../src/train/non-finite.js';
import { readCheckpoint } from '../../src/train/run/checkpoint.js';
import { runTrainCli } from '../helpers/cli.js';

const ARGS = ['--train-limit', '640', '--test-limit', '200', '--batch-size', '32', '--epochs', '2', '--lambda-proto', '1',
  '--lambda-batch', '0.5', '--checkpoint-every', '3', '--log-every', '4', '--seed', '5', '--quiet'];

function sameTensors(a: Map<string, T.Tensor>, b: Map<string, T.Tensor>, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: keys`);
  for (const [k, t] of a) {
    const u = b.get(k)!;
    assert.deepEqual(t.shape, u.shape, `${what}: ${k} shape`);
    assert.deepEqual(Buffer.from(t.data().buffer), Buffer.from(u.data().buffer), `${what}: ${k} differs`);
  }
}

const stripTiming = (h: EpochRecord[]): Omit<EpochRecord, 'seconds' | 'imagesPerSecond'>[] =>
  h.map(({ seconds: _s, imagesPerSecond: _i, ...rest }) => rest);


test('a run killed with SIGKILL at a random step and resumed ends bit-identical to an uninterrupted one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-resume-'));
  const whole = join(root, 'whole');
  const broken = join(root, 'broken');
  assert.equal(await runTrainCli([...ARGS, '--out', whole]), 0);
  // Killed a random few ms after a random one of the first six step-log lines (steps 4–24 of 40): mid-run on any machine.
  const lines = 1 + Math.floor(Math.random() * 6);
  const delay = Math.floor(Math.random() * 100);
  const code = await runTrainCli([...ARGS, '--out', broken], { lines, delayMs: delay }, broken);
  const killed = code === null;
  const before = readCheckpoint(join(broken, 'checkpoint.safetensors')).position;
  assert.ok(killed, `the run was killed mid-way (exit ${code})`);
  assert.ok(before.step > 0 && before.step < 40, `it was killed between steps 1 and 40 (checkpoint at step ${before.step})`);
  assert.equal(await runTrainCli([...ARGS, '--out', broken, '--resume']), 0, 'resume succeeded');
  const a = loadSafetensors(join(whole, 'checkpoint.safetensors'));
  const b = loadSafetensors(join(broken, 'checkpoint.safetensors'));
  sameTensors(a.tensors, b.tensors, `checkpoint (killed=${killed} ${delay} ms after step-log line ${lines}, at step ${before.step})`);
  sameTensors(loadSafetensors(join(whole, 'model.safetensors')).tensors, loadSafetensors(join(broken, 'model.safetensors')).tensors, 'final weights');
  const metrics = (d: string): EpochRecord[] => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EpochRecord);
  assert.deepEqual(stripTiming(metrics(broken)), stripTiming(metrics(whole)));
  assert.equal(metrics(whole).length, 2);
  // steps.jsonl too: windows of 4 steps straddle the checkpoints (every 3), so the open window travels in the checkpoint.
  const steps = (d: string): StepRecord[] => readFileSync(join(d, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
  const stripRate = (r: StepRecord[]): Omit<StepRecord, 'imagesPerSecond'>[] => r.map(({ imagesPerSecond: _i, ...rest }) => rest);
  assert.deepEqual(stripRate(steps(broken)), stripRate(steps(whole)));
  assert.deepEqual(steps(whole).map((r) => r.step), [4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);
  // 20 steps an epoch: the first five windows are epoch 1, so their mean is the epoch's mean.
  const first = steps(whole).slice(0, 5);
  for (const k of ['ce', 'proto', 'batch', 'loss', 'trainAccuracy'] as const) {
    const mean = first.reduce((a, r) => a + r[k]!, 0) / 5;
    assert.ok(Math.abs(mean - metrics(whole)[0]![k]!) < 1e-12, `${k}: step windows ${mean} vs epoch ${metrics(whole)[0]![k]}`);
  }
  // Nothing half-written is left behind: only the run's own files.
  assert.deepEqual(readdirSync(broken).sort(), ['checkpoint.safetensors', 'config.json', 'metrics.jsonl', 'model.safetensors', 'probes.bin', 'probes.json', 'steps.jsonl', 'summary.json']);
});

test('an existing run directory needs --resume or --overwrite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchcam-exists-'));
  const opts = { trainLimit: 100, testLimit: 50, batchSize: 50 };
  await train(opts, { outDir: dir, quiet: true });
  await assert.rejects(train(opts, { outDir: dir, quiet: true }), /already holds a run; pass --resume to continue it or --overwrite/);
  await train(opts, { outDir: dir, quiet: true, overwrite: true });
});

test('a NaN/Inf loss or gradient stops the run naming step and term, and keeps the last good checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchcam-nan-'));
  const cfg = { trainLimit: 640, testLimit: 50, batchSize: 32, optimizer: 'sgd', lr: 1e5, warmupSteps: 0, checkpointEvery: 1, lambdaBatch: 1 };
  let err: unknown;
  try {
    await train(cfg, { outDir: dir, quiet: true });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof NonFiniteError, `expected NonFiniteError, got ${String(err)}`);
  assert.match(err.message, /training diverged at step \d+: (cross-entropy|prototype loss|batch-cam loss|total loss|gradient norm) is (NaN|Infinity|-Infinity)/);
  const ck = readCheckpoint(join(dir, 'checkpoint.safetensors'));
  assert.ok(ck.position.step <= err.step, 'the checkpoint predates the bad step');
  for (const [k, t] of ck.tensors) {
    if (k.startsWith('model.')) assert.ok(T.scope(() => t.float().isfinite().all().item()) === 1, `${k} is finite`);
  }
});
