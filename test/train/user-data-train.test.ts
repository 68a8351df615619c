import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { train } from '../../src/train/trainer.js';
import { readCheckpoint } from '../../src/train/run/checkpoint.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';
import type { StepRecord } from '../../src/train/run/step-log.js';
import { cliPath, runTrainCli } from '../helpers/cli.js';
import { gradCamLoop, loadTrainedModel, report, torch } from '../../src/index.js';
import { tempDir } from '../data/fixtures.js';
import { FASHION_FOLDER_NAMES as NAMES, writeColourFashionFolder } from '../data/user-data.js';
import { once } from '../helpers/once.js';

/**
 * A colourised Fashion-MNIST folder (RGB; 320 training and 100 test images of the real files, each tinted with its
 * own random colour) resized to 32×32: both regularisers train on it, and evaluate / explain / report read the run
 * from its checkpoint alone.
 */
async function colourFolder(): Promise<string> {
  const root = tempDir();
  await writeColourFashionFolder(root, 320, 100);
  return root;
}

const folder = colourFolder();

const steps = (d: string): StepRecord[] => readFileSync(join(d, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
const mean = (rs: StepRecord[], k: 'loss' | 'ce' | 'proto' | 'batch'): number => rs.reduce((a, r) => a + r[k]!, 0) / rs.length;

type Cli = { status: number | null; stdout: string; stderr: string };
function cli(args: string[]): Cli {
  return spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8' });
}

const LONG = { timeout: 600_000 };

/** What a training run left behind, read before its model and bank are freed. */
interface Trained {
  root: string;
  out: string;
  imageShape: number[];
  classNames: string[];
  step: number;
  accuracy: number;
  checkpointData: unknown;
}

function trainOn(model: 'simplecnn' | 'resnet18'): () => Promise<Trained> {
  return once(async () => {
    const root = await folder;
    const out = join(tempDir(), model);
    const r = await train({
      model, dataset: `folder:${root}`, imageSize: '32', batchSize: 16, epochs: 5, lambdaProto: 1, lambdaBatch: 1,
      // CE alone for the first 20 steps, as docs/method.md recommends (from step 0 the regularisers can hold a
      // model at chance); the regularisers then run for the remaining 80.
      camWarmupSteps: 20, lr: model === 'resnet18' ? 1e-3 : 3e-3, warmupSteps: 10, logEvery: 10, seed: 3, threads: 2,
    }, { outDir: out, quiet: true });
    const ck = readCheckpoint(join(out, 'checkpoint.safetensors'));
    for (const t of ck.tensors.values()) t.dispose();
    const trained = {
      root, out, imageShape: [...r.data.info.imageShape], classNames: [...r.data.info.classNames], step: r.position.step,
      accuracy: r.history[r.history.length - 1]!.testAccuracy!, checkpointData: ck.data,
    };
    r.model.dispose();
    r.bank?.dispose();
    return trained;
  });
}

const runs = { simplecnn: trainOn('simplecnn'), resnet18: trainOn('resnet18') };

for (const model of ['simplecnn', 'resnet18'] as const) {
  const run = runs[model];
  test(`${model} on an RGB 28×28 folder with --image-size 32: the data are 3×32×32 with the class folders' names, sorted`, LONG, async () => {
    const r = await run();
    assert.deepEqual(r.imageShape, [3, 32, 32]);
    assert.deepEqual(r.classNames, [...NAMES].sort());
  });

  test(`${model} trains 100 steps, logged every 10, with both regularisers on after the 20 CE-only warm-up steps`, LONG, async () => {
    const r = await run();
    assert.equal(r.step, 100);
    const s = steps(r.out);
    assert.equal(s.length, 10);
    for (const rec of s.slice(2)) assert.ok(rec.proto !== null && rec.batch !== null, `both regularisers are on at step ${rec.step}`);
  });

  test(`${model}: the total loss and CE of the last three logged windows are below those of the first three`, LONG, async () => {
    const s = steps((await run()).out);
    const first = s.slice(0, 3);
    const last = s.slice(-3);
    assert.ok(mean(last, 'loss') < mean(first, 'loss'), `total loss falls: ${mean(first, 'loss')} → ${mean(last, 'loss')}`);
    assert.ok(mean(last, 'ce') < mean(first, 'ce'), `CE falls: ${mean(first, 'ce')} → ${mean(last, 'ce')}`);
  });

  test(`${model} ends with test accuracy above 0.3 (chance is 0.1)`, LONG, async () => {
    const acc = (await run()).accuracy;
    assert.ok(acc > 0.3, `test accuracy ${acc} is well above chance (0.1)`);
  });

  test(`${model}'s checkpoint records what evaluate / explain / report need: dataset, image shape, class names, normalisation`, LONG, async () => {
    const r = await run();
    assert.deepEqual(r.checkpointData, { dataset: `folder:${r.root}`, imageShape: [3, 32, 32], classNames: [...NAMES].sort(), normalisation: null });
  });
}

/** evaluate, explain (by index and by file) and report of the SimpleCNN run, from its run directory alone, in that order. */
const fromRunDir = once(async () => {
  const { root, out } = await runs.simplecnn();
  const evaluate = cli(['evaluate', '--checkpoint', out, '--faithfulness-n', '20', '--quiet']);
  const explain = cli(['explain', '--checkpoint', out, '--indices', '0-3', '--out', join(out, 'ex')]);
  // The first test file of every class (a map can be empty, all-zero after the ReLU, for a single image).
  const images = readdirSync(join(root, 'test')).sort().map((c) => join(root, 'test', c, readdirSync(join(root, 'test', c)).sort()[0]!));
  const explainImage = cli(['explain', '--checkpoint', out, '--image', ...images, '--out', join(out, 'exi')]);
  const rep = cli(['report', out]);
  return { out, evaluate, explain, images, explainImage, report: rep };
});

test('evaluate from the run directory alone scores the 100 colour test images: RGB samples, accuracy above 0.3, finite metrics', LONG, async () => {
  const { out, evaluate } = await fromRunDir();
  assert.equal(evaluate.status, 0, evaluate.stderr);
  const evaluation = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
  assert.equal(evaluation.n, 100);
  assert.equal(evaluation.figures.meanImages[0].length, 32 * 32);
  assert.equal(evaluation.figures.samples[0].rgb.length, 3 * 32 * 32, 'colour samples carry their RGB planes');
  assert.ok(evaluation.accuracy > 0.3);
  assert.ok(Number.isFinite(evaluation.coherence.ssim.mean) && Number.isFinite(evaluation.faithfulness.deletionAuc));
});

test('explain --indices draws each colour test image in colour, at 32×32 upscaled 4×', LONG, async () => {
  const { out, explain } = await fromRunDir();
  assert.equal(explain.status, 0, explain.stderr);
  const strip = await sharp(join(out, 'ex', 'test-0.png')).metadata();
  assert.equal(strip.channels, 3);
  assert.equal(strip.height, 2 * 2 + 32 * 4, 'the strip is of the 32×32 input, upscaled 4×');
  // The input tile of a colour image is in colour (its channels differ).
  const px = await sharp(join(out, 'ex', 'test-0.png')).extract({ left: 2, top: 2, width: 128, height: 128 }).raw().toBuffer();
  let coloured = 0;
  for (let i = 0; i < px.length; i += 3) if (px[i] !== px[i + 1] || px[i + 1] !== px[i + 2]) coloured++;
  assert.ok(coloured > 100, `colour overlay input (${coloured} coloured pixels)`);
});

/**
 * The oracle for `explain --image`: each file decoded independently (sharp: RGB, Lanczos-3 to 32×32, as the run's
 * --image-size asks), the probabilities from the model's logits by a plain-JS softmax, and the CAMs by the per-sample
 * Grad-CAM loop (one backward per image), not the Batch-CAM that explain uses.
 */
const imageOracle = once(async () => {
  const { out, images } = await fromRunDir();
  const n = images.length;
  const px: Uint8Array[] = [];
  // Interleaved RGB → C×H×W planes in [0, 1] (the run has no normalisation).
  const x = new Float32Array(n * 3 * 1024);
  for (const [i, file] of images.entries()) {
    px.push(new Uint8Array(await sharp(file).removeAlpha().resize(32, 32, { fit: 'fill', kernel: 'lanczos3' }).toColourspace('srgb').raw().toBuffer()));
    for (let p = 0; p < 1024; p++) for (let k = 0; k < 3; k++) x[(i * 3 + k) * 1024 + p] = px[i]![p * 3 + k]! / 255;
  }
  const { model, config } = loadTrainedModel(out);
  const ref = torch.scope(() => {
    const xt = torch.fromArray(x, [n, 3, 32, 32]);
    const logits = torch.noGrad(() => model.forward(xt)).toFloat32();
    const { cams } = gradCamLoop(model, xt, null, { target: 'pred', layer: config.camLayer ?? model.defaultCamLayer, norm: config.camNorm });
    return { logits, cams: cams.toFloat32() };
  });
  model.dispose();
  const k = ref.logits.length / n;
  return images.map((_, i) => {
    const z = Array.from(ref.logits.subarray(i * k, (i + 1) * k));
    const top = Math.max(...z);
    const e = z.map((v) => Math.exp(v - top));
    const sum = e.reduce((a, b) => a + b, 0);
    return { px: px[i]!, probabilities: e.map((v) => v / sum), pred: z.indexOf(top), cam: ref.cams.subarray(i * 1024, (i + 1) * 1024) };
  });
});

/** The three 128×128 tiles (input | CAM | overlay) of an explanation strip of a 32×32 image at scale 4, as RGB bytes at 32×32. */
async function stripTiles(path: string): Promise<Uint8Array[]> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [3 * 128 + 4 * 2, 128 + 2 * 2, 3]);
  return [0, 1, 2].map((t) => {
    const tile = new Uint8Array(1024 * 3);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const o = ((2 + y * 4) * info.width + 2 + t * (128 + 2) + x * 4) * 3;
        tile.set(data.subarray(o, o + 3), (y * 32 + x) * 3);
      }
    }
    return tile;
  });
}

