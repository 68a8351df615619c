import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { groupAccuracy } from '../../src/eval/group-accuracy.js';
import { loadDataset } from '../../src/data/load-dataset.js';
import type { LoadedDataset } from '../../src/data/dataset.js';
import { offline } from '../data/fixtures.js';

describe('group accuracy', () => {
  let biased: LoadedDataset;
  before(async () => {
    biased = await loadDataset('biased-mnist:0.997', { ...offline(), trainLimit: 10 });
  });

  it('scores a model that predicts the background colour 0 in the worst group and 1 on bias-aligned samples', () => {
    const t = biased.test;
    const g = groupAccuracy(t.bias!.attributes, t.classes, t.bias!.attributes, 10);
    assert.equal(g.worstGroup, 0);
    assert.equal(g.aligned, 1);
    assert.equal(g.conflicting, 0);
    assert.equal(g.groups, 100);
  });

  it('scores a perfect model 1 in every group', () => {
    const t = biased.test;
    const g = groupAccuracy(t.classes, t.classes, t.bias!.attributes, 10);
    assert.deepEqual([g.worstGroup, g.aligned, g.conflicting], [1, 1, 1]);
  });

  it('finds the lowest-accuracy group of a hand-counted case', () => {
    // groups (class, attribute): (0,0) 1 of 2 right, (0,1) 1/1, (1,1) 1/1, (1,0) 0/1 → worst (1,0) at 0.
    // aligned: samples 0, 1, 3 → 2/3; conflicting: samples 2, 4 → 1/2.
    const g = groupAccuracy([0, 1, 0, 1, 0], [0, 0, 0, 1, 1], [0, 0, 1, 1, 0], 2);
    assert.deepEqual(g.worst, { label: 1, attribute: 0, n: 1 });
    assert.equal(g.worstGroup, 0);
    assert.equal(g.aligned, 2 / 3);
    assert.equal(g.conflicting, 1 / 2);
    assert.equal(g.groups, 4);
  });

  it('reports no bias-aligned accuracy on ColorMNIST\'s test split, where every sample conflicts', async () => {
    const data = await loadDataset('color-mnist', { ...offline(), trainLimit: 10, testLimit: 100 });
    const g = groupAccuracy(data.test.classes, data.test.classes, data.test.bias!.attributes, 10);
    assert.ok(Number.isNaN(g.aligned));
    assert.equal(g.groups, 10);
  });
});
