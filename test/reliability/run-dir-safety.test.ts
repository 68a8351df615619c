import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODES, RunLockedError, StorageError } from '../../src/errors.js';
import { failNextWrite } from '../../src/io/atomic-file.js';
import { SafetensorsError } from '../../src/nn/safetensors.js';
import { readCheckpoint } from '../../src/train/run/checkpoint.js';
import { LOCK_FILE } from '../../src/train/run/run-lock.js';
import { train } from '../../src/train/trainer.js';
import { cliPath } from '../helpers/cli.js';
import { hashTree } from '../helpers/dir-hash.js';

/** 100 MNIST images in batches of 50: two SimpleCNN steps, a finished run in about a second. */
const TINY = { trainLimit: 100, testLimit: 50, batchSize: 50 };
const TINY_FLAGS = ['--train-limit', '100', '--test-limit', '50', '--batch-size', '50', '--quiet'];

function cli(...args: string[]): { code: number | null; err: string } {
  const r = spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8' });
  return { code: r.status, err: r.stderr };
}

/** A finished run (train() then the files evaluate and report add), as a user's runs/quickstart would be. */
async function finishedRun(dir: string): Promise<Map<string, string>> {
  const r = await train(TINY, { outDir: dir, quiet: true });
  r.model.dispose();
  writeFileSync(join(dir, 'evaluation.json'), '{"accuracy":0.5}\n');
  writeFileSync(join(dir, 'report.html'), '<html>old report</html>\n');
  return hashTree(dir);
}

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('--overwrite with a bad option, a missing or damaged dataset, or an unreadable --resume checkpoint leaves a finished run byte-for-byte as it was', async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-survive-'));
  const run = join(root, 'run');
  const before = await finishedRun(run);
  const damaged = join(root, 'damaged-data');
  mkdirSync(damaged);
  writeFileSync(join(damaged, 'train-images-idx3-ubyte'), Buffer.from('not an idx file'));
  const cases: [string[], number, RegExp][] = [
    [['--device', 'cuda'], EXIT_CODES.usage, /--device cuda: .*use --device cpu/],
    [['--cam-layer', 'nosuch'], EXIT_CODES.usage, /--cam-layer: model 'simplecnn' has no layer 'nosuch'; choose one of conv2/],
    [['--epochs', '0'], EXIT_CODES.usage, /--epochs: got "0", expected an integer in \[1, inf\]/],
    [['--lambda-batch', '1', '--cam-warmup-epochs', '1'], EXIT_CODES.usage, /--cam-warmup-epochs 1 leaves no epoch/],
    [['--resume'], EXIT_CODES.usage, /--resume and --overwrite exclude each other/],
    [['--data-dir', join(root, 'nonexistent')], EXIT_CODES.data, /data directory .*nonexistent .*found nothing at that path/],
    [['--data-dir', damaged], EXIT_CODES.data, /damaged-data.train-images-idx3-ubyte/],
  ];
  for (const [args, code, re] of cases) {
    const r = cli('train', ...TINY_FLAGS, '--out', run, '--overwrite', ...args);
    assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}\n${r.err}`);
    assert.match(r.err, re, args.join(' '));
    assert.deepEqual(hashTree(run), before, `${args.join(' ')}: the finished run is unchanged`);
  }
  // Without --overwrite or --resume: refused, exit 4.
  const plain = cli('train', ...TINY_FLAGS, '--out', run);
  assert.equal(plain.code, EXIT_CODES.storage, plain.err);
  assert.match(plain.err, /already holds a run; pass --resume to continue it or --overwrite to replace it/);
  assert.deepEqual(hashTree(run), before);
  // --resume from a checkpoint that cannot be read: exit 4, the (damaged) files stay as they are.
  const ck = join(run, 'checkpoint.safetensors');
  writeFileSync(ck, readFileSync(ck).subarray(0, 1000));
  const damagedRun = hashTree(run);
  const resumed = cli('train', '--out', run, '--resume', '--quiet');
  assert.equal(resumed.code, EXIT_CODES.storage, resumed.err);
  assert.match(resumed.err, /checkpoint\.safetensors/);
  assert.deepEqual(hashTree(run), damagedRun);
  // A run directory that did not exist: a failure leaves no trace of it, nor of the parents it needed.
  for (const [args, code] of [[['--cam-layer', 'nosuch'], EXIT_CODES.usage], [['--data-dir', join(root, 'nonexistent')], EXIT_CODES.data]] as const) {
    const r = cli('train', ...TINY_FLAGS, '--out', join(root, 'new', 'nested', 'run'), ...args);
    assert.equal(r.code, code, r.err);
    assert.ok(!existsSync(join(root, 'new')), `${args[0]}: nothing created`);
  }
  // --resume where there is no checkpoint at all.
  const empty = join(root, 'empty');
  mkdirSync(empty);
  const none = cli('train', '--out', empty, '--resume');
  assert.equal(none.code, EXIT_CODES.storage, none.err);
  assert.match(none.err, /--resume: .*checkpoint\.safetensors does not exist/);
  assert.deepEqual(readdirSync(empty), []);
  rmSync(root, { recursive: true, force: true });
});

test('evaluate and explain with --device cuda on this CPU-only libtorch, or a bad --device: exit 2, one line, nothing written', async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-evaldevice-'));
  const run = join(root, 'run');
  const before = await finishedRun(run);
  const out = join(root, 'out');
  const cases: [string[], RegExp][] = [
    [['evaluate', '--checkpoint', run, '--device', 'cuda'], /^batchcam evaluate: --device cuda: this libtorch has no CUDA .*use --device cpu$/],
    [['evaluate', '--checkpoint', run, '--device', 'cuda:1', '--out', join(out, 'e.json')], /--device cuda:1: this libtorch has no CUDA/],
    [['evaluate', '--checkpoint', run, '--device', 'gpu'], /--device: got 'gpu', expected cpu or cuda\[:N\]/],
    [['explain', '--checkpoint', run, '--indices', '0-3', '--device', 'cuda', '--out', out], /--device cuda: this libtorch has no CUDA .*use --device cpu/],
    [['explain', '--checkpoint', run, '--indices', '0', '--device', 'cuda:x'], /--device: got 'cuda:x', expected cpu or cuda\[:N\]/],
  ];
  for (const [args, re] of cases) {
    const r = cli(...args);
    assert.equal(r.code, EXIT_CODES.usage, `${args.join(' ')}: exit ${r.code}\n${r.err}`);
    const lines = r.err.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: one line, got\n${r.err}`);
    assert.match(lines[0]!, re, args.join(' '));
    assert.deepEqual(hashTree(run), before, `${args.join(' ')}: the run is unchanged`);
    assert.ok(!existsSync(out), `${args.join(' ')}: no output written`);
  }
});

