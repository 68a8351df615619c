import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { train } from '../../src/train/trainer.js';
import { readCheckpoint } from '../../src/train/run/checkpoint.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';
import type { StepRecord } from '../../src/train/run/step-log.js';
import { FASHION_MNIST_CLASS_NAMES } from '../../src/data/builtin/class-names.js';
import { cliPath, runTrainCli } from '../helpers/cli.js';
import { tempDir } from '../data/fixtures.js';
import { realImages, writeColourPngs } from '../data/user-data.js';

/**
 * A colourised Fashion-MNIST folder (RGB; 320 training and 100 test images of the real files, each tinted with its
 * own random colour) resized to 32×32: both regularisers train on it, and evaluate / explain / report read the run
 * from its checkpoint alone.
 */
/** Folder names of the classes ('T-shirt/top' has a slash, which a folder name cannot). */
const NAMES = FASHION_MNIST_CLASS_NAMES.map((n) => n.replace('/', '-'));

async function colourFolder(): Promise<string> {
  const root = tempDir();
  const tr = await realImages('fashion-mnist', 'train', 320);
  const te = await realImages('fashion-mnist', 'test', 100);
  await writeColourPngs(join(root, 'train'), tr.images, tr.labels, NAMES, 1);
  await writeColourPngs(join(root, 'test'), te.images, te.labels, NAMES, 2);
  return root;
}

const folder = colourFolder();

