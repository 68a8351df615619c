import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../../src/train/options.js';
import { parseArgs } from '../../src/cli/args.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// A config.json written by `batchcam train` before --standardize and --batch-target were renamed (committed evidence).
const OLD_CONFIG = `${ROOT}docs/results/evidence-deep-runs/convnextv2-atto/decoy-mnist/ce/seed0/config.json`;

test('a config.json written before the renames resolves: standardize → standardise, batchTarget → batchMeans', () => {
  const old = JSON.parse(readFileSync(OLD_CONFIG, 'utf8')) as Record<string, unknown>;
  assert.ok('standardize' in old && 'batchTarget' in old, 'the file uses the former keys');
  const cfg = resolveConfig(old);
  assert.equal(cfg.standardise, old.standardize);
  assert.equal(cfg.batchMeans, old.batchTarget);
  assert.ok(!('standardize' in cfg) && !('batchTarget' in cfg), 'only the new keys are kept');
});

test('the former keys with non-default values reach the renamed options', () => {
  const cfg = resolveConfig({ standardize: true, batchTarget: 'attached' });
  assert.equal(cfg.standardise, true);
  assert.equal(cfg.batchMeans, 'attached');
});

test('the command line accepts the former flags --standardize and --batch-target', () => {
  const { options } = parseArgs(['--standardize', 'true', '--batch-target', 'attached'], [], true);
  assert.deepEqual(options, { standardise: true, batchMeans: 'attached' });
});
