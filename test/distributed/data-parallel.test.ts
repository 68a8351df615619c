import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../../src/torch/index.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';
import { readCheckpoint } from '../../src/train/run/checkpoint.js';
import type { StepRecord } from '../../src/train/run/step-log.js';
import { freePort } from '../../src/cli/launcher.js';
import { cliPath } from '../helpers/cli.js';
import { once } from '../helpers/once.js';
import { writeColourFashionFolder } from '../data/user-data.js';
import { probeSteps, readProbeIndex, readProbeRecord, type ProbeIndex } from '../../src/train/run/probe-log.js';

// Data-parallel training on c10d/Gloo over 127.0.0.1, 2 processes × 1 thread, against one process on the whole
// batch: the independent computation is the plain single-process trainer (no process group, no shards).

const ENV: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1', BATCHCAM_THREADS: '1' };
for (const k of ['RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT']) delete ENV[k];

/**
 * L2 distance and SGD. With SSIM, the runs agree to ~1e-7 for about ten steps and then drift apart at a tenfold per
 * step, in 2 × 32 against 1 × 64 as between two 1 × 64 runs whose sums are merely ordered differently: SSIM of
 * max-normalised CAMs is that sensitive to rounding. L1/L2 keep the ~1e-7 of rounding over all 20 steps. And
 * AdamW's first steps move every weight by ±lr whatever its gradient's size (m̂/√v̂ = sign g), so a gradient that
 * is float noise in both runs (summed in another order over 2 × 32 than over 64) would become an lr-sized
 * difference; SGD keeps a rounding difference a rounding difference, which is what the comparison is about.
 */
const SGD = ['--optimizer', 'sgd', '--lr', '0.02', '--momentum', '0.9', '--warmup-steps', '0'];

/** SimpleCNN + Prototype Loss + Batch-CAM Loss, global batch 64: 1280 images = 20 steps (one epoch). */
const simple = (trainLimit: number): string[] => ['--train-limit', String(trainLimit), '--test-limit', '100', '--batch-size', '64', '--lambda-proto', '1', '--lambda-batch', '1',
  '--cam-warmup-steps', '5', '--distance', 'l2', '--log-every', '1', '--seed', '3', '--threads', '1', '--quiet', ...SGD];
const SIMPLE = simple(1280);

interface Run { code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }

/** Runs `batchcam train ARGS` with extra env (in `cwd`); `onSpawn` gets the child's pid and its stderr so far (to kill it). */
function cli(args: string[], env: Record<string, string> = {}, onSpawn?: (pid: number, stderr: () => string) => void, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [cliPath(), 'train', ...args], { env: { ...ENV, ...env }, stdio: ['ignore', 'ignore', 'pipe'], cwd });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    onSpawn?.(child.pid!, () => stderr);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr, ms: Date.now() - t0 }));
  });
}