test('--overwrite that fails after moving the old run aside, before the first checkpoint, puts the old run back byte-for-byte', async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-rollback-'));
  const run = join(root, 'run');
  const before = await finishedRun(run);
  const cfg = { ...TINY, trainLimit: 200, checkpointEvery: 1 };
  // The first checkpoint's rename fails (the new run has written config.json, metrics.jsonl, steps.jsonl by then)…
  failNextWrite(/checkpoint\.safetensors$/, 'rename');
  await assert.rejects(train(cfg, { outDir: run, overwrite: true, quiet: true }), (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, String(e));
    assert.match(e.message, /checkpoint\.safetensors: cannot write \(rename failed: ENOSPC/);
    return true;
  });
  assert.deepEqual(hashTree(run), before, 'after a failed first checkpoint');
  // …or writing the new run's first file fails, right after the move.
  failNextWrite(/steps\.jsonl$/, 'write');
  await assert.rejects(train(cfg, { outDir: run, overwrite: true, quiet: true }), /steps\.jsonl: cannot write \(write failed: ENOSPC/);
  assert.deepEqual(hashTree(run), before, 'after a failed first write');
  // Once the first checkpoint exists the old run is gone, evaluation and report included.
  const r = await train(cfg, { outDir: run, overwrite: true, quiet: true });
  r.model.dispose();
  assert.deepEqual(readdirSync(run).sort(), ['checkpoint.safetensors', 'config.json', 'metrics.jsonl', 'model.safetensors', 'probes.bin', 'probes.json', 'steps.jsonl', 'summary.json']);
  assert.equal(readCheckpoint(join(run, 'checkpoint.safetensors')).config.trainLimit, 200);
  rmSync(root, { recursive: true, force: true });
});

test('an --overwrite killed before its first checkpoint is rolled back by the next trainer (stale lock taken over)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-recover-'));
  const run = join(root, 'run');
  const before = await finishedRun(run);
  // What a SIGKILL right after the move-aside leaves: the old run in the backup, the new run's first files, the lock.
  const backup = join(run, '.batchcam-previous-run');
  mkdirSync(backup);
  for (const f of readdirSync(run)) if (!f.startsWith('.')) renameSync(join(run, f), join(backup, f));
  writeFileSync(join(run, 'config.json'), '{"new":true}\n');
  writeFileSync(join(run, 'steps.jsonl'), '');
  writeFileSync(join(run, `checkpoint.safetensors.tmp-${deadPid()}-0123456789ab`), 'torn');
  writeFileSync(join(run, LOCK_FILE), `${deadPid()}\n${hostname()}\n`);
  // The next invocation refuses (the directory holds a run) — after settling the leftovers under the lock.
  await assert.rejects(train(TINY, { outDir: run, quiet: true }), /already holds a run/);
  assert.deepEqual(hashTree(run), before);
  rmSync(root, { recursive: true, force: true });
});

