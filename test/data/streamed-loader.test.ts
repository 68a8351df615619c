import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTrainingData } from '../../src/data/load-dataset.js';
import type { LoadedDataset } from '../../src/data/dataset.js';
import { DataLoader } from '../../src/data/batching/data-loader.js';
import { StreamedLoader } from '../../src/data/streaming/streamed-loader.js';
import { isStreamed, type StreamedDataset } from '../../src/data/streaming/streamed-split.js';
import { DataError } from '../../src/errors.js';
import { tempDir } from './fixtures.js';
import { realImages, writeColourPngs, writeGreyPngs } from './user-data.js';

/**
 * The streamed loader (worker threads decoding each batch from disk) against the in-memory path, on folders built
 * from the real MNIST test images: the same batches, bit for bit, in every epoch and from any start batch.
 */

const N_TRAIN = 250;
const N_TEST = 50;

async function greyFolder(): Promise<string> {
  const { images, labels } = await realImages('mnist', 'test', N_TRAIN + N_TEST);
  const root = tempDir();
  await writeGreyPngs(join(root, 'train'), images.subarray(0, N_TRAIN * 784), labels.subarray(0, N_TRAIN), 0);
  await writeGreyPngs(join(root, 'test'), images.subarray(N_TRAIN * 784), labels.subarray(N_TRAIN), N_TRAIN);
  return root;
}

async function colourFolder(): Promise<string> {
  const { images, labels } = await realImages('mnist', 'test', N_TRAIN);
  const root = tempDir();
  await writeColourPngs(root, images, labels, ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'], 4);
  return root;
}

const grey = greyFolder();
const colour = colourFolder();

/** Every batch of epochs 0 and 1 (and epoch 1 from batch 3 on) streamed equals the in-memory loader's, bit for bit. */
async function assertSameBatches(memory: LoadedDataset, streamed: StreamedDataset, batchSize: number): Promise<void> {
  assert.equal(streamed.train.n, memory.train.n);
  assert.deepEqual(streamed.train.imageShape, memory.train.imageShape);
  assert.deepEqual(streamed.train.classes, memory.train.classes);
  assert.deepEqual(streamed.normalisation, memory.normalisation);
  assert.ok(Buffer.from(streamed.test.images.buffer).equals(Buffer.from(memory.test.images.buffer)), 'test split');
  const mem = new DataLoader(memory.train, { batchSize, shuffle: true, seed: 11 });
  const str = new StreamedLoader(streamed.train, { batchSize, shuffle: true, seed: 11, workers: 2, prefetch: 3 });
  try {
    assert.equal(str.numBatches, mem.numBatches);
    for (const [epoch, start] of [[0, 0], [1, 0], [1, 3]] as const) {
      let b = start;
      for await (const got of str.batches(epoch, start)) {
        const want = mem.batch(epoch, b);
        assert.deepEqual([got.epoch, got.batchIndex, got.size, got.shape], [want.epoch, want.batchIndex, want.size, want.shape]);
        assert.deepEqual(got.indices, want.indices, `epoch ${epoch} batch ${b}: order`);
        assert.deepEqual(got.y, want.y);
        assert.ok(Buffer.from(got.x.buffer).equals(Buffer.from(want.x.buffer)), `epoch ${epoch} batch ${b}: pixels differ`);
        b++;
      }
      assert.equal(b, mem.numBatches, `epoch ${epoch}: every batch came`);
    }
  } finally {
    await str.close();
  }
}

test('a grey PNG folder of real MNIST test images streams the very batches the in-memory path holds', async () => {
  const root = await grey;
  const memory = await loadTrainingData(`folder:${root}`, { stream: 'off' });
  const streamed = await loadTrainingData(`folder:${root}`, { stream: 'on' });
  assert.ok(!isStreamed(memory) && isStreamed(streamed));
  assert.deepEqual(streamed.train.sources.slice(0, 2), memory.train.sources!.slice(0, 2));
  await assertSameBatches(memory as LoadedDataset, streamed as StreamedDataset, 32);
});

test('an RGB folder resized to 32×24 and standardised streams identically, statistics from the workers equal', async () => {
  const root = await colour;
  const o = { imageSize: [32, 24] as const, channels: 3 as const, standardise: true, testFraction: 0.2, trainLimit: 150 };
  const memory = await loadTrainingData(`folder:${root}`, { ...o, stream: 'off' }) as LoadedDataset;
  const streamed = await loadTrainingData(`folder:${root}`, { ...o, stream: 'on' }) as StreamedDataset;
  assert.deepEqual(streamed.train.imageShape, [3, 32, 24]);
  assert.equal(streamed.train.n, 150, 'the stratified subset');
  assert.deepEqual(streamed.trainStats, memory.trainStats, 'statistics of the full training split, by histogram');
  assert.ok(memory.normalisation!.std.every((v) => v > 0));
  await assertSameBatches(memory, streamed, 20);
});

test('auto holds a small folder in memory; the batch size need not divide the split', async () => {
  const root = await grey;
  const auto = await loadTrainingData(`folder:${root}`, {});
  assert.ok(!isStreamed(auto), 'a 250-image folder is far below the 1 GiB threshold');
  const streamed = await loadTrainingData(`folder:${root}`, { stream: 'on' }) as StreamedDataset;
  const str = new StreamedLoader(streamed.train, { batchSize: 64, dropLast: true, workers: 1, prefetch: 1 });
  const sizes: number[] = [];
  for await (const b of str.batches(0)) sizes.push(b.size);
  await str.close();
  assert.deepEqual(sizes, [64, 64, 64], 'dropLast: 250 → three batches of 64');
});

test('a file corrupted after loading fails its batch mid-epoch with a DataError naming it', async () => {
  const root = await colourFolder();
  const streamed = await loadTrainingData(`folder:${root}`, { stream: 'on', testFraction: 0.2 }) as StreamedDataset;
  const str = new StreamedLoader(streamed.train, { batchSize: 10, workers: 2, prefetch: 2 });
  // Batch 5 (in epoch 0's order, unshuffled) holds sample 52: truncate its file.
  const victim = streamed.train.sources[52]!;
  writeFileSync(victim, readFileSync(victim).subarray(0, 60));
  let seen = 0;
  await assert.rejects(async () => {
    for await (const b of str.batches(0)) {
      assert.ok(b.batchIndex < 5, 'the batches before it arrive');
      seen++;
    }
  }, (e: Error) => e instanceof DataError && e.message.startsWith(`${victim}: cannot decode this image`) && /replace it or remove it/.test(e.message));
  assert.equal(seen, 5);
  await str.close();
});

const moduleUrl = (p: string): string => new URL(`../../src/data/${p}`, import.meta.url).href;

test('a process that stops iterating without closing the loader still exits (idle workers hold nothing open)', async () => {
  const root = await grey;
  // A child that loads, takes two batches, and neither closes the loader nor exits explicitly.
  const script = `
    const { loadTrainingData } = await import(${JSON.stringify(moduleUrl('load-dataset.js'))});
    const { StreamedLoader } = await import(${JSON.stringify(moduleUrl('streaming/streamed-loader.js'))});
    const d = await loadTrainingData(process.argv[1], { stream: 'on' });
    const l = new StreamedLoader(d.train, { batchSize: 16, workers: 2, prefetch: 4 });
    let k = 0;
    for await (const b of l.batches(0)) if (++k === 2) break;
    console.log('took', k);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, `folder:${root}`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, null, 'the child exited by itself (no worker kept it alive)');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /took 2/);
});