const steps = (d: string): StepRecord[] => readFileSync(join(d, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StepRecord);

/** Largest |a − b| over every float tensor both files hold (same keys and shapes required). */
function maxDiff(a: Map<string, T.Tensor>, b: Map<string, T.Tensor>, prefix: string): number {
  const keys = [...a.keys()].filter((k) => k.startsWith(prefix)).sort();
  assert.ok(keys.length > 0, `no ${prefix}* tensors`);
  assert.deepEqual(keys, [...b.keys()].filter((k) => k.startsWith(prefix)).sort());
  let worst = 0;
  for (const k of keys) {
    const x = a.get(k)!;
    const y = b.get(k)!;
    assert.deepEqual(x.shape, y.shape, k);
    worst = Math.max(worst, T.scope(() => x.to('float64').sub(y.to('float64')).abs().amax().item()));
  }
  return worst;
}

function compareRuns(single: string, parallel: string, tol: number): { weights: number; bank: number; losses: number } {
  const a = loadSafetensors(join(single, 'checkpoint.safetensors')).tensors;
  const b = loadSafetensors(join(parallel, 'checkpoint.safetensors')).tensors;
  const weights = maxDiff(a, b, 'model.');
  const bank = a.has('bank.prototypes') ? maxDiff(a, b, 'bank.') : 0;
  const sa = steps(single);
  const sb = steps(parallel);
  assert.deepEqual(sb.map((r) => r.step), sa.map((r) => r.step));
  let losses = 0;
  for (let i = 0; i < sa.length; i++) {
    for (const k of ['ce', 'proto', 'batch', 'loss', 'trainAccuracy'] as const) {
      const x = sa[i]![k];
      const y = sb[i]![k];
      assert.equal(x === null, y === null, `${k} at step ${sa[i]!.step}`);
      if (x !== null && y !== null) losses = Math.max(losses, Math.abs(x - y));
    }
  }
  const figures = { weights, bank, losses };
  assert.ok(weights < tol && bank < tol && losses < tol, `2×32 vs 1×64 differ by ${JSON.stringify(figures)} (tolerance ${tol})`);
  return figures;
}

const root = mkdtempSync(join(tmpdir(), 'batchcam-dp-'));
const singleDir = join(root, 'single');
const parallelDir = join(root, 'parallel');
/** The 2-process run's working directory and TMPDIR: empty folders outside the run, where a stray write would show. */
const parallelCwd = mkdtempSync(join(tmpdir(), 'batchcam-dp-cwd-'));
const parallelTmp = mkdtempSync(join(tmpdir(), 'batchcam-dp-tmp-'));
after(() => {
  for (const d of [parallelCwd, parallelTmp]) rmSync(d, { recursive: true, force: true });
});

/** SIMPLE in one process (1 × 64), into singleDir. */
const singleRun = once(() => cli([...SIMPLE, '--out', singleDir]));
/** SIMPLE in two processes (2 × 32), into parallelDir. */
const parallelRun = once(() => cli([...SIMPLE, '--nproc-per-node', '2', '--out', parallelDir], { TMPDIR: parallelTmp }, undefined, parallelCwd));

test('SimpleCNN, CE + Prototype + Batch-CAM Loss, 20 steps: 2 processes × 32 equal 1 process × 64 (weights, bank, losses to 1e-5)', async () => {
  const one = await singleRun();
  assert.equal(one.code, 0, one.stderr);
  const two = await parallelRun();
  assert.equal(two.code, 0, two.stderr);
  assert.equal(steps(parallelDir).length, 20);
  // The regularisers were on for 15 of the 20 steps (5 warm-up steps), and the bank was filled.
  assert.equal(steps(parallelDir).filter((r) => r.batch !== null).length, 15);
  const f = compareRuns(singleDir, parallelDir, 1e-5);
  console.log(`simplecnn 2×32 vs 1×64: max |Δ| weights ${f.weights.toExponential(2)}, bank ${f.bank.toExponential(2)}, losses ${f.losses.toExponential(2)}`);
  // The comparison can fail: class means from each rank's own 32 (--batch-cam-scope rank) give another training.
  const perRank = await cli([...SIMPLE, '--batch-cam-scope', 'rank', '--nproc-per-node', '2', '--out', join(root, 'per-rank')]);
  assert.equal(perRank.code, 0, perRank.stderr);
  const a = loadSafetensors(join(singleDir, 'checkpoint.safetensors')).tensors;
  const c = loadSafetensors(join(root, 'per-rank', 'checkpoint.safetensors')).tensors;
  const control = maxDiff(a, c, 'model.');
  console.log(`simplecnn --batch-cam-scope rank vs 1×64: max |Δ| weights ${control.toExponential(2)}`);
  assert.ok(control > 100 * 1e-5, `per-rank class means differ from whole-batch ones (${control})`);
  // The bank took part: prototypes of (correctly classified) classes were initialised, identically (compared above).
  const init = readCheckpoint(join(parallelDir, 'checkpoint.safetensors')).tensors.get('bank.initialized')!;
  assert.ok(init.toArray().filter((v) => v === 1).length >= 3, `initialised classes: ${init.toArray()}`);
});

test('rank 0 alone wrote the 2-process run: exactly the files of a 1-process run, one step log, nothing outside the run directory', async () => {
  assert.equal((await singleRun()).code, 0);
  const two = await parallelRun();
  assert.equal(two.code, 0, two.stderr);
  const files = ['checkpoint.safetensors', 'config.json', 'metrics.jsonl', 'model.safetensors', 'probes.bin', 'probes.json', 'steps.jsonl', 'summary.json'];
  assert.deepEqual(readdirSync(parallelDir).sort(), files, 'no temporary, lock or per-rank files');
  assert.deepEqual(readdirSync(singleDir).sort(), files, 'the 1-process run writes the same set');
  // One writer: each logged step once (a second writer would append its own 20 lines).
  assert.deepEqual(steps(parallelDir).map((r) => r.step), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.equal(readFileSync(join(parallelDir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 1, 'one epoch record');
  // Nothing beside the run, in the working directory or in TMPDIR of the two processes.
  assert.deepEqual(readdirSync(parallelCwd), [], 'working directory');
  assert.deepEqual(readdirSync(parallelTmp), [], 'TMPDIR');
  const made = ['single', 'parallel', 'per-rank', 'r1', 'r2', 'r3', 'killed', 'resumed']; // the runs this file's tests start
  assert.ok(readdirSync(root).every((d) => made.includes(d)), `beside the run: ${readdirSync(root).join(', ')}`);
});

test('the 2-process run records the CAM timeline of the 1-process run: the same probe set and steps, equal predictions, maps within one uint8 level', async () => {
  assert.equal((await singleRun()).code, 0);
  assert.equal((await parallelRun()).code, 0);
  const index = (dir: string): ProbeIndex => readProbeIndex(join(dir, 'probes.json'))!;
  const [a, b] = [index(singleDir), index(parallelDir)];
  assert.deepEqual(b.indices, a.indices, 'probe set');
  const steps = probeSteps(join(parallelDir, 'probes.bin'), b);
  assert.deepEqual(steps, probeSteps(join(singleDir, 'probes.bin'), a));
  assert.deepEqual(steps, [0, 20], 'the first step and the last (20 steps < --probe-every 50)');
  for (let k = 0; k < steps.length; k++) {
    const [ra, rb] = [readProbeRecord(join(singleDir, 'probes.bin'), a, k)!, readProbeRecord(join(parallelDir, 'probes.bin'), b, k)!];
    assert.deepEqual(Array.from(rb.pred), Array.from(ra.pred), `predictions at step ${steps[k]}`);
    const diff = ra.cams.reduce((m, v, i) => Math.max(m, Math.abs(v - rb.cams[i]!)), 0);
    assert.ok(diff <= 1, `maps at step ${steps[k]} differ by ${diff} levels`);
  }
});

test('ResNet18 with --sync-bn, CE + Prototype + Batch-CAM Loss, 2 steps: 2 × 32 equals 1 × 64 (to 1e-4), BatchNorm running statistics included', async () => {
  // 2 steps (the second with both regularisers and the bank) at lr 0.002: ResNet18's early-layer gradients carry ~1e-3 relative rounding noise at initialisation
  // (BatchNorm's backward cancels most of the incoming gradient; the native kernel and the sharded formula round
  // differently even in one process), and the correct-only bank update would turn a near-tie prediction into a
  // discrete difference, so every prediction updates the bank here. Measured at lr 0.005: weights 5e-5, losses 6e-5,
  // but the max-normalised CAMs in the bank 1.3e-4 after 2 steps, and the difference grows ~70× a step after that.
  const args = ['--model', 'resnet18', '--train-limit', '128', '--test-limit', '20', '--batch-size', '64', '--lambda-proto', '1',
    '--lambda-batch', '1', '--distance', 'l2', '--no-prototype-correct-only', '--log-every', '1', '--seed', '1', '--threads', '1',
    '--quiet', '--sync-bn', '--optimizer', 'sgd', '--lr', '0.002', '--momentum', '0.9', '--warmup-steps', '0'];
  const one = await cli([...args, '--out', join(root, 'r1')]);
  assert.equal(one.code, 0, one.stderr);
  const two = await cli([...args, '--nproc-per-node', '2', '--out', join(root, 'r2')]);
  assert.equal(two.code, 0, two.stderr);
  const f = compareRuns(join(root, 'r1'), join(root, 'r2'), 1e-4);
  console.log(`resnet18 --sync-bn 2×32 vs 1×64: max |Δ| weights+buffers ${f.weights.toExponential(2)}, bank ${f.bank.toExponential(2)}, losses ${f.losses.toExponential(2)}`);
  // Without --sync-bn each rank normalises by its own 32: a different step, so the comparison can fail.
  const own = await cli([...args.filter((a) => a !== '--sync-bn'), '--nproc-per-node', '2', '--out', join(root, 'r3')]);
  assert.equal(own.code, 0, own.stderr);
  const a = loadSafetensors(join(root, 'r1', 'checkpoint.safetensors')).tensors;
  const c = loadSafetensors(join(root, 'r3', 'checkpoint.safetensors')).tensors;
  const control = maxDiff(a, c, 'model.');
  console.log(`resnet18 without --sync-bn vs 1×64: max |Δ| weights ${control.toExponential(2)}`);
  assert.ok(control > 10 * 1e-4, `per-rank BatchNorm differs from whole-batch BatchNorm (${control})`);
});

test('ImageNet-layout ResNet-18 at 48 px with --sync-bn, augmentation and both regularisers, 2 steps: 2 × 32 equals 1 × 64 (to 1e-4)', async () => {
  // Guards the layout choice in ResNet.stem: with channels-last training the two runs differed by ~5e-3 after 2 steps
  // (oneDNN's channels-last weight gradients round differently with the batch size); NCHW training keeps ~3e-5.
  const data = join(root, 'colour-48');
  await writeColourFashionFolder(data, 128, 20);
  const args = ['--model', 'resnet18-imagenet', '--dataset', `folder:${data}`, '--image-size', '48', '--augment', '--hflip', '0.5',
    '--batch-size', '64', '--lambda-proto', '1', '--lambda-batch', '1', '--distance', 'l2', '--no-prototype-correct-only',
    '--log-every', '1', '--seed', '1', '--threads', '1', '--quiet', '--sync-bn', '--optimizer', 'sgd', '--lr', '0.002',
    '--momentum', '0.9', '--warmup-steps', '0'];
  const one = await cli([...args, '--out', join(root, 'in1')]);
  assert.equal(one.code, 0, one.stderr);
  const two = await cli([...args, '--nproc-per-node', '2', '--out', join(root, 'in2')]);
  assert.equal(two.code, 0, two.stderr);
  const f = compareRuns(join(root, 'in1'), join(root, 'in2'), 1e-4);
  console.log(`resnet18-imagenet --sync-bn 2×32 vs 1×64: max |Δ| weights+buffers ${f.weights.toExponential(2)}, bank ${f.bank.toExponential(2)}, losses ${f.losses.toExponential(2)}`);
});

test('kill -9 of one worker: the other exits non-zero (exit 7) within 60 s, naming the dead rank', async () => {
  const port = String(await freePort());
  const dir = join(root, 'killed');
  const args = [...simple(6400), '--out', dir];
  const env = (rank: number): Record<string, string> => ({ RANK: String(rank), WORLD_SIZE: '2', LOCAL_RANK: String(rank), MASTER_ADDR: '127.0.0.1', MASTER_PORT: port });
  let victim = 0;
  const survivor = cli(args, env(0));
  const dead = cli(args, env(1), (pid) => { victim = pid; });
  // Kill rank 1 once training is under way (rank 0 has logged a few steps).
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (existsSync(join(dir, 'steps.jsonl')) && readFileSync(join(dir, 'steps.jsonl'), 'utf8').split('\n').length > 3) {
        clearInterval(poll);
        resolve();
      }
    }, 50);
  });
  const killedAt = Date.now();
  process.kill(victim, 'SIGKILL');
  const d = await dead;
  assert.equal(d.signal, 'SIGKILL');
  const s = await survivor;
  const waited = (Date.now() - killedAt) / 1000;
  console.log(`rank 0 exited ${waited.toFixed(1)} s after rank 1 was killed`);
  assert.equal(s.code, 7, s.stderr);
  assert.ok(waited < 60, `rank 0 took ${waited} s`);
  assert.match(s.stderr, /rank 0 of 2: .* failed: rank 1 died or did not answer/);
});

