import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { batchCam } from '../../src/cam/index.js';
import { saveSafetensors } from '../../src/nn/safetensors.js';
import { pyScript, PYTHON } from '../helpers/python.js';

const dir = mkdtempSync(join(tmpdir(), 'batchcam-parity-'));

// The 28-px models against their PyTorch definitions (test/py/models_ref.py); the ImageNet ResNets against
// torchvision's own and the ImageNet ConvNeXt-V2 against the official layout re-written there, at 64 px (CAM layer
// 2×2) to stay quick.
const CASES: [string, [number, number, number]][] = [
  ['simplecnn', [1, 28, 28]], ['resnet18', [1, 28, 28]], ['convnextv2-atto', [1, 28, 28]], ['convnextv2-tiny', [1, 28, 28]],
  ['resnet18-imagenet', [3, 64, 64]], ['resnet34-imagenet', [3, 64, 64]], ['resnet50-imagenet', [3, 64, 64]],
  ['convnextv2-atto-imagenet', [3, 64, 64]], ['convnextv2-nano-imagenet', [3, 64, 64]],
];

for (const [name, shape] of CASES) {
  test(`${name}: parameter count, logits and Batch-CAM equal ${name.startsWith('resnet') && name.endsWith('-imagenet') ? 'torchvision\'s' : 'PyTorch\'s'} on identical weights`, () => {
    T.manualSeed(7);
    const model = createModel(name, 10, { inputShape: shape });
    // Non-trivial batch-norm statistics and GRN/LayerNorm parameters, so eval mode is not an identity there.
    T.noGrad(() => {
      for (const [k, t] of model.stateDict()) {
        if (/running_var|grn\.(gamma|beta)|norm\.weight/.test(k)) t.copy_(T.rand(t.shape).add(0.5));
        if (/running_mean/.test(k)) t.copy_(T.randn(t.shape).mul(0.1));
      }
    });
    model.eval();
    const x = T.rand([4, ...shape]);
    const y = T.tensor([3, 1, 4, 1], [4], { dtype: 'int64' });
    const weights = join(dir, `${name}.safetensors`);
    const inputs = join(dir, `${name}-in.safetensors`);
    saveSafetensors(weights, model.stateDict());
    saveSafetensors(inputs, new Map([['x', x], ['y', y]]));
    const py = JSON.parse(execFileSync(PYTHON, [pyScript('model_parity.py'), name, weights, inputs], { encoding: 'utf8', maxBuffer: 1 << 26 })) as
      { params: number; logits: number[]; cams: number[] };
    assert.equal(model.parameterCount(), py.params);
    const logits = T.noGrad(() => model.forward(x)).toArray();
    assert.equal(logits.length, py.logits.length);
    logits.forEach((v, i) => assert.ok(Math.abs(v - py.logits[i]!) < 1e-4, `logit ${i}: ${v} vs ${py.logits[i]}`));
    const cams = batchCam(model, x, y).cams.toArray();
    let worst = 0;
    cams.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - py.cams[i]!)); });
    assert.ok(worst < 1e-4, `CAM max difference ${worst}`);
    model.dispose();
  });
}
