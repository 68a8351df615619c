// The CUDA checks of scripts/device-check.sh (run on a GPU machine after building the addon against a CUDA
// libtorch; `npm test` does not run this file). UNVERIFIED: written without a GPU. Each check compares the GPU
// against an independent computation: the per-sample Grad-CAM loop, and the same training on the CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../dist/src/torch/index.js';
import { createModel } from '../dist/src/models/index.js';
import { batchCam, gradCamLoop } from '../dist/src/cam/index.js';
import { loadDataset } from '../dist/src/data/load.js';
import { train } from '../dist/src/train/trainer.js';
import { loadSafetensors } from '../dist/src/nn/safetensors.js';

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

test('NCCL: this build says it has none, and --dist-backend nccl says so (NCCL is not bound yet)', () => {
  assert.equal(T.distBackends().nccl, false);
  assert.throws(() => T.ProcessGroup.create({ host: '127.0.0.1', port: 29555, rank: 0, worldSize: 1, backend: 'nccl' }), /no NCCL process group/);
});