const stripOf = (out: string, image: string): string => join(out, 'exi', `${basename(image, '.png')}.png`);

test('explain --image writes exactly a strip per file, named for it, a grid per predicted class and explanations.json (no temp files)', LONG, async () => {
  const { out, images, explainImage } = await fromRunDir();
  assert.equal(explainImage.status, 0, explainImage.stderr);
  const s = JSON.parse(readFileSync(join(out, 'exi', 'explanations.json'), 'utf8'));
  assert.deepEqual(s.items.map((i: { source: string; file: string; label: unknown }) => [i.source, i.file, i.label]),
    images.map((f) => [f, `${basename(f, '.png')}.png`, null]));
  // Grids are named grid-images-class-<k>-<class name, other than [A-Za-z0-9._-] as _>.png.
  const sorted = [...NAMES].sort();
  const preds = [...new Set(s.items.map((i: { pred: number }) => i.pred) as number[])].sort((a, b) => a - b);
  const grids = preds.map((c) => `grid-images-class-${c}-${sorted[c]!.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`);
  assert.deepEqual(readdirSync(join(out, 'exi')).sort(), [...images.map((f) => `${basename(f, '.png')}.png`), 'explanations.json', ...grids].sort());
});

test('explain --image: each prediction and its probabilities equal a softmax of the model\'s logits on the independently decoded file (to 1e-6)', LONG, async () => {
  const { out, explainImage } = await fromRunDir();
  assert.equal(explainImage.status, 0, explainImage.stderr);
  const refs = await imageOracle();
  const items = JSON.parse(readFileSync(join(out, 'exi', 'explanations.json'), 'utf8')).items;
  assert.equal(items.length, refs.length);
  for (const [i, ref] of refs.entries()) {
    assert.equal(items[i].pred, ref.pred, `image ${i}`);
    assert.equal(items[i].target, ref.pred, `image ${i}`);
    assert.equal(items[i].probabilities.length, 10);
    // explanations.json rounds to 6 decimals (±5e-7); float32 softmax adds less than that.
    for (let c = 0; c < 10; c++) {
      assert.ok(Math.abs(items[i].probabilities[c] - ref.probabilities[c]!) <= 1e-6, `image ${i} class ${c}: ${items[i].probabilities[c]} vs ${ref.probabilities[c]}`);
    }
  }
});

