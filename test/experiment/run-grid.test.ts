import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

test('a grid killed mid-run resumes without redoing finished runs and ends with the uninterrupted aggregate', { timeout: 600_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-experiment-'));
  try {
    const config = join(root, 'grid.json');
    writeFileSync(config, JSON.stringify(GRID));

    const whole = join(root, 'whole');
    runGrid(config, whole);
    for (const r of RUNS) assert.ok(existsSync(join(whole, r, 'evaluation.json')), `${r} evaluated`);

    // Killed once the first run is evaluated and the second has written a checkpoint but no evaluation.
    const cut = join(root, 'cut');
    const first = join(cut, RUNS[0]!, 'evaluation.json');
    await runAndKill(config, cut, () => existsSync(first) && existsSync(join(cut, RUNS[1]!, 'checkpoint.safetensors')));
    assert.ok(existsSync(first));
    assert.ok(!existsSync(join(cut, 'aggregate.json')));
    const firstTime = statSync(first).mtimeMs;
    const secondDone = existsSync(join(cut, RUNS[1]!, 'evaluation.json'));
    t.diagnostic(secondDone ? 'the kill landed after the second run finished' : 'the kill landed inside the second run (checkpoint, no evaluation)');

    const log = runGrid(config, cut);
    assert.match(log, /\[1\/4\] simplecnn\/mnist\/ce\/seed0: done, skipped/);
    if (!secondDone) assert.match(log, /\[2\/4\] simplecnn\/mnist\/ce\/seed1: resuming from its checkpoint/);
    assert.equal(statSync(first).mtimeMs, firstTime, 'the finished run was not evaluated again');

    assert.deepEqual(withoutTiming(join(cut, 'aggregate.json')), withoutTiming(join(whole, 'aggregate.json')));
    assert.equal(readFileSync(join(cut, 'aggregate.md'), 'utf8'), readFileSync(join(whole, 'aggregate.md'), 'utf8'));
    // The runs themselves agree too (the checkpoint path inside names the directory, so it is left out).
    for (const r of RUNS) {
      const read = (d: string): unknown => ({ ...JSON.parse(readFileSync(join(d, r, 'evaluation.json'), 'utf8')), checkpoint: null });
      assert.deepEqual(read(cut), read(whole), r);
    }

    // The aggregate has both settings over both seeds, and the Welch test of proto against ce.
    const agg = JSON.parse(readFileSync(join(whole, 'aggregate.json'), 'utf8')) as {
      rows: { setting: string; seeds: number[]; accuracy: { n: number }; vsBaseline: Record<string, { p: number } | null> | null }[];
    };
    assert.deepEqual(agg.rows.map((x) => x.setting), ['ce', 'proto']);
    assert.ok(agg.rows.every((x) => x.seeds.join() === '0,1' && x.accuracy.n === 2));
    assert.equal(agg.rows[0]!.vsBaseline, null);
    const p = agg.rows[1]!.vsBaseline!.accuracy!.p;
    assert.ok(p >= 0 && p <= 1);

    // --max-runs 1 runs the grid one run per invocation (so other jobs can run between) and ends with the same aggregate.
    const sliced = join(root, 'sliced');
    let invocations = 0;
    for (let out = runGrid(config, sliced, '--max-runs', '1'); ; out = runGrid(config, sliced, '--max-runs', '1')) {
      invocations++;
      assert.ok(invocations <= 4, 'a 4-run grid needs 4 invocations');
      assert.ok((out.match(/: training/g) ?? []).length <= 1, out);
      if (!/stopping after 1 run/.test(out)) break;
    }
    assert.equal(invocations, 4);
    assert.deepEqual(withoutTiming(join(sliced, 'aggregate.json')), withoutTiming(join(whole, 'aggregate.json')));

    // A third invocation has nothing left to do.
    const again = runGrid(config, cut);
    assert.equal((again.match(/done, skipped/g) ?? []).length, 4);

    // --reevaluate evaluates every finished run again from its checkpoint without training: the checkpoint and the
    // training log stay untouched and, evaluation being deterministic, evaluation.json comes out the same.
    const ckpt = join(cut, RUNS[3]!, 'checkpoint.safetensors');
    const before = { ckpt: statSync(ckpt).mtimeMs, log: readFileSync(join(cut, RUNS[3]!, 'metrics.jsonl'), 'utf8'),
      evaluation: readFileSync(join(cut, RUNS[3]!, 'evaluation.json'), 'utf8') };
    const re = runGrid(config, cut, '--reevaluate');
    assert.equal((re.match(/evaluating again/g) ?? []).length, 4, re);
    assert.doesNotMatch(re, /training|resuming/);
    assert.equal(statSync(ckpt).mtimeMs, before.ckpt);
    assert.equal(readFileSync(join(cut, RUNS[3]!, 'metrics.jsonl'), 'utf8'), before.log);
    assert.equal(readFileSync(join(cut, RUNS[3]!, 'evaluation.json'), 'utf8'), before.evaluation);
    assert.deepEqual(withoutTiming(join(cut, 'aggregate.json')), withoutTiming(join(whole, 'aggregate.json')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
