import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { createModel } from '../../src/models/index.js';
import { PYTHON, pyScript } from '../helpers/python.js';

/** Every model at its own input size and at one more, odd where the strides allow (97 px: a ceil/floor off by one shows). */
const CASES: [string, [number, number, number]][] = [
  ['simplecnn', [1, 28, 28]],
  ['resnet18', [1, 28, 28]], ['resnet18', [1, 33, 33]],
  ['convnextv2-atto', [1, 28, 28]], ['convnextv2-atto', [1, 33, 33]],
  ['resnet18-imagenet', [3, 224, 224]], ['resnet18-imagenet', [3, 97, 97]],
  ['resnet50-imagenet', [3, 224, 224]], ['resnet50-imagenet', [3, 97, 97]],
  ['convnextv2-atto-imagenet', [3, 224, 224]], ['convnextv2-atto-imagenet', [3, 97, 97]],
];

/** The reference models' forward MACs for one image, counted by hooks on their Conv2d and Linear (test/py/model_macs.py). */
function hookCountedMacs(): number[] {
  const out = execFileSync(PYTHON, [pyScript('model_macs.py'), ...CASES.map(([n, s]) => `${n}:${s.join(':')}`)], { encoding: 'utf8' });
  return JSON.parse(out) as number[];
}

test("every model's macsAt equals the reference model's hook-counted forward MACs at its input size and at an odd one (what bench's GFLOP/s divide by)", () => {
  const expected = hookCountedMacs();
  const ours = CASES.map(([name, shape]) => {
    const model = createModel(name, 10, { inputShape: shape });
    try {
      return model.macsAt(shape[1], shape[2]);
    } finally {
      model.dispose();
    }
  });
  assert.deepEqual(CASES.map(([n, s], i) => `${n}@${s[1]}: ${ours[i]}`), CASES.map(([n, s], i) => `${n}@${s[1]}: ${expected[i]}`));
});