test('explain --image: each strip\'s input tile is its file decoded to 32×32, pixel for pixel', LONG, async () => {
  const { out, images } = await fromRunDir();
  const refs = await imageOracle();
  for (const [i, image] of images.entries()) {
    const [input] = await stripTiles(stripOf(out, image));
    assert.deepEqual(input, refs[i]!.px, image);
  }
});

test('explain --image: each strip\'s CAM tile is jet of the per-sample Grad-CAM loop\'s map (±1 per channel for rounding at colour steps)', LONG, async (t) => {
  const { out, images } = await fromRunDir();
  const refs = await imageOracle();
  let shaped = 0;
  for (const [i, image] of images.entries()) {
    const [, cam] = await stripTiles(stripOf(out, image));
    const ref = refs[i]!.cam;
    let worst = 0;
    for (let p = 0; p < 1024; p++) {
      const want = report.jet(ref[p]!);
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(cam![p * 3 + c]! - want[c]!));
    }
    assert.ok(worst <= 1, `${image}: largest channel difference ${worst}`);
    if (Math.max(...ref) > Math.min(...ref)) shaped++;
  }
  t.diagnostic(`${shaped} of ${images.length} Grad-CAM maps are not flat`);
  // Some maps have a shape: the comparison says something about where the CAMs look, not only that both are empty.
  assert.ok(shaped > 0, 'every Grad-CAM map is flat');
});