const steps = (d: string): StepRecord[] => readFileSync(join(d, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
const mean = (rs: StepRecord[], k: 'loss' | 'ce' | 'proto' | 'batch'): number => rs.reduce((a, r) => a + r[k]!, 0) / rs.length;

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8' });
}

for (const model of ['simplecnn', 'resnet18'] as const) {
  test(`${model} trains 100 steps on an RGB 32×32 folder with both regularisers, and the losses fall`, { timeout: 600_000 }, async () => {
    const root = await folder;
    const out = join(tempDir(), model);
    const r = await train({
      model, dataset: `folder:${root}`, imageSize: '32', batchSize: 16, epochs: 5, lambdaProto: 1, lambdaBatch: 1,
      // CE alone for the first 20 steps, as docs/method.md recommends (from step 0 the regularisers can hold a
      // model at chance); the regularisers then run for the remaining 80.
      camWarmupSteps: 20, lr: model === 'resnet18' ? 1e-3 : 3e-3, warmupSteps: 10, logEvery: 10, seed: 3, threads: 2,
    }, { outDir: out, quiet: true });
    assert.deepEqual(r.data.info.imageShape, [3, 32, 32]);
    assert.deepEqual(r.data.info.classNames, [...NAMES].sort());
    assert.equal(r.position.step, 100);
    const s = steps(out);
    assert.equal(s.length, 10);
    for (const rec of s.slice(2)) assert.ok(rec.proto !== null && rec.batch !== null, `both regularisers are on at step ${rec.step}`);
    const first = s.slice(0, 3);
    const last = s.slice(-3);
    assert.ok(mean(last, 'loss') < mean(first, 'loss'), `total loss falls: ${mean(first, 'loss')} → ${mean(last, 'loss')}`);
    assert.ok(mean(last, 'ce') < mean(first, 'ce'), `CE falls: ${mean(first, 'ce')} → ${mean(last, 'ce')}`);
    const acc = r.history[r.history.length - 1]!.testAccuracy;
    assert.ok(acc > 0.3, `test accuracy ${acc} is well above chance (0.1)`);
    // The checkpoint records what evaluate / explain / report need.
    const ck = readCheckpoint(join(out, 'checkpoint.safetensors'));
    assert.deepEqual(ck.data, { dataset: `folder:${root}`, imageShape: [3, 32, 32], classNames: [...NAMES].sort(), normalisation: null });
    for (const t of ck.tensors.values()) t.dispose();
    r.model.dispose();
    r.bank?.dispose();

    if (model !== 'simplecnn') return;
    // evaluate / explain / report from the run directory alone.
    const ev = cli(['evaluate', '--checkpoint', out, '--faithfulness-n', '20', '--quiet']);
    assert.equal(ev.status, 0, ev.stderr);
    const evaluation = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
    assert.equal(evaluation.n, 100);
    assert.equal(evaluation.figures.meanImages[0].length, 32 * 32);
    assert.equal(evaluation.figures.samples[0].rgb.length, 3 * 32 * 32, 'colour samples carry their RGB planes');
    assert.ok(evaluation.accuracy > 0.3);
    assert.ok(Number.isFinite(evaluation.coherence.ssim.mean) && Number.isFinite(evaluation.faithfulness.deletionAuc));
    const ex = cli(['explain', '--checkpoint', out, '--indices', '0-3', '--out', join(out, 'ex')]);
    assert.equal(ex.status, 0, ex.stderr);
    const strip = await sharp(join(out, 'ex', 'test-0.png')).metadata();
    assert.equal(strip.channels, 3);
    assert.equal(strip.height, 2 * 2 + 32 * 4, 'the strip is of the 32×32 input, upscaled 4×');
    // The input tile of a colour image is in colour (its channels differ).
    const px = await sharp(join(out, 'ex', 'test-0.png')).extract({ left: 2, top: 2, width: 128, height: 128 }).raw().toBuffer();
    let coloured = 0;
    for (let i = 0; i < px.length; i += 3) if (px[i] !== px[i + 1] || px[i + 1] !== px[i + 2]) coloured++;
    assert.ok(coloured > 100, `colour overlay input (${coloured} coloured pixels)`);
    const file = join(root, 'test', readdirSync(join(root, 'test'))[0]!);
    const one = join(file, readdirSync(file)[0]!);
    const exi = cli(['explain', '--checkpoint', out, '--image', one, '--out', join(out, 'exi')]);
    assert.equal(exi.status, 0, exi.stderr);
    const rep = cli(['report', out]);
    assert.equal(rep.status, 0, rep.stderr);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.ok((html.match(/<img /g) ?? []).length > 10, 'the report has its figures');
  });
}


test('a streamed folder run killed with SIGKILL and resumed ends bit-identical to an uninterrupted in-memory one', { timeout: 600_000 }, async () => {
  const root = await folder;
  const args = ['--dataset', `folder:${root}`, '--image-size', '32', '--channels', '3', '--batch-size', '32', '--epochs', '4',
    '--lambda-proto', '1', '--lambda-batch', '0.5', '--checkpoint-every', '2', '--log-every', '4', '--seed', '5', '--quiet'];
  const whole = join(tempDir(), 'whole');
  const broken = join(tempDir(), 'broken');
  // The uninterrupted run holds the images in memory; the killed and resumed one decodes them per batch in worker threads.
  assert.equal(await runTrainCli([...args, '--stream', 'off', '--out', whole]), 0);
  const code = await runTrainCli([...args, '--stream', 'on', '--out', broken], Math.floor(Math.random() * 800), broken);
  const before = readCheckpoint(join(broken, 'checkpoint.safetensors'));
  for (const t of before.tensors.values()) t.dispose();
  assert.equal(code, null, 'the run was killed mid-way');
  assert.ok(before.position.step > 0 && before.position.step < 40, `killed between steps 1 and 40 (at ${before.position.step})`);
  assert.equal(await runTrainCli(['--out', broken, '--resume', '--quiet']), 0);
  assert.equal(JSON.parse(readFileSync(join(broken, 'config.json'), 'utf8')).stream, 'on', 'the resumed run streamed');
  for (const f of ['checkpoint.safetensors', 'model.safetensors']) {
    const a = loadSafetensors(join(whole, f));
    const b = loadSafetensors(join(broken, f));
    assert.deepEqual([...a.tensors.keys()].sort(), [...b.tensors.keys()].sort());
    for (const [k, t] of a.tensors) {
      assert.ok(Buffer.from(t.data().buffer).equals(Buffer.from(b.tensors.get(k)!.data().buffer)), `${f}: ${k} differs`);
    }
    for (const t of [...a.tensors.values(), ...b.tensors.values()]) t.dispose();
  }
  assert.equal(readFileSync(join(whole, 'steps.jsonl'), 'utf8').replace(/"imagesPerSecond":[^,}]+/g, ''),
    readFileSync(join(broken, 'steps.jsonl'), 'utf8').replace(/"imagesPerSecond":[^,}]+/g, ''));
});
