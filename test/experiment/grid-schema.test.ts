import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVALUATE_OPTIONS } from '../../src/eval/evaluate-options.js';
import { parseGrid } from '../../src/experiment/grid-schema.js';

const goodGrid = () => ({
  name: 'g', base: { epochs: 1, trainLimit: 200 }, models: ['simplecnn'], datasets: ['mnist', 'decoy-mnist'],
  settings: [{ name: 'ce' }, { name: 'proto', lambdaProto: 0.5, distance: 'l1' }], seeds: [0, 1], evaluate: { testLimit: 100 },
});

test('parseGrid: expands model × dataset × setting × seed with resolved configs', () => {
  const { grid, runs } = parseGrid(goodGrid());
  assert.equal(grid.name, 'g');
  assert.equal(runs.length, 8);
  const r = runs.find((x) => x.dataset === 'decoy-mnist' && x.setting === 'proto' && x.seed === 1)!;
  assert.equal(r.dir, 'simplecnn/decoy-mnist/proto/seed1');
  assert.equal(r.config.lambdaProto, 0.5);
  assert.equal(r.config.distance, 'l1');
  assert.equal(r.config.seed, 1);
  assert.equal(r.config.trainLimit, 200);
  assert.equal(runs.find((x) => x.setting === 'ce')!.config.lambdaProto, 0);
});

test('parseGrid: typos and conflicts fail before any training, naming the problem', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ...goodGrid(), modles: ['x'] }, /unknown key 'modles'/],
    [{ ...goodGrid(), settings: [{ name: 'ce' }, { name: 'ce' }] }, /unique/],
    [{ ...goodGrid(), settings: [{ name: 'a/b' }] }, /directory-safe/],
    [{ ...goodGrid(), settings: [{ name: 'p', lambdaProtoo: 1 }] }, /unknown option 'lambdaProtoo'/],
    [{ ...goodGrid(), base: { seed: 3 } }, /must not set 'seed'/],
    [{ ...goodGrid(), models: ['vgg'] }, /--model/],
    [{ ...goodGrid(), seeds: [0, 0] }, /duplicates/],
    [{ ...goodGrid(), evaluate: { testLimt: 3 } }, /'evaluate': unknown evaluate key 'testLimt'; known evaluate keys: testLimit, /],
    [{ ...goodGrid(), evaluate: { testLimit: 5 } }, /'evaluate': --test-limit: got 5, expected an integer in \[10, inf\] \(or null\)/],
    [{ ...goodGrid(), evaluate: { insertionStart: 'grey' } }, /--insertion-start: got "grey", expected blur\|zero/],
    [{ ...goodGrid(), evaluate: [] }, /'evaluate' must be an object/],
    [{ ...goodGrid(), evaluate: { device: 'tpu' } }, /'evaluate': device 'tpu': expected cpu or cuda\[:N\]/],
  ];
  for (const [g, re] of bad) assert.throws(() => parseGrid(g), re);
});

test('parseGrid: the evaluate block takes the settings of `batchcam evaluate`, checked and converted by the same table', () => {
  const { grid } = parseGrid({ ...goodGrid(), evaluate: { testLimit: null, 'faithfulness-n': 0, steps: 7, camTarget: 'label' } });
  // Only what the grid gives is kept (grid.json stays as written), under the config keys.
  assert.deepEqual(grid.evaluate, { testLimit: null, faithfulnessN: 0, steps: 7, camTarget: 'label' });
  for (const s of EVALUATE_OPTIONS) {
    assert.doesNotThrow(() => parseGrid({ ...goodGrid(), evaluate: { [s.key]: s.def } }), s.key);
  }
});