test('report from the run directory alone writes report.html with its figures', LONG, async () => {
  const { out, report: rep } = await fromRunDir();
  assert.equal(rep.status, 0, rep.stderr);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.ok((html.match(/<img /g) ?? []).length > 10, 'the report has its figures');
});

/** The same streamed config run whole in memory, and SIGKILLed mid-run then resumed. */
const killedAndResumed = once(async () => {
  const root = await folder;
  const args = ['--dataset', `folder:${root}`, '--image-size', '32', '--channels', '3', '--batch-size', '32', '--epochs', '4',
    '--lambda-proto', '1', '--lambda-batch', '0.5', '--checkpoint-every', '2', '--log-every', '4', '--seed', '5', '--quiet',
    // Augmented, so the resumed run must also redraw every crop, flip and jitter as the uninterrupted one did.
    '--augment', '--color-jitter', '0.4,0.4,0.4', '--normalize', 'dataset'];
  const whole = join(tempDir(), 'whole');
  const broken = join(tempDir(), 'broken');
  // The uninterrupted run holds the images in memory; the killed and resumed one decodes them per batch in worker threads.
  const wholeCode = await runTrainCli([...args, '--stream', 'off', '--out', whole]);
  const killedCode = await runTrainCli([...args, '--stream', 'on', '--out', broken], Math.floor(Math.random() * 800), broken);
  const before = readCheckpoint(join(broken, 'checkpoint.safetensors'));
  for (const t of before.tensors.values()) t.dispose();
  const resumedCode = await runTrainCli(['--out', broken, '--resume', '--quiet']);
  return { whole, broken, wholeCode, killedCode, killedAt: before.position.step, resumedCode };
});

test('a streamed folder run SIGKILLed mid-way leaves a checkpoint between steps 1 and 40', LONG, async () => {
  const r = await killedAndResumed();
  assert.equal(r.killedCode, null, 'the run was killed mid-way');
  assert.ok(r.killedAt > 0 && r.killedAt < 40, `killed between steps 1 and 40 (at ${r.killedAt})`);
});

test('the killed streamed run resumed with --resume alone finishes, still streaming', LONG, async () => {
  const r = await killedAndResumed();
  assert.equal(r.resumedCode, 0);
  assert.equal(JSON.parse(readFileSync(join(r.broken, 'config.json'), 'utf8')).stream, 'on', 'the resumed run streamed');
});

test('the killed and resumed augmented streamed run ends with checkpoint and weights bit-identical to an uninterrupted in-memory run', LONG, async () => {
  const r = await killedAndResumed();
  assert.equal(r.wholeCode, 0);
  assert.equal(r.resumedCode, 0);
  for (const f of ['checkpoint.safetensors', 'model.safetensors']) {
    const a = loadSafetensors(join(r.whole, f));
    const b = loadSafetensors(join(r.broken, f));
    assert.deepEqual([...a.tensors.keys()].sort(), [...b.tensors.keys()].sort());
    for (const [k, t] of a.tensors) {
      assert.ok(Buffer.from(t.data().buffer).equals(Buffer.from(b.tensors.get(k)!.data().buffer)), `${f}: ${k} differs`);
    }
    for (const t of [...a.tensors.values(), ...b.tensors.values()]) t.dispose();
  }
});

test('the killed and resumed streamed run logs the uninterrupted run\'s steps.jsonl, throughput aside', LONG, async () => {
  const r = await killedAndResumed();
  assert.equal(r.resumedCode, 0);
  assert.equal(readFileSync(join(r.whole, 'steps.jsonl'), 'utf8').replace(/"imagesPerSecond":[^,}]+/g, ''),
    readFileSync(join(r.broken, 'steps.jsonl'), 'utf8').replace(/"imagesPerSecond":[^,}]+/g, ''));
});
