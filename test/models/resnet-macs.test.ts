import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { createModel } from '../../src/models/index.js';
import { ResNet } from '../../src/models/resnet.js';
import { PYTHON, pyScript } from '../helpers/python.js';

/** torchvision's forward MACs for one 3×size×size image, counted by hooks (test/py/resnet_macs.py). */
function torchvisionMacs(depth: number, size: number, classes: number): number {
  const out = execFileSync(PYTHON, [pyScript('resnet_macs.py'), String(depth), String(size), String(classes)], { encoding: 'utf8' });
  return (JSON.parse(out) as { macs: number }).macs;
}

for (const depth of [18, 50] as const) {
  test(`ResNet-${depth}'s macsAt equals torchvision's hook-counted forward MACs at 224 and at 97 px (what bench's GFLOP/s divide by)`, () => {
    const model = createModel(`resnet${depth}-imagenet`, 10, { inputShape: [3, 224, 224] });
    try {
      assert.ok(model instanceof ResNet);
      assert.equal(model.macsAt(224, 224), torchvisionMacs(depth, 224, 10));
      assert.equal(model.macsAt(97, 97), torchvisionMacs(depth, 97, 10));
    } finally {
      model.dispose();
    }
  });
}
