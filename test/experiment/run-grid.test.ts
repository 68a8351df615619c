import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from '../helpers/once.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** simplecnn on 200 MNIST images, 2 settings × 2 seeds; checkpoints every step so a kill can land mid-run. */
const GRID = {
  name: 'tiny',
  base: { epochs: 1, trainLimit: 200, testLimit: 100, batchSize: 32, threads: 1, checkpointEvery: 1, warmupSteps: 2 },
  models: ['simplecnn'],
  datasets: ['mnist'],
  settings: [{ name: 'ce' }, { name: 'proto', lambdaProto: 1, distance: 'ssim' }],
  seeds: [0, 1],
  evaluate: { testLimit: 100, faithfulnessN: 10, steps: 7 },
};
const RUNS = ['ce/seed0', 'ce/seed1', 'proto/seed0', 'proto/seed1'].map((r) => join('simplecnn', 'mnist', r));

function runGrid(config: string, out: string, ...extra: string[]): string {
  const r = spawnSync(process.execPath, [MAIN, 'experiment', '--config', config, '--out', out, '--quiet', ...extra], { encoding: 'utf8' });
  assert.equal(r.status, 0, `experiment failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs the grid until `ready()` holds, then SIGKILLs it (no cleanup of any kind can run). */
function runAndKill(config: string, out: string, ready: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'experiment', '--config', config, '--out', out, '--quiet'], { stdio: 'ignore' });
    const timer = setInterval(() => {
      if (ready()) {
        clearInterval(timer);
        child.kill('SIGKILL');
      }
    }, 10);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`the grid ended on its own (code ${code}) before it could be killed`));
    });
  });
}

const withoutTiming = (path: string): unknown => {
  const a = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  assert.ok(a.timing, 'aggregate.json has a timing section');
  delete a.timing;
  return a;
};

const LONG = { timeout: 600_000 };

const ROOT = mkdtempSync(join(tmpdir(), 'batchcam-experiment-'));
after(() => rmSync(ROOT, { recursive: true, force: true }));
const config = once(() => {
  const path = join(ROOT, 'grid.json');
  writeFileSync(path, JSON.stringify(GRID));
  return path;
});

/** The grid run to the end in one invocation: the reference. */
const whole = once(() => {
  const dir = join(ROOT, 'whole');
  runGrid(config(), dir);
  return dir;
});

/**
 * The same grid SIGKILLed once the first run is evaluated and the second has written a checkpoint, then run again.
 * What the tests check is read as each step ends (later steps rewrite some of these files).
 */
const cut = once(async () => {
  const dir = join(ROOT, 'cut');
  const first = join(dir, RUNS[0]!, 'evaluation.json');
  await runAndKill(config(), dir, () => existsSync(first) && existsSync(join(dir, RUNS[1]!, 'checkpoint.safetensors')));
  const killed = { firstEvaluated: existsSync(first), aggregate: existsSync(join(dir, 'aggregate.json')), firstTime: statSync(first).mtimeMs,
    secondDone: existsSync(join(dir, RUNS[1]!, 'evaluation.json')) };
  const log = runGrid(config(), dir);
  const resumed = {
    log, firstTime: statSync(first).mtimeMs, aggregate: withoutTiming(join(dir, 'aggregate.json')),
    aggregateMd: readFileSync(join(dir, 'aggregate.md'), 'utf8'),
    // The checkpoint path inside names the directory, so it is left out.
    evaluations: RUNS.map((r) => ({ ...JSON.parse(readFileSync(join(dir, r, 'evaluation.json'), 'utf8')), checkpoint: null })),
  };
  return { dir, killed, resumed };
});

/** The killed-and-resumed grid run a third time: nothing left to do. */
const third = once(async () => {
  const { dir } = await cut();
  return runGrid(config(), dir);
});

/** --reevaluate on the finished grid (after the third invocation), with the last run's files read before and after. */
const reevaluated = once(async () => {
  const { dir } = await cut();
  await third();
  const files = (): { ckpt: number; log: string; evaluation: string } => ({
    ckpt: statSync(join(dir, RUNS[3]!, 'checkpoint.safetensors')).mtimeMs, log: readFileSync(join(dir, RUNS[3]!, 'metrics.jsonl'), 'utf8'),
    evaluation: readFileSync(join(dir, RUNS[3]!, 'evaluation.json'), 'utf8'),
  });
  const before = files();
  const out = runGrid(config(), dir, '--reevaluate');
  return { out, before, after: files(), aggregate: withoutTiming(join(dir, 'aggregate.json')) };
});

/** The grid run with --max-runs 1 until it stops asking for more: the stdout of each invocation. */
const sliced = once(() => {
  const dir = join(ROOT, 'sliced');
  const logs: string[] = [];
  for (let out = runGrid(config(), dir, '--max-runs', '1'); ; out = runGrid(config(), dir, '--max-runs', '1')) {
    logs.push(out);
    assert.ok(logs.length <= 4, 'a 4-run grid needs 4 invocations');
    if (!/stopping after 1 run/.test(out)) break;
  }
  return { dir, logs };
});

test('the uninterrupted grid trains and evaluates all four runs', LONG, () => {
  const dir = whole();
  for (const r of RUNS) assert.ok(existsSync(join(dir, r, 'evaluation.json')), `${r} evaluated`);
});

test('a grid SIGKILLed inside its second run leaves the first run evaluated and no aggregate', LONG, async (t) => {
  const { killed } = await cut();
  assert.ok(killed.firstEvaluated);
  assert.ok(!killed.aggregate);
  t.diagnostic(killed.secondDone ? 'the kill landed after the second run finished' : 'the kill landed inside the second run (checkpoint, no evaluation)');
});

test('run again, the killed grid skips its finished run and resumes the interrupted one from its checkpoint', LONG, async () => {
  const { killed, resumed } = await cut();
  assert.match(resumed.log, /\[1\/4\] simplecnn\/mnist\/ce\/seed0: done, skipped/);
  if (!killed.secondDone) assert.match(resumed.log, /\[2\/4\] simplecnn\/mnist\/ce\/seed1: resuming from its checkpoint/);
});

test('resuming the killed grid does not evaluate its finished run again (evaluation.json untouched)', LONG, async () => {
  const { killed, resumed } = await cut();
  assert.equal(resumed.firstTime, killed.firstTime, 'the finished run was not evaluated again');
});

test('the killed and resumed grid ends with the uninterrupted aggregate: aggregate.json (timing aside) and aggregate.md', LONG, async () => {
  const { resumed } = await cut();
  assert.deepEqual(resumed.aggregate, withoutTiming(join(whole(), 'aggregate.json')));
  assert.equal(resumed.aggregateMd, readFileSync(join(whole(), 'aggregate.md'), 'utf8'));
});

test('every run of the killed and resumed grid has the uninterrupted run\'s evaluation.json (checkpoint path aside)', LONG, async () => {
  const { resumed } = await cut();
  RUNS.forEach((r, k) => {
    assert.deepEqual(resumed.evaluations[k], { ...JSON.parse(readFileSync(join(whole(), r, 'evaluation.json'), 'utf8')), checkpoint: null }, r);
  });
});

test('the aggregate has both settings over both seeds, and the Welch test of proto against ce', LONG, () => {
  const agg = JSON.parse(readFileSync(join(whole(), 'aggregate.json'), 'utf8')) as {
    rows: { setting: string; seeds: number[]; accuracy: { n: number }; vsBaseline: Record<string, { p: number } | null> | null }[];
  };
  assert.deepEqual(agg.rows.map((x) => x.setting), ['ce', 'proto']);
  assert.ok(agg.rows.every((x) => x.seeds.join() === '0,1' && x.accuracy.n === 2));
  assert.equal(agg.rows[0]!.vsBaseline, null);
  const p = agg.rows[1]!.vsBaseline!.accuracy!.p;
  assert.ok(p >= 0 && p <= 1);
});

test('--max-runs 1 runs the 4-run grid one run per invocation, in 4 invocations', LONG, () => {
  // One run per invocation, so other jobs can run between.
  const { logs } = sliced();
  for (const out of logs) assert.ok((out.match(/: training/g) ?? []).length <= 1, out);
  assert.equal(logs.length, 4);
});

test('the grid run with --max-runs 1 ends with the uninterrupted aggregate', LONG, () => {
  const { dir } = sliced();
  assert.deepEqual(withoutTiming(join(dir, 'aggregate.json')), withoutTiming(join(whole(), 'aggregate.json')));
});

test('a finished grid run again skips all four runs', LONG, async () => {
  const again = await third();
  assert.equal((again.match(/done, skipped/g) ?? []).length, 4);
});

test('--reevaluate evaluates every finished run again from its checkpoint, without training', LONG, async () => {
  const { out } = await reevaluated();
  assert.equal((out.match(/evaluating again/g) ?? []).length, 4, out);
  assert.doesNotMatch(out, /training|resuming/);
});

test('--reevaluate leaves the checkpoint and the training log untouched', LONG, async () => {
  const { before, after: now } = await reevaluated();
  assert.equal(now.ckpt, before.ckpt);
  assert.equal(now.log, before.log);
});

test('--reevaluate reproduces evaluation.json and the aggregate (evaluation is deterministic)', LONG, async () => {
  const { before, after: now, aggregate } = await reevaluated();
  assert.equal(now.evaluation, before.evaluation);
  assert.deepEqual(aggregate, withoutTiming(join(whole(), 'aggregate.json')));
});