test('an injected write failure while checkpointing leaves the previous checkpoint loadable, and the error names the file', async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-diskfull-'));
  const run = join(root, 'run');
  const cfg = { trainLimit: 300, testLimit: 50, batchSize: 20, checkpointEvery: 2, epochs: 1 };
  const first = await train(cfg, { outDir: run, quiet: true, maxSteps: 3 });
  first.model.dispose();
  const ckPath = join(run, 'checkpoint.safetensors');
  const before = hashTree(run).get('checkpoint.safetensors');
  for (const stage of ['open', 'write', 'fsync', 'rename'] as const) {
    failNextWrite(/checkpoint\.safetensors$/, stage, 'ENOSPC');
    let err: unknown;
    try {
      await train({}, { outDir: run, resume: true, quiet: true });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof StorageError, `${stage}: ${String(err)}`);
    assert.equal(err.exitCode, EXIT_CODES.storage);
    assert.ok(err.message.includes(ckPath), `${stage}: names the file: ${err.message}`);
    assert.match(err.message, new RegExp(`${stage} failed: ENOSPC: no space left on device.*the previous file, if any, is unchanged`));
    assert.equal(hashTree(run).get('checkpoint.safetensors'), before, `${stage}: the old checkpoint is byte-identical`);
    const ck = readCheckpoint(ckPath);
    assert.equal(ck.position.step, 3, 'and loads, at its step');
    for (const t of ck.tensors.values()) t.dispose();
    assert.deepEqual(readdirSync(run).filter((f) => f.includes('.tmp-') || f === LOCK_FILE), [], `${stage}: no temp file or lock left`);
  }
  rmSync(root, { recursive: true, force: true });
});

test('a second trainer on a locked run directory is refused naming the pid (exit 6); a stale lock is taken over', async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-lock-'));
  const run = join(root, 'run');
  // A long first trainer (3000 images × 5 epochs); we only need it to be alive.
  const first = spawn(process.execPath, [cliPath(), 'train', '--train-limit', '3000', '--test-limit', '50', '--epochs', '5', '--out', run, '--quiet'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => first.on('exit', () => resolve()));
  try {
    const lock = join(run, LOCK_FILE);
    for (let i = 0; i < 1000 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(readFileSync(lock, 'utf8').split('\n')[0], String(first.pid), 'the lock file holds the pid');
    for (const flag of ['--overwrite', '--resume']) {
      const r = cli('train', ...TINY_FLAGS, '--out', run, flag);
      assert.equal(r.code, EXIT_CODES.locked, `${flag}: ${r.err}`);
      assert.match(r.err, new RegExp(`run directory .*run is in use by process ${first.pid} \\(lock file .*${LOCK_FILE.replace('.', '\\.')}\\)`));
    }
    // In one process too: a second train() while the first holds the directory.
    const mine = join(root, 'mine');
    const a = train(TINY, { outDir: mine, quiet: true });
    await assert.rejects(train(TINY, { outDir: mine, quiet: true, overwrite: true }), (e: unknown) => e instanceof RunLockedError && e.pid === process.pid);
    (await a).model.dispose();
  } finally {
    first.kill('SIGKILL');
    await exited;
  }
  // The killed trainer's lock is stale: the next one takes it over, and releases it when done.
  assert.ok(existsSync(join(run, LOCK_FILE)), 'a SIGKILL leaves the lock behind');
  const r = cli('train', ...TINY_FLAGS, '--out', run, '--overwrite');
  assert.equal(r.code, 0, r.err);
  assert.ok(!existsSync(join(run, LOCK_FILE)), 'released on exit');
  // A lock naming a dead pid (written by hand) is stale too.
  const stale = join(root, 'stale');
  mkdirSync(stale);
  writeFileSync(join(stale, LOCK_FILE), `${deadPid()}\n${hostname()}\n`);
  const s = await train(TINY, { outDir: stale, quiet: true });
  s.model.dispose();
  assert.deepEqual(readdirSync(stale).sort(), ['checkpoint.safetensors', 'config.json', 'metrics.jsonl', 'model.safetensors', 'probes.bin', 'probes.json', 'steps.jsonl', 'summary.json']);
  rmSync(root, { recursive: true, force: true });
});
