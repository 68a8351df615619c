import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as T from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { loadPretrained, PretrainedError } from '../../src/models/pretrained.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';
import { EXIT_CODES } from '../../src/errors.js';
import { PYTHON, pyScript } from '../helpers/python.js';
import { cliPath } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'batchcam-pretrained-'));

/** torchvision's seeded ResNet written as safetensors (test/py/torchvision_weights.py), with its logits on `inputs`' x. */
function torchvisionFile(depth: number, name: string, ...flags: string[]): { weights: string; inputs: string; logits: number[] } {
  const weights = join(dir, `${name}.safetensors`);
  const inputs = join(dir, `${name}-x.safetensors`);
  const out = execFileSync(PYTHON, [pyScript('torchvision_weights.py'), String(depth), weights, inputs, ...flags], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { weights, inputs, logits: (JSON.parse(out) as { logits: number[] }).logits };
}

const tv18 = torchvisionFile(18, 'tv18');

function maxDiff(a: number[], b: number[]): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

test('torchvision ResNet-18 weights loaded with their 1000 classes give torchvision\'s logits', () => {
  const model = createModel('resnet18-imagenet', 1000, { inputShape: [3, 64, 64] });
  const report = loadPretrained(model, tv18.weights);
  assert.deepEqual(report.notes, []);
  model.eval();
  const x = loadSafetensors(tv18.inputs).tensors.get('x')!;
  const logits = T.noGrad(() => model.forward(x)).toArray();
  assert.ok(maxDiff(logits, tv18.logits) < 1e-4, `max logit difference ${maxDiff(logits, tv18.logits)}`);
  model.dispose();
});

test('a 10-class model keeps a fresh head, says so, and takes every other tensor from the file', () => {
  T.manualSeed(3);
  const model = createModel('resnet18-imagenet', 10, { inputShape: [3, 64, 64] });
  const freshFc = model.stateDict().get('fc.weight')!.clone();
  const report = loadPretrained(model, tv18.weights);
  assert.match(report.notes.join('\n'), /classifier head fc \(1000 classes in .*\) replaced by a new one for 10 classes/);
  const file = loadSafetensors(tv18.weights).tensors;
  for (const [k, t] of model.stateDict()) {
    const want = k.startsWith('fc.') ? (k === 'fc.weight' ? freshFc : null) : file.get(k)!;
    if (want) assert.ok(T.noGrad(() => t.eq(want).all().item()), `${k} differs`);
  }
  model.dispose();
});

test('a one-channel model gets the RGB stem kernels summed over the input channels', () => {
  const model = createModel('resnet18-imagenet', 10, { inputShape: [1, 64, 64] });
  const report = loadPretrained(model, tv18.weights);
  assert.match(report.notes.join('\n'), /conv1\.weight: RGB kernels summed/);
  const rgb = loadSafetensors(tv18.weights).tensors.get('conv1.weight')!;
  const summed = T.noGrad(() => rgb.sum([1], true));
  const got = model.stateDict().get('conv1.weight')!;
  assert.ok(maxDiff(got.toArray(), summed.toArray()) < 1e-6);
  model.dispose();
});

test('keys saved with nn.DataParallel\'s module. prefix and without num_batches_tracked load to the same logits', () => {
  const f = torchvisionFile(18, 'tv18-wrapped', '--prefix', 'module.', '--drop-num-batches-tracked');
  const model = createModel('resnet18-imagenet', 1000, { inputShape: [3, 64, 64] });
  loadPretrained(model, f.weights);
  model.eval();
  const logits = T.noGrad(() => model.forward(loadSafetensors(f.inputs).tensors.get('x')!)).toArray();
  assert.ok(maxDiff(logits, f.logits) < 1e-4);
  model.dispose();
});

test('ConvNeXt-V2 atto weights with timm\'s key names load into convnextv2-atto-imagenet and give the official model\'s logits', () => {
  const weights = join(dir, 'cnx-timm.safetensors');
  const inputs = join(dir, 'cnx-timm-x.safetensors');
  const out = execFileSync(PYTHON, [pyScript('convnext_timm_weights.py'), 'atto', weights, inputs], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const want = (JSON.parse(out) as { logits: number[] }).logits;
  const model = createModel('convnextv2-atto-imagenet', 1000, { inputShape: [3, 64, 64] });
  loadPretrained(model, weights);
  model.eval();
  const logits = T.noGrad(() => model.forward(loadSafetensors(inputs).tensors.get('x')!)).toArray();
  assert.ok(maxDiff(logits, want) < 1e-4, `max logit difference ${maxDiff(logits, want)}`);
  model.dispose();
});

test('ResNet-50 weights into a ResNet-18 stop with the unexpected keys and shape mismatches listed, the model untouched', () => {
  const tv50 = torchvisionFile(50, 'tv50');
  T.manualSeed(5);
  const model = createModel('resnet18-imagenet', 10, { inputShape: [3, 64, 64] });
  const before = model.stateDict().get('layer1.0.conv1.weight')!.clone();
  assert.throws(() => loadPretrained(model, tv50.weights), (e: Error) => e instanceof PretrainedError &&
    /does not fit --model's architecture: .*unexpected keys \(\d+\): .*conv3.*shape mismatches/.test(e.message));
  assert.ok(T.noGrad(() => model.stateDict().get('layer1.0.conv1.weight')!.eq(before).all().item()));
  model.dispose();
});

test('a truncated file and a file that is not safetensors each stop with a PretrainedError naming the file', () => {
  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, readFileSync(tv18.weights).subarray(0, 5000));
  const pth = join(dir, 'weights.pth');
  writeFileSync(pth, Buffer.from('PK\x03\x04 a zip archive, as torch.save writes'));
  for (const f of [cut, pth]) {
    const model = createModel('resnet18-imagenet', 10, { inputShape: [3, 64, 64] });
    assert.throws(() => loadPretrained(model, f), (e: Error) => e instanceof PretrainedError && e.message.includes(f) && /safetensors/.test(e.message));
    model.dispose();
  }
});

test('batchcam train --pretrained with a file that does not fit exits 4 with one line and writes nothing', () => {
  const out = join(dir, 'run');
  const r = spawnSync(process.execPath, [cliPath(), 'train', '--model', 'simplecnn', '--pretrained', tv18.weights, '--train-limit', '64',
    '--test-limit', '64', '--out', out, '--quiet'], { encoding: 'utf8' });
  assert.equal(r.status, EXIT_CODES.storage, r.stderr);
  assert.match(r.stderr, /--pretrained .*tv18\.safetensors does not fit --model's architecture: missing keys/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.equal(existsSync(out), false);
});
