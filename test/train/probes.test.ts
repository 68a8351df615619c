import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/train/trainer.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';
import { probeIndices } from '../../src/train/probes.js';
import {
  encodeProbeRecord, probeRecordBytes, probeSteps, readProbeIndex, readProbeRecord, truncateProbeLog, type ProbeIndex,
} from '../../src/train/run/probe-log.js';
import type { StepRecord } from '../../src/train/run/step-log.js';
import { runTrainCli } from '../helpers/cli.js';

/** ResNet18 (28 px) has BatchNorm, SimpleCNN's dropout draws from libtorch's generator when not keyed: both would show a probe that touched them. */
const SMALL = {
  model: 'resnet18', trainLimit: 160, testLimit: 50, batchSize: 16, epochs: 1, lambdaProto: 1, logEvery: 2, checkpointEvery: 4, seed: 3,
};

const stripRate = (path: string): Omit<StepRecord, 'imagesPerSecond'>[] => readFileSync(path, 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as StepRecord).map(({ imagesPerSecond: _i, ...rest }) => rest);

function sameTensorFile(a: string, b: string): void {
  const x = loadSafetensors(a).tensors;
  const y = loadSafetensors(b).tensors;
  assert.deepEqual([...x.keys()].sort(), [...y.keys()].sort(), 'same tensors');
  for (const [k, t] of x) assert.deepEqual(Buffer.from(t.data().buffer), Buffer.from(y.get(k)!.data().buffer), `${a}: ${k} differs`);
}

test('a run with probes ends with weights, bank, optimiser, RNG state and steps.jsonl bit-identical to one without', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-probes-'));
  const off = join(root, 'off');
  const on = join(root, 'on');
  await train({ ...SMALL, probeEvery: 0 }, { outDir: off, quiet: true });
  await train({ ...SMALL, probeEvery: 3 }, { outDir: on, quiet: true });
  // The checkpoint holds the model (BatchNorm running statistics included), the bank, the optimiser and libtorch's RNG state.
  sameTensorFile(join(off, 'checkpoint.safetensors'), join(on, 'checkpoint.safetensors'));
  sameTensorFile(join(off, 'model.safetensors'), join(on, 'model.safetensors'));
  assert.deepEqual(stripRate(join(on, 'steps.jsonl')), stripRate(join(off, 'steps.jsonl')));
  const index = readProbeIndex(join(on, 'probes.json'))!;
  assert.deepEqual(probeSteps(join(on, 'probes.bin'), index), [0, 3, 6, 9, 10], 'probes at step 0, every 3 steps and the last');
});

test('the probe set is a seeded draw of the same number of test images of each class, in class order', () => {
  const labels = Array.from({ length: 200 }, (_, i) => (i * 7) % 10);
  const a = probeIndices(labels, 10, 3, 1);
  assert.deepEqual(a.map((i) => labels[i]), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9]);
  assert.deepEqual(probeIndices(labels, 10, 3, 1), a, 'same seed, same set');
  assert.notDeepEqual(probeIndices(labels, 10, 3, 2), a, 'another seed, another set');
  assert.equal(new Set(a).size, a.length, 'no image twice');
});

test('resuming cuts probes.bin after the checkpoint\'s step, torn record included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchcam-probelog-'));
  const paths = { probeIndex: join(dir, 'probes.json'), probeRecords: join(dir, 'probes.bin') };
  const index = { n: 2, height: 3, width: 3, recordBytes: probeRecordBytes(2, 3, 3) } as ProbeIndex;
  const rec = (step: number): Buffer => encodeProbeRecord({
    step, epoch: 1, pred: Uint16Array.from([1, 2]), pPred: Float32Array.from([0.5, 0.25]), pLabel: Float32Array.from([0.5, 0.125]),
    cams: Uint8Array.from({ length: 18 }, (_, i) => i * step),
  }, index);
  writeFileSync(paths.probeRecords, Buffer.concat([rec(0), rec(5), rec(10)]));
  appendFileSync(paths.probeRecords, rec(15).subarray(0, 7)); // a kill mid-append
  assert.deepEqual(probeSteps(paths.probeRecords, index), [0, 5, 10], 'a torn record is not read');
  assert.equal(truncateProbeLog(paths, index, 7), 5);
  assert.equal(statSync(paths.probeRecords).size, 2 * index.recordBytes);
  const r = readProbeRecord(paths.probeRecords, index, 1)!;
  assert.deepEqual([r.step, [...r.pred], [...r.pLabel], [...r.cams]], [5, [1, 2], [0.5, 0.125], Array.from({ length: 18 }, (_, i) => i * 5)]);
});

const CLI = ['--train-limit', '640', '--test-limit', '100', '--batch-size', '32', '--epochs', '1', '--lambda-batch', '0.5',
  '--checkpoint-every', '4', '--log-every', '2', '--probe-every', '3', '--seed', '4', '--quiet'];

test('a run with probes killed with SIGKILL and resumed has the same timeline as an uninterrupted one', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-probes-kill-'));
  const whole = join(root, 'whole');
  const broken = join(root, 'broken');
  assert.equal(await runTrainCli([...CLI, '--out', whole]), 0);
  // Killed a random few ms after one of step-log lines 3–5 (steps 6–10 of 20): after the first checkpoint (step 4).
  const lines = 3 + Math.floor(Math.random() * 3);
  assert.equal(await runTrainCli([...CLI, '--out', broken], { lines, delayMs: Math.floor(Math.random() * 40) }, broken), null, 'killed');
  assert.equal(await runTrainCli([...CLI, '--out', broken, '--resume']), 0, 'resumed');
  assert.equal(readFileSync(join(broken, 'probes.json'), 'utf8'), readFileSync(join(whole, 'probes.json'), 'utf8'));
  assert.ok(readFileSync(join(broken, 'probes.bin')).equals(readFileSync(join(whole, 'probes.bin'))), 'probes.bin byte-identical');
  const index = readProbeIndex(join(whole, 'probes.json'))!;
  assert.deepEqual(probeSteps(join(whole, 'probes.bin'), index), [0, 3, 6, 9, 12, 15, 18, 20]);
});
