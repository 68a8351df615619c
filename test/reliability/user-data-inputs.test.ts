import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { EXIT_CODES } from '../../src/errors.js';
import { cliPath } from '../helpers/cli.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';
import { OptionError, resolveConfig } from '../../src/train/options.js';
import { tempDir } from '../data/fixtures.js';
import { realImages, writeGreyPngs } from '../data/user-data.js';
import { once } from '../helpers/once.js';

/** A folder of 30 real MNIST PNGs in DIR/train and DIR/test, then spoilt by `spoil`. */
async function folder(spoil: (root: string) => void | Promise<void>): Promise<string> {
  const { images, labels } = await realImages('mnist', 'test', 30);
  const root = tempDir();
  await writeGreyPngs(join(root, 'train'), images.subarray(0, 20 * 784), labels.subarray(0, 20));
  await writeGreyPngs(join(root, 'test'), images.subarray(20 * 784), labels.subarray(20), 20);
  await spoil(root);
  return root;
}

const CASES: { name: string; spoil: (root: string) => void | Promise<void>; re: RegExp; spec?: (root: string) => string; code?: number }[] = [
  { name: 'an empty class folder', spoil: (r) => mkdirSync(join(r, 'train', 'empty')), re: /train\/empty: class folder holds no images \(.*\); add images or remove the folder/ },
  { name: 'a corrupt image', spoil: (r) => writeFileSync(join(r, 'train', '1', 'x.png'), 'garbage'), re: /train\/1\/x\.png: cannot decode this image/ },
  {
    name: 'a truncated image',
    spoil: (r) => writeFileSync(join(r, 'train', '1', 'y.png'), readFileSync(join(r, 'train', '1', '00002.png')).subarray(0, 50)),
    re: /train\/1\/y\.png: cannot decode this image .*replace it or remove it/,
  },
  { name: 'a non-image file', spoil: (r) => writeFileSync(join(r, 'test', '1', 'labels.csv'), '1,2'), re: /test\/1\/labels\.csv: not an image .*remove it/ },
  {
    name: 'mixed sizes without --image-size',
    spoil: async (r) => writeFileSync(join(r, 'train', '1', 'big.png'), await sharp({ create: { width: 30, height: 30, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png().toBuffer()),
    re: /images differ in size .*pass --image-size H\[xW\]/,
  },
  {
    name: 'a class in test but not in train',
    spoil: (r) => { mkdirSync(join(r, 'test', 'z')); writeFileSync(join(r, 'test', 'z', 'a.png'), readFileSync(join(r, 'train', '1', '00002.png'))); },
    re: /test\/z: class "z" is in test\/ but not in train\//,
  },
  {
    name: 'a folder with one class',
    spoil: (r) => { mkdirSync(join(r, 'solo', 'only'), { recursive: true }); writeFileSync(join(r, 'solo', 'only', 'a.png'), readFileSync(join(r, 'train', '1', '00002.png'))); },
    spec: (r) => `folder:${join(r, 'solo')}`,
    re: /solo: expected at least two class folders, found 1 \(only\); a classifier needs two or more classes: add a folder per class/,
  },
  { name: 'unknown spec syntax', spoil: () => undefined, spec: () => 'images:/data', re: /--dataset: unknown dataset "images:\/data": expected one of .*folder:DIR/, code: EXIT_CODES.usage },
];

for (const c of CASES) {
  test(`batchcam train on ${c.name}: one message naming the file and the fix, a non-zero exit, nothing written`, async () => {
    const root = await folder(c.spoil);
    const out = join(tempDir(), 'run');
    const r = spawnSync(process.execPath, [cliPath(), 'train', '--dataset', c.spec ? c.spec(root) : `folder:${root}`, '--out', out, '--quiet'],
      { encoding: 'utf8' });
    assert.equal(r.status, c.code ?? EXIT_CODES.data, r.stderr);
    assert.match(r.stderr, c.re);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.equal(existsSync(out), false, 'nothing written');
  });
}

test('a streamed run meeting a truncated image mid-epoch stops with one line naming the file (exit 3), workers and all', async () => {
  // Truncated after its header: probing the header passes, so with --stream on the file fails only when its batch is
  // decoded, during training; held in memory (--stream off) the same folder is refused before anything is written.
  const root = await folder((r) => writeFileSync(join(r, 'train', '3', 'cut.png'), readFileSync(join(r, 'train', '1', '00002.png')).subarray(0, 60)));
  const bad = join(root, 'train', '3', 'cut.png');
  for (const stream of ['on', 'off']) {
    const out = join(tempDir(), `run-${stream}`);
    const r = spawnSync(process.execPath, [cliPath(), 'train', '--dataset', `folder:${root}`, '--stream', stream, '--batch-size', '4',
      '--epochs', '2', '--checkpoint-every', '1', '--out', out, '--quiet'], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.signal, null, `--stream ${stream}: the process ended by itself`);
    assert.equal(r.status, EXIT_CODES.data, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.ok(r.stderr.includes(`${bad}: cannot decode this image`), r.stderr);
    assert.match(r.stderr, /replace it or remove it from the folder/);
    if (stream === 'off') assert.equal(existsSync(out), false, 'held in memory, the file is found before anything is written');
  }
});

/** A streamed run of 20 images for 4 epochs (20 steps, checkpoint every 2, a step-log line every 5). */
const streamed = once(async () => {
  const root = await folder(() => undefined);
  return (out: string): string[] => [cliPath(), 'train', '--dataset', `folder:${root}`, '--stream', 'on', '--batch-size', '4', '--epochs', '4',
    '--checkpoint-every', '2', '--log-every', '5', '--out', out, '--quiet'];
});

/** The streamed run, sent SIGINT once its first checkpoint exists, then resumed with the printed command. */
const interrupted = once(async () => {
  const args = await streamed();
  const out = join(tempDir(), 'run');
  const ended = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const child = spawn(process.execPath, args(out), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const poll = setInterval(() => {
      if (existsSync(join(out, 'checkpoint.safetensors'))) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 10);
    // A worker left running would keep the process alive: then this test times out.
    child.on('exit', (code) => { clearInterval(poll); setTimeout(() => resolve({ code, err }), 50); });
  });
  const unfinished = !existsSync(join(out, 'model.safetensors'));
  const resumed = spawnSync(process.execPath, [cliPath(), 'train', '--out', out, '--resume', '--quiet'], { encoding: 'utf8', timeout: 300_000 });
  return { out, ended, unfinished, resumed };
});

/** The same config run to the end without a signal. */
const uninterrupted = once(async () => {
  const args = await streamed();
  const out = join(tempDir(), 'whole');
  const r = spawnSync(process.execPath, args(out), { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  return out;
});

/** steps.jsonl / metrics.jsonl without the wall-clock fields. */
function records(dir: string, file: string): unknown[] {
  return readFileSync(join(dir, file), 'utf8').trim().split('\n').map((l) => {
    const { seconds: _s, imagesPerSecond: _i, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return rest;
  });
}

test('SIGINT during a streamed run: exit 130 naming the resume command, the run unfinished, the decode workers ending with the process', async () => {
  const { ended, unfinished } = await interrupted();
  assert.equal(ended.code, EXIT_CODES.interrupted, ended.err);
  assert.match(ended.err, /batchcam train --out .* --resume/);
  assert.ok(unfinished, 'no model.safetensors: the run stopped mid-way');
});

test('a streamed run interrupted by SIGINT and resumed ends with weights and checkpoint bit-identical to the uninterrupted run', async () => {
  const { out, resumed } = await interrupted();
  assert.equal(resumed.signal, null);
  assert.equal(resumed.status, 0, resumed.stderr);
  const whole = await uninterrupted();
  assert.deepEqual(readFileSync(join(out, 'model.safetensors')), readFileSync(join(whole, 'model.safetensors')), 'model.safetensors byte for byte');
  const a = loadSafetensors(join(whole, 'checkpoint.safetensors')).tensors;
  const b = loadSafetensors(join(out, 'checkpoint.safetensors')).tensors;
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [k, t] of a) assert.ok(Buffer.from(t.data().buffer).equals(Buffer.from(b.get(k)!.data().buffer)), `checkpoint: ${k} differs`);
  for (const t of [...a.values(), ...b.values()]) t.dispose();
});

test('a streamed run interrupted by SIGINT and resumed logs the uninterrupted run\'s losses: steps.jsonl and metrics.jsonl, timings aside', async () => {
  const { out, resumed } = await interrupted();
  assert.equal(resumed.status, 0, resumed.stderr);
  const whole = await uninterrupted();
  assert.equal(records(whole, 'steps.jsonl').length, 4);
  assert.deepEqual(records(out, 'steps.jsonl'), records(whole, 'steps.jsonl'));
  assert.deepEqual(records(out, 'metrics.jsonl'), records(whole, 'metrics.jsonl'));
});

test('--stream on is refused where nothing can stream: built-in and idx: sets, image prototypes', () => {
  const refused = (partial: Record<string, unknown>, re: RegExp): void =>
    assert.throws(() => resolveConfig(partial), (e: Error) => e instanceof OptionError && re.test(e.message));
  refused({ dataset: 'mnist', stream: 'on' }, /--stream on streams folder:DIR datasets; mnist is always held in memory/);
  refused({ dataset: 'idx:/data/kmnist', stream: 'on' }, /--stream on streams folder:DIR datasets; idx:\/data\/kmnist is always held/);
  refused({ dataset: 'folder:/data/x', stream: 'on', prototypeSource: 'image-median' }, /--prototype-source image-median reduces every training image up front.*--stream off/);
  refused({ dataset: 'folder:/data/x', stream: 'sometimes' }, /stream/);
  assert.equal(resolveConfig({ dataset: 'folder:/data/x', stream: 'on' }).stream, 'on');
  assert.equal(resolveConfig({ dataset: 'mnist' }).stream, 'auto');
});
