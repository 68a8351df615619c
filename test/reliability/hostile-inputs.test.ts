import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/data/errors.js';
import { decompressIfGzip, encodeIdx, parseIdx } from '../../src/data/formats/idx.js';
import { Rng } from '../../src/data/sampling/rng.js';
import * as T from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { TRAIN_OPTIONS } from '../../src/train/options.js';
import { readCheckpoint, restoreCheckpoint } from '../../src/train/run/checkpoint.js';
import { train } from '../../src/train/trainer.js';
import { cliPath } from '../helpers/cli.js';

function mutate(rng: Rng, src: Uint8Array): Uint8Array {
  const b = Uint8Array.from(src);
  switch (rng.int(5)) {
    case 0: return b.subarray(0, rng.int(b.length)); // truncation
    case 1: { // bit flips, header-biased
      for (let k = 0; k < 1 + rng.int(4); k++) { const i = rng.bool() ? rng.int(16) : rng.int(b.length); b[i]! ^= 1 << rng.int(8); }
      return b;
    }
    case 2: { // an oversized or zero dimension
      const view = new DataView(b.buffer);
      view.setUint32(4 + 4 * rng.int(3), rng.bool() ? 0xffffffff : rng.int(1 << 20));
      return b;
    }
    case 3: { b[2] = rng.int(256); return b; } // unknown dtype code
    default: { // trailing garbage
      const out = new Uint8Array(b.length + 1 + rng.int(64));
      out.set(b);
      return out;
    }
  }
}

test('IDX fuzz: truncations, bit flips, oversized dims, unknown dtypes, gzip damage — always a DataError, never a crash or hang', () => {
  const rng = Rng.fromSeed(2024);
  const pixels = new Uint8Array(6 * 5 * 4).map((_, i) => i % 251);
  const good = encodeIdx('uint8', [6, 5, 4], pixels);
  assert.equal(parseIdx(good, 'good.idx').data.length, 120);
  let rejected = 0;
  const t0 = performance.now();
  for (let i = 0; i < 3000; i++) {
    const bad = mutate(rng, good);
    const gz = i % 3 === 0;
    const bytes = gz ? mutate(rng, gzipSync(bad)) : bad;
    try {
      parseIdx(decompressIfGzip(bytes, `case-${i}`), `case-${i}`, { dtype: 'uint8', dims: [6, 5, 4] });
    } catch (e) {
      assert.ok(e instanceof DataError, `case ${i}: ${(e as Error).name}: ${(e as Error).message}`);
      assert.match((e as Error).message, new RegExp(`case-${i}`), 'the message names the file');
      rejected++;
    }
  }
  assert.ok(rejected > 2500, `${rejected} of 3000 damaged files rejected`);
  assert.ok(performance.now() - t0 < 20_000, 'bounded time');
});

test('a checkpoint of another model or class count is refused by key and shape', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchcam-foreign-'));
  await train({ trainLimit: 100, testLimit: 50, batchSize: 50 }, { outDir: dir, quiet: true });
  const ck = readCheckpoint(join(dir, 'checkpoint.safetensors'));
  assert.throws(() => restoreCheckpoint(ck, { model: createModel('simplecnn', 5) }, 'ck'),
    /holds a 'simplecnn' checkpoint that does not fit this SimpleCNN \(5 classes\).*key 'fc2.weight': expected shape \[5,128\], found \[10,128\]/);
  assert.throws(() => restoreCheckpoint(ck, { model: createModel('resnet18') }, 'ck'),
    /does not fit this ResNet18 \(10 classes\).*key 'conv1.weight': expected shape \[64,1,3,3\], found \[32,1,3,3\]; missing key 'bn1.weight'/);
  // A safetensors file that is not a batchcam checkpoint says what it is not.
  const foreign = join(dir, 'foreign.safetensors');
  const { saveSafetensors } = await import('../../src/nn/safetensors.js');
  saveSafetensors(foreign, new Map([['w', T.ones([2])]]));
  assert.throws(() => readCheckpoint(foreign), /is not a batchcam checkpoint/);
  writeFileSync(join(dir, 'garbage.safetensors'), Buffer.from('not a safetensors file at all'));
  assert.throws(() => readCheckpoint(join(dir, 'garbage.safetensors')), /garbage\.safetensors/);
});

function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('every bad option gets one message naming the option and what it accepts, exit 2, and nothing written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchcam-badopt-'));
  const out = join(dir, 'run');
  const cases: [string[], RegExp][] = [
    [['--model', 'vgg'], /--model: got "vgg", expected simplecnn\|resnet18\|convnextv2-atto\|convnextv2-tiny/],
    [['--distance', 'cosine'], /--distance: got "cosine", expected l1\|l2\|ssim/],
    [['--epochs', '0'], /--epochs: got "0", expected an integer in \[1, inf\]/],
    [['--batch-size', '2.5'], /--batch-size: got "2.5", expected an integer/],
    [['--lambda-proto', '-1'], /--lambda-proto: got "-1", expected a number in \[0, inf\]/],
    [['--lr', 'fast'], /--lr: got "fast", expected a number/],
    [['--cam-grad', 'third-order'], /--cam-grad: got "third-order", expected second-order\|detached/],
    [['--prototype-momentum', '1.5'], /--prototype-momentum: got "1.5", expected a number in \[0, 1\]/],
    [['--frobnicate'], /unknown option --frobnicate/],
    [['--epochs'], /--epochs needs a value/],
    [['--lambda-batch', '1', '--cam-warmup-epochs', '1'], /--cam-warmup-epochs 1 leaves no epoch for the regularisers \(--epochs 1\)/],
    [['--device', 'tpu'], /--device: got 'tpu', expected cpu or cuda\[:N\]/],
  ];
  for (const [args, re] of cases) {
    const r = cli('train', ...args, '--out', out);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.err}`);
    assert.match(r.err, re, args.join(' '));
    assert.equal(r.err.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.err}`);
  }
  assert.deepEqual(readdirSync(dir), [], 'nothing was written');
  const cfg = join(dir, 'bad.json');
  writeFileSync(cfg, JSON.stringify({ lambdaProto: 1, distanse: 'l1' }));
  assert.match(cli('train', '--config', cfg, '--out', out).err, /--config .*bad\.json: unknown option 'distanse'/);
  assert.equal(cli('nonsense').code, 2);
});

test('--help lists every training option with its default', () => {
  const r = cli('train', '--help');
  assert.equal(r.code, 0);
  for (const s of TRAIN_OPTIONS) {
    assert.match(r.out, new RegExp(`--${s.flag} `), s.flag);
    assert.ok(r.out.includes(`default ${JSON.stringify(s.def)}]`), `${s.flag} default`);
  }
  // …and the README documents the same options and defaults.
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  for (const s of TRAIN_OPTIONS) assert.ok(readme.includes(`| \`--${s.flag}\` | \`${JSON.stringify(s.def)}\` |`), `README row for --${s.flag}`);
});
