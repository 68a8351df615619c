import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as T from '../../src/torch/index.js';
import { EXIT_CODES, InterruptedError } from '../../src/errors.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';
import { readCheckpoint } from '../../src/train/run/checkpoint.js';
import { train } from '../../src/train/trainer.js';
import { cliPath, loggedLines } from '../helpers/cli.js';
import { hashTree } from '../helpers/dir-hash.js';
import { once } from '../helpers/once.js';

const ARGS = ['--train-limit', '640', '--test-limit', '200', '--batch-size', '32', '--epochs', '2', '--lambda-proto', '1',
  '--lambda-batch', '0.5', '--checkpoint-every', '3', '--log-every', '4', '--seed', '5', '--quiet'];

interface Ended { code: number | null; signal: NodeJS.Signals | null; out: string; err: string }

/** Runs the CLI; once `ready()` holds (polled), sends `sig`. */
function runCli(args: string[], o: { ready?: () => boolean; sig?: NodeJS.Signals } = {}): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const poll = o.ready ? setInterval(() => {
      if (o.ready!()) {
        clearInterval(poll);
        child.kill(o.sig ?? 'SIGINT');
      }
    }, 10) : undefined;
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (poll) clearInterval(poll);
      // 'exit' can come before the pipes are drained.
      setTimeout(() => resolve({ code, signal, out, err }), 50);
    });
  });
}

