import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  BatchcamError, CheckpointError as CheckpointErrorBase, DataError as DataErrorBase, EXIT_CODE_MEANINGS, EXIT_CODES,
  InterruptedError, RunDirError, RunLockedError, WriteError,
} from '../../src/errors.js';
import { DataError } from '../../src/data/errors.js';
import { StateDictError } from '../../src/nn/module.js';
import { SafetensorsError } from '../../src/nn/safetensors.js';
import { CheckpointError } from '../../src/train/run/checkpoint.js';
import { NonFiniteError } from '../../src/train/non-finite.js';
import { OptionError } from '../../src/train/options.js';
import { cliPath } from '../helpers/cli.js';

const rows = (): string[] => (Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]).map((k) => `| ${EXIT_CODES[k]} | ${EXIT_CODE_MEANINGS[k]} |`);

test('every error class carries its documented exit code, and the old modules export the same classes', () => {
  const cases: [BatchcamError, number][] = [
    [new OptionError('x'), 2],
    [new DataError('x'), 3],
    [new CheckpointError('x'), 4],
    [new SafetensorsError('f', undefined, 'x'), 4],
    [new StateDictError('x'), 4],
    [new RunDirError('x'), 4],
    [new WriteError('/f', 'fsync', new Error('ENOSPC')), 4],
    [new NonFiniteError(3, 'total loss', NaN), 5],
    [new RunLockedError('/d', 42, '/d/.batchcam.lock'), 6],
    [new InterruptedError('SIGINT', 'x', null), 130],
  ];
  for (const [e, code] of cases) {
    assert.ok(e instanceof BatchcamError, e.name);
    assert.equal(e.exitCode, code, e.name);
    assert.ok(Object.values(EXIT_CODES).includes(e.exitCode as never), `${e.name}: a documented code`);
  }
  assert.equal(DataError, DataErrorBase);
  assert.equal(CheckpointError, CheckpointErrorBase);
  assert.equal(new OptionError('x').name, 'OptionError');
  assert.equal(new SafetensorsError('f', undefined, 'x').name, 'SafetensorsError');
});

test('the README "Exit codes" table and every command\'s --help list the codes of src/errors.ts', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  assert.ok(readme.includes(`| code | meaning |\n|---|---|\n${rows().join('\n')}\n`), 'README table = EXIT_CODES');
  for (const args of [['--help'], ['train', '--help'], ['experiment', '--help'], ['evaluate', '--help']]) {
    const r = spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const k of Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]) {
      assert.match(r.stdout, new RegExp(`\\n\\s+${EXIT_CODES[k]}  ${EXIT_CODE_MEANINGS[k].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), `${args.join(' ')}: ${k}`);
    }
  }
});
