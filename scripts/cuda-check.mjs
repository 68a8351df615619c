// The CUDA checks of scripts/device-check.sh (run on a GPU machine after building the addon against a CUDA
// libtorch; `npm test` does not run this file). UNVERIFIED: written without a GPU. Each check compares the GPU
// against an independent computation: the per-sample Grad-CAM loop, the same training and evaluation on the CPU,
// and NCCL collectives (1 GPU) against their known results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../dist/src/torch/index.js';
import { createModel } from '../dist/src/models/index.js';
import { batchCam, gradCamLoop } from '../dist/src/cam/index.js';
import { loadDataset } from '../dist/src/data/load-dataset.js';
import { train } from '../dist/src/train/trainer.js';
import { loadSafetensors } from '../dist/src/nn/safetensors.js';
import { evaluateCheckpoint } from '../dist/src/experiment/evaluate-checkpoint.js';

const device = process.env.BATCHCAM_CUDA_DEVICE ?? 'cuda';

test('this libtorch has CUDA', () => {
  assert.equal(T.cudaAvailable(), true, `libtorch ${T.torchConfig().version} reports no CUDA device`);
});

test('Batch-CAM on the GPU equals the per-sample Grad-CAM loop on the GPU (1e-5), and the CPU Batch-CAM (1e-4)', async () => {
  const data = await loadDataset('mnist', { testLimit: 100, trainLimit: 100 });
  for (const name of ['simplecnn', 'resnet18', 'convnextv2-atto']) {
    T.scope(() => {
      T.manualSeed(3);
      const model = createModel(name).eval();
      const x = T.fromArray(data.test.images.subarray(0, 16 * 784), [16, 1, 28, 28]);
      const y = T.fromArray(data.test.labels.subarray(0, 16), [16]);
      const cpu = batchCam(model, x, y).cams;
      model.toDevice(device);
      const xg = x.toDevice(device);
      const yg = y.toDevice(device);
      const fast = batchCam(model, xg, yg).cams;
      const slow = gradCamLoop(model, xg, yg).cams;
      assert.match(fast.device, /^cuda/);
      const d1 = fast.sub(slow).abs().amax().item();
      const d2 = fast.to('cpu').sub(cpu).abs().amax().item();
      console.log(`${name}: GPU batch vs GPU loop ${d1.toExponential(2)}, GPU vs CPU ${d2.toExponential(2)}`);
      assert.ok(d1 < 1e-5, `${name}: ${d1}`);
      assert.ok(d2 < 1e-4, `${name}: ${d2}`);
      model.dispose();
    });
  }
});

test('training on the GPU (CE + Prototype + Batch-CAM Loss, 3 SGD steps) ends with the CPU run\'s weights and bank (1e-4); its checkpoint loads on the CPU', async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-cuda-'));
  const cfg = { trainLimit: 192, testLimit: 20, batchSize: 64, lambdaProto: 1, lambdaBatch: 1, optimizer: 'sgd', lr: 0.05, warmupSteps: 0 };
  await train({ ...cfg, device: 'cpu' }, { outDir: join(root, 'cpu'), quiet: true });
  const gpu = await train({ ...cfg, device }, { outDir: join(root, 'gpu'), quiet: true });
  assert.match(gpu.model.device, /^cuda/);
  assert.match(gpu.bank.device, /^cuda/);
  const a = loadSafetensors(join(root, 'cpu', 'checkpoint.safetensors')).tensors;
  const b = loadSafetensors(join(root, 'gpu', 'checkpoint.safetensors')).tensors;
  let worst = 0;
  for (const [k, t] of a) {
    if (!k.startsWith('model.') && !k.startsWith('bank.')) continue;
    worst = Math.max(worst, T.scope(() => t.to('float64').sub(b.get(k).to('float64')).abs().amax().item()));
  }
  console.log(`GPU vs CPU training: max |Δ| ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-4, `GPU vs CPU training differ by ${worst}`);
});

test('evaluate on the GPU equals evaluate on the CPU (accuracy exactly, the CAM metrics to 1e-4); explain runs there too', async () => {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-cuda-eval-'));
  await train({ trainLimit: 192, testLimit: 50, batchSize: 64, lambdaProto: 1, optimizer: 'sgd', lr: 0.05, warmupSteps: 0, device: 'cpu' },
    { outDir: root, quiet: true });
  const ck = join(root, 'checkpoint.safetensors');
  const o = { testLimit: 50, faithfulnessN: 20 };
  const cpu = (await evaluateCheckpoint(ck, { ...o, device: 'cpu' })).evaluation;
  const gpu = (await evaluateCheckpoint(ck, { ...o, device })).evaluation;
  assert.equal(gpu.accuracy, cpu.accuracy);
  const pairs = [
    ['coherence ssim', cpu.coherence.ssim.mean, gpu.coherence.ssim.mean],
    ['coherence l2', cpu.coherence.l2.mean, gpu.coherence.l2.mean],
    ['reconstruction l1', cpu.reconstruction.l1.mean, gpu.reconstruction.l1.mean],
    ['map contrast', cpu.maps.contrast.mean, gpu.maps.contrast.mean],
    ['deletion AUC', cpu.faithfulness.deletionAuc, gpu.faithfulness.deletionAuc],
    ['insertion AUC', cpu.faithfulness.insertionAuc, gpu.faithfulness.insertionAuc],
    ['average drop', cpu.faithfulness.averageDrop, gpu.faithfulness.averageDrop],
  ];
  for (const [what, a, b] of pairs) {
    console.log(`evaluate ${what}: CPU ${a} GPU ${b}`);
    assert.ok(Math.abs(a - b) < 1e-4, `${what}: CPU ${a} vs GPU ${b}`);
  }
});

test('NCCL: this build has it, and a 1-GPU ProcessGroupNCCL all-reduces, broadcasts and all-gathers on the GPU', () => {
  assert.equal(T.distBackends().nccl, true, 'the addon was built without USE_C10D_NCCL (see native/configure.cjs output)');
  const pg = T.ProcessGroup.create({ host: '127.0.0.1', port: 29555, rank: 0, worldSize: 1, backend: 'nccl', timeoutMs: 30_000 });
  try {
    T.scope(() => {
      const a = T.tensor([1, 2, 3], [3], { device });
      pg.allReduce([a]);
      assert.match(a.device, /^cuda/);
      assert.deepEqual(a.toArray(), [1, 2, 3]); // world 1: the sum is itself
      const b = T.tensor([4, 5], [2], { device });
      const c = T.tensor([6], [1], { device });
      pg.allReduce([b, c]); // coalesced
      assert.deepEqual([...b.toArray(), ...c.toArray()], [4, 5, 6]);
      pg.broadcast([a], 0);
      const g = pg.allGather(a);
      assert.equal(g.length, 1);
      assert.deepEqual(g[0].toArray(), [1, 2, 3]);
      const x = T.tensor([2, 3], [2], { device, requiresGrad: true });
      const s = pg.allReduceSum(x).mul(x).sum();
      s.backward();
      assert.deepEqual(x.grad.toArray(), [4, 6]);
      pg.barrier();
    });
  } finally {
    pg.destroy();
  }
});
