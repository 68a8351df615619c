import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainingCurves } from '../../src/report/curves.js';
import type { EpochLine } from '../../src/report/run-files.js';

const epoch = (e: number, extra: Partial<EpochLine> = {}): EpochLine =>
  ({ epoch: e, step: 10 * e, loss: 1 / e, ce: 1 / e, trainAccuracy: 0.5 + 0.1 * e, testAccuracy: null, testLoss: null, seconds: 1, ...extra }) as EpochLine;

test('a validated run\'s report charts validation accuracy and CE and tabulates them per epoch', () => {
  const html = trainingCurves([epoch(1, { valAccuracy: 0.8167, valLoss: 0.7 }), epoch(2, { valAccuracy: 0.85, valLoss: 0.6, testAccuracy: 0.73, testLoss: 0.9 })]);
  assert.match(html, /validation accuracy/);
  assert.match(html, /validation CE/);
  assert.match(html, /<th[^>]*>val acc<\/th>/);
  assert.match(html, /81\.67%/);
});

test('a run without a validation split has no validation series or columns', () => {
  const html = trainingCurves([epoch(1, { testAccuracy: 0.7, testLoss: 1 })]);
  assert.doesNotMatch(html, /validation|val acc/);
});