test('SIGKILL of the whole data-parallel job, then --resume: bit-identical to the uninterrupted 2-process run', async () => {
  assert.equal((await parallelRun()).code, 0);
  const dir = join(root, 'resumed');
  const args = [...SIMPLE, '--checkpoint-every', '4', '--nproc-per-node', '2', '--out', dir];
  let launcher = 0;
  let launcherLog = (): string => '';
  const run = cli(args, {}, (pid, log) => { launcher = pid; launcherLog = log; });
  // Once the first checkpoint exists, wait a random moment and kill the launcher and both workers at once.
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (existsSync(join(dir, 'checkpoint.safetensors'))) {
        clearInterval(poll);
        setTimeout(resolve, Math.floor(Math.random() * 800));
      }
    }, 20);
  });
  // The launcher names its workers: "started 2 workers on 127.0.0.1:PORT (rank 0 pid A, rank 1 pid B)".
  const workers = [...launcherLog().matchAll(/rank \d+ pid (\d+)/g)].map((m) => Number(m[1]));
  assert.equal(workers.length, 2);
  for (const pid of [launcher, ...workers]) process.kill(pid, 'SIGKILL');
  const r = await run;
  assert.equal(r.signal, 'SIGKILL');
  const at = readCheckpoint(join(dir, 'checkpoint.safetensors')).position.step;
  assert.ok(at > 0 && at < 20, `killed mid-run (checkpoint at step ${at})`);
  const resumed = await cli([...args, '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const a = loadSafetensors(join(parallelDir, 'checkpoint.safetensors')).tensors;
  const b = loadSafetensors(join(dir, 'checkpoint.safetensors')).tensors;
  for (const [k, t] of a) {
    if (!k.startsWith('model.') && !k.startsWith('bank.') && !k.startsWith('optim.')) continue;
    assert.deepEqual(Buffer.from(b.get(k)!.data().buffer), Buffer.from(t.data().buffer), `${k} differs after resuming at step ${at}`);
  }
  const strip = (rs: StepRecord[]): Omit<StepRecord, 'imagesPerSecond'>[] => rs.map(({ imagesPerSecond: _i, ...rest }) => rest);
  assert.deepEqual(strip(steps(dir)), strip(steps(parallelDir)));
});
