import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { jet } from '../../src/report/colormap.js';
import { upscale, toRgb } from '../../src/report/image-grid.js';
import { encodePng } from '../../src/report/png.js';
import sharp from 'sharp';
import { tempDir } from './fixtures.js';
import { pillow, pillowAvailable } from './python-png.js';

// explain needs the native libtorch addon and the MNIST files; a missing one fails the prerequisite test below.
let skip: string | false = false;
let mods: {
  train: typeof import('../../src/train/trainer.js');
  cmd: typeof import('../../src/cli/explain-command.js');
  cam: typeof import('../../src/cam/batch-cam.js');
  load: typeof import('../../src/train/trained-model.js');
  torch: typeof import('../../src/torch/index.js');
  data: typeof import('../../src/data/index.js');
} | undefined;
try {
  mods = {
    train: await import('../../src/train/trainer.js'),
    cmd: await import('../../src/cli/explain-command.js'),
    cam: await import('../../src/cam/batch-cam.js'),
    load: await import('../../src/train/trained-model.js'),
    torch: await import('../../src/torch/index.js'),
    data: await import('../../src/data/index.js'),
  };
  await mods.data.loadDataset('mnist', { trainLimit: 10, testLimit: 10 });
} catch (err) {
  skip = `explain prerequisites unavailable: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
}

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const SCALE = 4;
const TILE = 28 * SCALE;

/** Runs a function with console.log captured. */
async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; out: string[] }> {
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  try {
    return { value: await fn(), out };
  } finally {
    console.log = log;
  }
}

/** A PNG file decoded by sharp: size, channels and interleaved bytes. */
async function decodePng(path: string): Promise<{ width: number; height: number; channels: number; data: Uint8Array }> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data) };
}

/** The CAM tile (middle of input | CAM | overlay) of a strip, as RGB bytes per 28×28 pixel. */
async function camTile(path: string): Promise<Uint8Array> {
  const png = await decodePng(path);
  assert.deepEqual([png.width, png.height, png.channels], [3 * TILE + 4 * 2, TILE + 2 * 2, 3]);
  const out = new Uint8Array(784 * 3);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const o = ((2 + y * SCALE) * png.width + (2 + TILE + 2 + x * SCALE)) * 3;
      out.set(png.data.subarray(o, o + 3), (y * 28 + x) * 3);
    }
  }
  return out;
}

describe('explain prerequisites', () => {
  it('the addon, MNIST and Pillow are available (they are installed by scripts/setup.sh)', () => {
    assert.equal(skip, false, String(skip));
    assert.ok(pillowAvailable, 'apt-get install python3-pil');
  });
});

describe('batchcam explain', { timeout: 300_000 }, () => {
  let run: string;
  before(async () => {
    run = join(tempDir(), 'run');
    await mods!.train.train({ dataset: 'mnist', trainLimit: 200, testLimit: 50, epochs: 1, batchSize: 50, threads: 1 }, { outDir: run, quiet: true });
  });

  it('explains test images by index: strips, per-class grids and explanations.json matching Batch-CAM', async () => {
    const out = join(tempDir(), 'ex');
    const idx = [0, 1, 2, 3, 7];
    await quietly(() => mods!.cmd.explainCommand(['--checkpoint', join(run, 'checkpoint.safetensors'), '--indices', '0-3,7', '--out', out]));
    const summary = JSON.parse(readFileSync(join(out, 'explanations.json'), 'utf8'));
    assert.equal(summary.items.length, idx.length);
    assert.equal(summary.layer, 'conv2');
    assert.equal(summary.target, 'pred');

    const { torch, data, cam, load } = mods!;
    const ds = await data.loadDataset('mnist', { trainLimit: 10 });
    const { model } = load.loadTrainedModel(run);
    const x = new Float32Array(idx.length * 784);
    idx.forEach((i, k) => x.set(ds.test.images.subarray(i * 784, (i + 1) * 784), k * 784));
    const ref = torch.scope(() => {
      const r = cam.batchCam(model, torch.fromArray(x, [idx.length, 1, 28, 28]), null, { target: 'pred' });
      return { cams: r.cams.toFloat32(), preds: r.logits.argmax(1).toArray() };
    });
    for (const [k, i] of idx.entries()) {
      const item = summary.items[k];
      assert.equal(item.index, i);
      assert.equal(item.label, ds.test.classes[i]);
      assert.equal(item.pred, ref.preds[k]);
      assert.equal(item.target, ref.preds[k]);
      assert.ok(Math.abs(item.probabilities.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-4);
      // The figure's CAM tile is jet of the very map batchCam gives (±1 for float rounding at colour boundaries).
      const tile = await camTile(join(out, item.file));
      for (let p = 0; p < 784; p++) {
        const want = jet(ref.cams[k * 784 + p]!);
        for (let c = 0; c < 3; c++) assert.ok(Math.abs(tile[p * 3 + c]! - want[c]!) <= 1, `image ${i} pixel ${p}`);
      }
    }
    const labels = new Set(idx.map((i) => ds.test.classes[i]!));
    assert.equal(summary.grids.length, labels.size);
    for (const g of summary.grids) {
      assert.ok(labels.has(g.class));
      const png = await decodePng(join(out, g.file));
      assert.equal(png.width, g.items * TILE + (g.items + 1) * 2);
    }
    model.dispose();
  });

  for (const standardise of [false, true]) {
    it(`explains PNG files (RGB) exactly like the same dataset image${standardise ? ' (standardised run)' : ''}`, async () => {
      const { data } = mods!;
      let model = run;
      if (standardise) {
        // Inputs from files must be standardised with the training statistics, as the dataset images are.
        model = join(tempDir(), 'run-std');
        await mods!.train.train({ dataset: 'mnist', trainLimit: 100, testLimit: 20, epochs: 1, batchSize: 50, threads: 1, standardise: true },
          { outDir: model, quiet: true });
      }
      const ds = await data.loadDataset('mnist', { trainLimit: 10 });
      const dir = tempDir();
      const grey = { width: 28, height: 28, channels: 1 as const, data: ds.test.pixels.slice(5 * 784, 6 * 784) };
      // A grey image saved as RGB at the model's size: decoding it (sharp) recovers the dataset image exactly.
      writeFileSync(join(dir, 'five.png'), await encodePng(toRgb(grey)));
      const out = join(tempDir(), 'ex');
      await quietly(() => mods!.cmd.explainCommand(['--checkpoint', model, '--image', join(dir, 'five.png'), '--out', out]));
      const outIdx = join(tempDir(), 'ex2');
      await quietly(() => mods!.cmd.explainCommand(['--checkpoint', model, '--indices', '5', '--out', outIdx]));
      const a = JSON.parse(readFileSync(join(out, 'explanations.json'), 'utf8')).items[0];
      const b = JSON.parse(readFileSync(join(outIdx, 'explanations.json'), 'utf8')).items[0];
      assert.equal(a.file, 'five.png');
      assert.equal(a.label, null);
      assert.equal(a.pred, b.pred);
      assert.deepEqual(a.probabilities, b.probabilities);
      assert.deepEqual(readFileSync(join(out, 'five.png')), readFileSync(join(outIdx, 'test-5.png')));
    });
  }

  it('--target label explains the label; --layer is checked', async () => {
    const out = join(tempDir(), 'ex');
    await quietly(() => mods!.cmd.explainCommand(['--checkpoint', run, '--indices', '0,1', '--target', 'label', '--out', out]));
    const s = JSON.parse(readFileSync(join(out, 'explanations.json'), 'utf8'));
    for (const it of s.items) assert.equal(it.target, it.label);
    await assert.rejects(mods!.cmd.explainCommand(['--checkpoint', run, '--indices', '0', '--layer', 'nope', '--out', out]), /--layer: .*no layer 'nope'; choose one of/);
    await assert.rejects(mods!.cmd.explainCommand(['--checkpoint', run, '--indices', '99999', '--out', out]), /--indices: 99999 out of range/);
    await assert.rejects(mods!.cmd.explainCommand(['--checkpoint', run, '--image', 'a.png', '--target', 'label']), /--target label needs --indices/);
    await assert.rejects(mods!.cmd.explainCommand(['--checkpoint', run]), /either --indices or --image/);
    await assert.rejects(mods!.cmd.explainCommand(['--indices', '1']), /--checkpoint is required/);
    assert.throws(() => mods!.cmd.parseIndices('3-1'), /runs backwards/);
    assert.deepEqual(mods!.cmd.parseIndices('4, 1-3,2'), [4, 1, 2, 3]);
  });

  it('CLI: rejects a truncated PNG with one clear line (exit 2, a bad argument), writes nothing', () => {
    const dir = tempDir();
    const good = join(dir, 'good.png');
    pillow("Image.new('L', (28, 28), 200).save(sys.argv[1])", good);
    const bad = join(dir, 'deep.png');
    writeFileSync(bad, readFileSync(good).subarray(0, 40));
    const out = join(dir, 'out');
    const r = spawnSync(process.execPath, [CLI, 'explain', '--checkpoint', run, '--image', bad, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^batchcam explain: --image .*deep\.png: cannot decode this image .*corrupt, truncated or not a PNG, JPEG or WebP/);
    assert.equal(existsSync(out), false);
  });

  /** Two PNG files (a bar, and the same bar at twice the size) explained by the CLI from model.safetensors. */
  let twoFiles: Promise<{ out: string; r: SpawnSyncReturns<string> }> | undefined;
  const explainTwoFiles = (): Promise<{ out: string; r: SpawnSyncReturns<string> }> => (twoFiles ??= (async () => {
    const dir = tempDir();
    const a = join(dir, 'a.png');
    const b = join(dir, 'b.png');
    const blank = { width: 28, height: 28, channels: 1 as const, data: new Uint8Array(784) };
    const bar = { ...blank, data: Uint8Array.from({ length: 784 }, (_, i) => (i % 28 >= 12 && i % 28 < 16 ? 255 : 0)) };
    writeFileSync(a, await encodePng(bar));
    writeFileSync(b, await encodePng(upscale(bar, 2)));
    const out = join(dir, 'out');
    const r = spawnSync(process.execPath, [CLI, 'explain', '--checkpoint', join(run, 'model.safetensors'), '--image', a, b, '--out', out], { encoding: 'utf8' });
    return { out, r };
  })());

  it('CLI: explains several PNG files with model.safetensors and groups grids by prediction', async () => {
    const { out, r } = await explainTwoFiles();
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(readFileSync(join(out, 'explanations.json'), 'utf8'));
    assert.deepEqual(s.items.map((i: { file: string }) => i.file), ['a.png', 'b.png']);
    assert.equal(s.items[0].pred, s.items[1].pred); // the same picture at two sizes
    assert.equal(s.grids.length, 1);
    assert.equal(s.grids[0].class, s.items[0].pred);
    assert.match(r.stdout, /explanations written to/);
  });

  it('CLI: several PNG files write exactly a strip per file, the grid of their predicted class and explanations.json', async () => {
    const { out, r } = await explainTwoFiles();
    assert.equal(r.status, 0, r.stderr);
    const pred = JSON.parse(readFileSync(join(out, 'explanations.json'), 'utf8')).items[0].pred;
    // MNIST's class names are its digits, so the grid's name carries no class name.
    assert.deepEqual(readdirSync(out).sort(), ['a.png', 'b.png', 'explanations.json', `grid-images-class-${pred}.png`]);
  });
});
