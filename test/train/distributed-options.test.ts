import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/train/trainer.js';
import { OptionError } from '../../src/train/options.js';

// Terms whose data-parallel form would not equal one process on the whole batch are refused before anything is
// written or any rendezvous is tried, naming the flag and the way out.
const env = { rank: 0, worldSize: 2, localRank: 0, masterAddr: '127.0.0.1', masterPort: 29999 };
for (const [key, flag] of [['lambdaProtoContrast', '--lambda-proto-contrast'], ['lambdaBatchContrast', '--lambda-batch-contrast'],
  ['lambdaBackground', '--lambda-background'], ['lambdaMining', '--lambda-mining']] as const) {
  test(`data-parallel training refuses ${flag} with an OptionError and writes nothing`, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'batchcam-dp-')), 'run');
    await assert.rejects(train({ [key]: 1, trainLimit: 100, testLimit: 20 }, { outDir: out, quiet: true, distributed: env }),
      (e: Error) => e instanceof OptionError && e.message.includes(flag) && /train them in one process/.test(e.message));
    assert.equal(existsSync(out), false, 'the run directory was not created');
  });
}