function sameTensors(a: Map<string, T.Tensor>, b: Map<string, T.Tensor>, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: keys`);
  for (const [k, t] of a) {
    assert.deepEqual(Buffer.from(t.data().buffer), Buffer.from(b.get(k)!.data().buffer), `${what}: ${k} differs`);
  }
}

/** metrics.jsonl / steps.jsonl without the wall-clock fields. */
function records(dir: string, file: string): unknown[] {
  return readFileSync(join(dir, file), 'utf8').trim().split('\n').map((l) => {
    const { seconds: _s, imagesPerSecond: _i, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return rest;
  });
}

test('SIGINT mid-epoch: the step finishes, a checkpoint is written, exit 130 naming the resume command; resuming ends bit-identical', async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-sigint-'));
  const whole = join(root, 'whole');
  const broken = join(root, 'broken run');
  assert.equal((await runCli(['train', ...ARGS, '--out', whole])).code, 0);
  // The first checkpoint is at step 3 of 20 in epoch 1, the first step-log line at step 4 (the log starts empty):
  // interrupt once that line exists, so the stop comes after step 4 or later and its checkpoint is not the periodic
  // one of step 3 (a signal sent as soon as the step-3 checkpoint appeared could be handled at the very next yield,
  // before step 4).
  const r = await runCli(['train', ...ARGS, '--out', broken], { ready: () => loggedLines(join(broken, 'steps.jsonl')) >= 1 });
  assert.equal(r.code, EXIT_CODES.interrupted, r.err);
  assert.match(r.err, /SIGINT received: finishing the current step and writing a checkpoint/);
  const resume = /resume with: (batchcam train .*)$/m.exec(r.err);
  assert.ok(resume, r.err);
  assert.equal(resume[1], `batchcam train --out '${broken}' --resume`, 'the exact command, quoted for the shell');
  const ck = readCheckpoint(join(broken, 'checkpoint.safetensors'));
  for (const t of ck.tensors.values()) t.dispose();
  assert.equal(ck.position.epoch, 0, 'mid-epoch 1');
  assert.ok(ck.position.batch > 3 && ck.position.batch < 20, `stopped after step ${ck.position.step}, past the step-3 checkpoint`);
  assert.match(r.err, new RegExp(`stopped after step ${ck.position.step} \\(epoch 1 of 2\\)`));
  assert.ok(!existsSync(join(broken, 'model.safetensors')), 'the run is not finished');
  // Resume with the printed command.
  const again = await runCli(['train', '--out', broken, '--resume', '--quiet']);
  assert.equal(again.code, 0, again.err);
  sameTensors(loadSafetensors(join(whole, 'checkpoint.safetensors')).tensors, loadSafetensors(join(broken, 'checkpoint.safetensors')).tensors, 'checkpoint');
  sameTensors(loadSafetensors(join(whole, 'model.safetensors')).tensors, loadSafetensors(join(broken, 'model.safetensors')).tensors, 'final weights');
  assert.deepEqual(readFileSync(join(broken, 'model.safetensors')), readFileSync(join(whole, 'model.safetensors')), 'model.safetensors byte-identical');
  assert.deepEqual(records(broken, 'metrics.jsonl'), records(whole, 'metrics.jsonl'));
  assert.deepEqual(records(broken, 'steps.jsonl'), records(whole, 'steps.jsonl'));
  assert.deepEqual(readdirSync(broken).sort(), ['checkpoint.safetensors', 'config.json', 'metrics.jsonl', 'model.safetensors', 'probes.bin', 'probes.json', 'steps.jsonl', 'summary.json']);
  rmSync(root, { recursive: true, force: true });
});

test('a stop request before the first step of an --overwrite: InterruptedError (exit 130, nothing to resume) and the old run is as it was', async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-stop-early-'));
  const run = join(root, 'run');
  const tiny = { trainLimit: 100, testLimit: 50, batchSize: 50 };
  (await train(tiny, { outDir: run, quiet: true })).model.dispose();
  const before = hashTree(run);
  let err: unknown;
  try {
    await train({ ...tiny, seed: 1 }, { outDir: run, overwrite: true, quiet: true, signal: AbortSignal.abort('SIGTERM') });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof InterruptedError, String(err));
  assert.equal(err.exitCode, EXIT_CODES.interrupted);
  assert.equal(err.resumeCommand, null);
  assert.match(err.message, /^interrupted by SIGTERM: stopped before the first step; .*run is as it was$/);
  assert.deepEqual(hashTree(run), before);
  rmSync(root, { recursive: true, force: true });
});

test('a second Ctrl-C stops at once, even inside a long synchronous step', async () => {
  // A "step" that never yields: only the default signal action can stop it.
  const script = `
    const { interruptSignal } = await import(${JSON.stringify(new URL('../../src/train/run/interrupt.js', import.meta.url).href)});
    const { signal } = interruptSignal(() => {});
    signal.addEventListener('abort', () => { process.stdout.write('stopping ' + signal.reason + '\\n'); for (;;); });
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`;
  let sent = 0;
  let out = '';
  const r = await new Promise<Ended>((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (sent === 0 && out.includes('ready')) { sent = 1; child.kill('SIGINT'); }
      if (sent === 1 && out.includes('stopping SIGINT')) { sent = 2; child.kill('SIGINT'); }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out, err: '' }); });
  });
  assert.equal(sent, 2, out);
  assert.equal(r.signal, 'SIGINT', `killed by the second SIGINT (code ${r.code}, signal ${r.signal})`);
});

/**
 * One simplecnn run of 10 steps (checkpoint every 2) on 320 MNIST images, evaluated on 100: run whole, and SIGTERMed
 * once its first checkpoint exists, then run again with the same command.
 */
const EXP_ROOT = mkdtempSync(join(tmpdir(), 'batchcam-exp-sigterm-'));
after(() => rmSync(EXP_ROOT, { recursive: true, force: true }));
const experiment = once(async () => {
  const root = EXP_ROOT;
  const grid = join(root, 'grid.json');
  writeFileSync(grid, JSON.stringify({
    name: 'tiny', base: { epochs: 1, trainLimit: 320, testLimit: 100, batchSize: 32, threads: 1, checkpointEvery: 2 },
    models: ['simplecnn'], datasets: ['mnist'], settings: [{ name: 'ce' }], seeds: [0], evaluate: { testLimit: 100, faithfulnessN: 10, steps: 7 },
  }));
  const out = join(root, 'out');
  const runDir = join(out, 'simplecnn', 'mnist', 'ce', 'seed0');
  const stopped = await runCli(['experiment', '--config', grid, '--out', out, '--quiet'],
    { ready: () => existsSync(join(runDir, 'checkpoint.safetensors')), sig: 'SIGTERM' });
  const ck = readCheckpoint(join(runDir, 'checkpoint.safetensors'));
  for (const t of ck.tensors.values()) t.dispose();
  const evaluatedBeforeResume = existsSync(join(runDir, 'evaluation.json'));
  const again = await runCli(['experiment', '--config', grid, '--out', out, '--quiet']);
  const whole = join(root, 'whole');
  const uninterrupted = await runCli(['experiment', '--config', grid, '--out', whole, '--quiet']);
  return { grid, out, runDir, stopped, stoppedAt: ck.position.step, evaluatedBeforeResume, again, whole, uninterrupted,
    wholeRunDir: join(whole, 'simplecnn', 'mnist', 'ce', 'seed0') };
});

/** aggregate.json without its timing section (wall-clock times and the creation date). */
function aggregateOf(dir: string): unknown {
  const a = JSON.parse(readFileSync(join(dir, 'aggregate.json'), 'utf8')) as Record<string, unknown>;
  assert.ok(a.timing, 'aggregate.json has a timing section');
  delete a.timing;
  return a;
}

const LONG = { timeout: 300_000 };

test('experiment: SIGTERM during a run checkpoints it mid-run, before evaluation, and exits 130 naming the experiment command', LONG, async () => {
  const e = await experiment();
  assert.equal(e.stopped.code, EXIT_CODES.interrupted, e.stopped.err);
  assert.ok(e.stopped.err.includes(`resume with: batchcam experiment --config ${e.grid} --out ${e.out}`), e.stopped.err);
  assert.ok(e.stoppedAt >= 2 && e.stoppedAt < 10, `checkpoint at step ${e.stoppedAt}`);
  assert.ok(!e.evaluatedBeforeResume, 'no evaluation.json before the run is resumed');
});

test('experiment: running the interrupted experiment again resumes its run from the checkpoint and finishes', LONG, async () => {
  const e = await experiment();
  assert.equal(e.again.code, 0, e.again.err);
  assert.match(e.again.out, /resuming from its checkpoint/);
});

test('experiment: the resumed experiment ends with the uninterrupted one\'s aggregate, every number (timing aside), aggregate.md byte for byte', LONG, async () => {
  const e = await experiment();
  assert.equal(e.again.code, 0, e.again.err);
  assert.equal(e.uninterrupted.code, 0, e.uninterrupted.err);
  assert.deepEqual(aggregateOf(e.out), aggregateOf(e.whole));
  assert.equal(readFileSync(join(e.out, 'aggregate.md'), 'utf8'), readFileSync(join(e.whole, 'aggregate.md'), 'utf8'));
});

test('experiment: the resumed run\'s evaluation.json equals the uninterrupted run\'s (the checkpoint path inside aside)', LONG, async () => {
  const e = await experiment();
  assert.equal(e.again.code, 0, e.again.err);
  assert.equal(e.uninterrupted.code, 0, e.uninterrupted.err);
  const read = (d: string): unknown => ({ ...JSON.parse(readFileSync(join(d, 'evaluation.json'), 'utf8')), checkpoint: null });
  assert.deepEqual(read(e.runDir), read(e.wholeRunDir));
});

test('experiment: the resumed run\'s model.safetensors and epoch log are bit-identical to the uninterrupted run\'s', LONG, async () => {
  const e = await experiment();
  assert.equal(e.again.code, 0, e.again.err);
  assert.equal(e.uninterrupted.code, 0, e.uninterrupted.err);
  assert.deepEqual(readFileSync(join(e.runDir, 'model.safetensors')), readFileSync(join(e.wholeRunDir, 'model.safetensors')));
  assert.deepEqual(records(e.runDir, 'metrics.jsonl'), records(e.wholeRunDir, 'metrics.jsonl'));
});
