import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateMarkdown, aggregateRuns, type RunResult } from '../../src/eval/aggregate.js';
import { meanStd, welchTTest } from '../../src/eval/stats.js';
import type { Evaluation } from '../../src/eval/evaluation.js';

/** A minimal evaluation with the given headline numbers (figures empty: the aggregate never reads them). */
function fakeEval(acc: number, cohSsim: number, energy: number | null): Evaluation {
  const s = (mean: number) => ({ perClass: [mean], mean });
  const spec = { within: cohSsim, between: 0.5, ratio: cohSsim / 0.5 };
  const wr = { score: 0.1, threshold: 0.2, n: 10, zeroMaps: 0 };
  return {
    dataset: 'x', model: 'm', checkpoint: null, n: 10, camTarget: 'pred', accuracy: acc, perClassAccuracy: [acc],
    coherence: { l1: s(cohSsim / 2), l2: s(cohSsim / 4), ssim: s(cohSsim) },
    reconstruction: { l1: s(0.1), l2: s(0.01), ssim: s(0.5) },
    maps: { coverage: s(0.3), contrast: s(0.2) },
    specificity: { l1: spec, l2: spec, ssim: spec },
    decoy: energy === null ? null : {
      energy, energyPerClass: [energy], uniformEnergy: 16 / 784, accuracy: acc, decoyLabelRate: 0.1, cleanAccuracy: acc, accuracyGap: 0,
      wrongReasonGradCam: wr, wrongReasonInputGradient: wr,
    },
    faithfulness: { n: 0, steps: 28, insertionStart: 'blur', deletionAuc: NaN, insertionAuc: NaN, averageDrop: NaN },
    figures: { classNames: ['a'], height: 28, width: 28, meanImages: [], meanCams: [], bankPrototypes: null, samples: [], misclassified: [] },
  };
}

test('aggregateRuns: mean ± std over seeds and Welch vs the ce setting of the same model and dataset', () => {
  const acc = { ce: [0.9, 0.92, 0.91], proto: [0.93, 0.95, 0.96] };
  const coh = { ce: [0.5, 0.52, 0.49], proto: [0.3, 0.33, 0.31] };
  const runs: RunResult[] = [];
  for (const setting of ['proto', 'ce'] as const) {
    // Seeds out of order: the aggregate sorts them.
    for (const seed of [2, 0, 1]) {
      runs.push({ model: 'm', dataset: 'decoy', setting, seed, dir: `m/decoy/${setting}/seed${seed}`, evaluation: fakeEval(acc[setting][seed]!, coh[setting][seed]!, 0.1 * (seed + 1)) });
    }
  }
  runs.push({ model: 'm', dataset: 'plain', setting: 'ce', seed: 0, dir: 'm/plain/ce/seed0', evaluation: fakeEval(0.8, 0.4, null) });
  const a = aggregateRuns('g', runs);
  assert.deepEqual(a.rows.map((r) => [r.dataset, r.setting]), [['decoy', 'proto'], ['decoy', 'ce'], ['plain', 'ce']]);
  const [proto, ce, plain] = a.rows as [typeof a.rows[0], typeof a.rows[0], typeof a.rows[0]];
  assert.deepEqual(proto.seeds, [0, 1, 2]);
  assert.deepEqual(proto.runs, ['m/decoy/proto/seed0', 'm/decoy/proto/seed1', 'm/decoy/proto/seed2']);
  const ms = meanStd(acc.proto);
  assert.equal(proto.accuracy!.mean, ms.mean);
  assert.equal(proto.accuracy!.std, ms.std);
  assert.deepEqual(proto.accuracy!.values, acc.proto);
  assert.deepEqual(proto.vsBaseline!.accuracy, welchTTest(acc.proto, acc.ce));
  assert.deepEqual(proto.vsBaseline!.coherenceSsim, welchTTest(coh.proto, coh.ce));
  // Same energies on both sides: t = 0, p = 1.
  assert.equal(proto.vsBaseline!.decoyEnergy!.p, 1);
  assert.ok(proto.vsBaseline!.coherenceSsim!.p < 0.01);
  assert.equal(ce.vsBaseline, null);
  // One seed: stats with std 0, and no test; no decoy; skipped faithfulness is null, not NaN.
  assert.equal(plain.accuracy!.std, 0);
  assert.equal(plain.decoyEnergy, null);
  assert.equal(plain.deletionAuc, null);
  assert.equal(plain.vsBaseline, null);
  const md = aggregateMarkdown(a);
  assert.match(md, /\| m \| decoy \| proto \| 3 \| 94\.67 ± 1\.53 \(p=0\.0\d+\)/);
  assert.match(md, /ce \(baseline\)/);
  assert.ok(!md.includes('deletion AUC'), 'a metric no run has gets no column');
});
