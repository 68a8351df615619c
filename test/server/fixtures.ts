import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { train } from '../../src/train/trainer.js';
import { cliPath } from '../helpers/cli.js';

/** A served directory holding one tiny finished run (SimpleCNN, 2 steps, a timeline record per step) under `runs/`. */
export async function servedDir(): Promise<{ root: string; dir: string; run: string }> {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-serve-'));
  const dir = join(root, 'runs');
  const run = join(dir, 'tiny');
  await train({ trainLimit: 100, testLimit: 50, batchSize: 50, probeEvery: 1, probesPerClass: 1, logEvery: 1, seed: 1 }, { outDir: run, quiet: true });
  return { root, dir, run };
}

/**
 * A real (tiny) experiment at `dir`/grid, written by `batchcam experiment` itself (a few seconds): SimpleCNN on 100
 * MNIST images, one epoch of two steps, three settings (CE, prototype, batch) whose maps and metrics differ, one seed.
 * Its runs lie five levels below `dir`, deeper than the catalog looks, so serving `dir` lists the experiment only.
 */
export function tinyExperiment(dir: string): string {
  const out = join(dir, 'grid');
  const config = join(dirname(dir), 'grid.json');
  writeFileSync(config, JSON.stringify({
    name: 'grid', base: { epochs: 1, batchSize: 50, trainLimit: 100, testLimit: 50, threads: 1, warmupSteps: 1, logEvery: 1, probeEvery: 0 },
    models: ['simplecnn'], datasets: ['mnist'],
    settings: [{ name: 'ce' }, { name: 'proto', lambdaProto: 1, distance: 'ssim' }, { name: 'batch', lambdaBatch: 1, distance: 'ssim' }],
    seeds: [0], evaluate: { testLimit: 50, faithfulnessN: 10, steps: 4 },
  }));
  const r = spawnSync(process.execPath, [cliPath(), 'experiment', '--config', config, '--out', out, '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`batchcam experiment failed (${r.status}): ${r.stderr}`);
  return out;
}

/** A PNG of a digit-like blob, 28×28 grey. */
export async function digitPng(): Promise<Buffer> {
  const px = Buffer.alloc(28 * 28);
  for (let y = 6; y < 22; y++) for (let x = 11; x < 17; x++) px[y * 28 + x] = 230;
  return sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
}

function crc32(b: Buffer): number {
  let c = ~0;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const t = Buffer.from(type, 'ascii');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([t, data])));
  return Buffer.concat([len, t, data, crc]);
}

/**
 * A decompression bomb: a valid PNG header saying 60000×60000 grey pixels (3.6 gigapixels) over a few KiB of
 * compressed zeros. Decoding it would take gigabytes; the pixel limit must refuse it from the header.
 */
export function bombPng(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(60000, 0);
  ihdr.writeUInt32BE(60000, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  const rows = deflateSync(Buffer.alloc(60001 * 64));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0))]);
}

/** A JPEG cut off half-way. */
export async function truncatedJpeg(): Promise<Buffer> {
  const px = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37) % 251;
  const jpeg = await sharp(px, { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
  return jpeg.subarray(0, Math.floor(jpeg.length / 2));
}
