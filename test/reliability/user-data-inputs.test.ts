import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { EXIT_CODES } from '../../src/errors.js';
import { cliPath } from '../helpers/cli.js';
import { OptionError, resolveConfig } from '../../src/train/options.js';
import { tempDir } from '../data/fixtures.js';
import { realImages, writeGreyPngs } from '../data/user-data.js';

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

test('SIGINT during a streamed run: the step finishes, exit 130 with the resume command, the workers end with the process', async () => {
  const root = await folder(() => undefined);
  const out = join(tempDir(), 'run');
  const args = [cliPath(), 'train', '--dataset', `folder:${root}`, '--stream', 'on', '--batch-size', '4', '--epochs', '40',
    '--checkpoint-every', '2', '--log-every', '0', '--out', out, '--quiet'];
  const ended = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
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
  assert.equal(ended.code, EXIT_CODES.interrupted, ended.err);
  assert.match(ended.err, /batchcam train --out .* --resume/);
  const r = spawnSync(process.execPath, [cliPath(), 'train', '--out', out, '--resume', '--quiet'], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.signal, null);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(out, 'model.safetensors')), 'the resumed run finished');
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
