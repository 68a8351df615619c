import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../../src/index.js';
import * as models from '../../src/models/index.js';
import * as cam from '../../src/cam/index.js';
import * as losses from '../../src/losses/index.js';
import * as experiment from '../../src/experiment/index.js';
import * as options from '../../src/config/option-spec.js';
import * as trainOptions from '../../src/train/options.js';
import * as trainer from '../../src/train/trainer.js';
import * as testPass from '../../src/train/test-pass.js';
import * as nn from '../../src/nn/index.js';
import * as evaluation from '../../src/eval/index.js';
import * as report from '../../src/report/index.js';
import { PrototypeBank } from '../../src/losses/prototype-bank.js';
import { AdamW } from '../../src/nn/adamw.js';
import { saveSafetensors } from '../../src/nn/safetensors.js';
import { runExperiment } from '../../src/experiment/run-grid.js';
import { writeReport } from '../../src/report/report.js';

test('the public API re-exports each floor without a name exported twice or shadowed', () => {
  // The floors exported flat: every one of their names is in the index, as the same value.
  const flat: Record<string, object> = { models, cam, losses, experiment };
  const owner = new Map<string, string>();
  for (const [floor, mod] of Object.entries(flat)) {
    for (const [name, value] of Object.entries(mod)) {
      assert.ok(!owner.has(name), `'${name}' is exported by both ${owner.get(name)} and ${floor}`);
      owner.set(name, floor);
      assert.equal((api as Record<string, unknown>)[name], value, `${floor}'s '${name}' is the index's`);
    }
  }
  // The names picked from train/ and config/ are theirs, and collide with no flat floor.
  const picked: [string, object][] = [
    ['train', trainer], ['evaluateAccuracy', testPass], ['resolveConfig', trainOptions], ['TRAIN_OPTIONS', trainOptions],
    ['OptionError', options], ['resolveOptions', options],
  ];
  for (const [name, mod] of picked) {
    assert.ok(!owner.has(name), `'${name}' also comes from ${owner.get(name)}`);
    assert.equal((api as Record<string, unknown>)[name], (mod as Record<string, unknown>)[name], name);
  }
  // The namespaces are the floors' own index modules.
  assert.equal(api.nn, nn);
  assert.equal(api.evaluation, evaluation);
  assert.equal(api.report, report);
  // What a library user reaches for, by the names the README and docs/method.md use.
  assert.equal(api.PrototypeBank, PrototypeBank);
  assert.equal(api.nn.AdamW, AdamW);
  assert.equal(api.nn.saveSafetensors, saveSafetensors);
  assert.equal(api.runExperiment, runExperiment);
  assert.equal(api.report.writeReport, writeReport);
  for (const f of ['batchCam', 'gradCamLoop', 'prototypeLoss', 'batchCamLoss', 'distance', 'createModel', 'evaluateCheckpoint', 'parseGrid']) {
    assert.equal(typeof (api as Record<string, unknown>)[f], 'function', f);
  }
  for (const f of ['coherence', 'reconstruction', 'mapShape', 'decoyEnergy', 'deletionInsertion', 'averageDrop', 'evaluateModel', 'welchTTest']) {
    assert.equal(typeof (api.evaluation as Record<string, unknown>)[f], 'function', `evaluation.${f}`);
  }
});
