import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  logGamma, meanStd, regularizedIncompleteBeta, studentTCdf, studentTTwoSided, welchTTest,
} from '../../src/eval/stats.js';

const close = (a: number, b: number, rel = 1e-10, what = ''): void =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${what}: expected ${b}, got ${a}`);

// Reference values from scipy 1.10.1 (stats.ttest_ind(a, b, equal_var=False), special.betainc, stats.t.sf),
// computed once with /usr/bin/python3 and written down here, so the test does not need scipy.
const WELCH_CASES: { a: number[]; b: number[]; t: number; df: number; p: number }[] = [
  {
    a: [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4],
    b: [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4],
    t: -2.455356398286006, df: 24.988529290231416, p: 0.021378001462866985,
  },
  { a: [0.91, 0.92, 0.93], b: [0.85, 0.88, 0.90], t: 2.7716093126229406, df: 2.616216216216216, p: 0.0810715882896609 },
  { a: [1, 2, 3, 4], b: [1.5, 1.6, 1.7], t: 1.3887301496588276, df: 3.0478994016574408, p: 0.257719508128296 },
  { a: [0.1, 0.12], b: [0.5, 0.9, 0.2, 0.33, 0.41], t: -3.0049041686856435, df: 4.056146331093553, p: 0.03904662204001615 },
];

test("Welch's t-test matches scipy's ttest_ind(equal_var=False)", () => {
  for (const c of WELCH_CASES) {
    const r = welchTTest(c.a, c.b);
    close(r.t, c.t, 1e-12, 't');
    close(r.df, c.df, 1e-12, 'df');
    close(r.p, c.p, 1e-9, 'p');
    // Swapping the groups flips t and keeps p.
    const s = welchTTest(c.b, c.a);
    close(s.t, -c.t, 1e-12);
    close(s.p, c.p, 1e-9);
  }
});

test("Welch's t-test: degenerate and invalid inputs", () => {
  assert.deepEqual(welchTTest([1, 1, 1], [1, 1]), { t: 0, df: 3, p: 1 });
  assert.deepEqual(welchTTest([2, 2, 2], [1, 1, 1]), { t: Infinity, df: 4, p: 0 });
  assert.throws(() => welchTTest([1], [1, 2]), /at least 2/);
});

test('regularised incomplete beta: textbook closed forms and scipy values', () => {
  // I_x(2,3) = Σ_{j=2}^{4} C(4,j) x^j (1−x)^{4−j}: 0.3483 at x = 0.3.
  close(regularizedIncompleteBeta(0.3, 2, 3), 0.3483, 1e-13);
  // I_x(1/2,1/2) = (2/π) asin(√x); I_x(a,1) = x^a; I_x(1,b) = 1 − (1−x)^b.
  for (const x of [0.01, 0.2, 0.5, 0.9, 0.999]) {
    close(regularizedIncompleteBeta(x, 0.5, 0.5), (2 / Math.PI) * Math.asin(Math.sqrt(x)), 1e-13);
    close(regularizedIncompleteBeta(x, 3.7, 1), x ** 3.7, 1e-13);
    close(regularizedIncompleteBeta(x, 1, 2.5), 1 - (1 - x) ** 2.5, 1e-13);
  }
  close(regularizedIncompleteBeta(0.01, 10, 0.5), 1.7700349655285743e-21, 1e-9);
  close(regularizedIncompleteBeta(0.5, 50, 0.5) / 9.901688984594138e-17, 1, 1e-9);
  assert.equal(regularizedIncompleteBeta(0, 2, 3), 0);
  assert.equal(regularizedIncompleteBeta(1, 2, 3), 1);
});

test("Student's t: table values, the Cauchy case and the normal limit", () => {
  // Two-sided 5% critical value for 10 df is 2.228 (t-table); scipy: 0.05001177181711133.
  close(studentTTwoSided(2.228, 10), 0.05001177181711133, 1e-10);
  // 1 df is the Cauchy distribution: P(|T| ≥ t) = 1 − (2/π) atan t.
  for (const t of [0.5, 1, 3, 20]) close(studentTTwoSided(t, 1), 1 - (2 / Math.PI) * Math.atan(t), 1e-13);
  close(studentTTwoSided(1.96, 1e6), 0.04999606758526978, 1e-8);
  close(studentTTwoSided(3, 2.5), 0.07257609554903183, 1e-10);
  close(studentTCdf(0, 7), 0.5, 1e-15);
  close(studentTCdf(-2.228, 10), 0.05001177181711133 / 2, 1e-10);
  close(studentTCdf(2.228, 10), 1 - 0.05001177181711133 / 2, 1e-10);
});

test('logGamma: factorials and Γ(1/2) = √π', () => {
  close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14);
  close(logGamma(10.3), 13.482036786138359, 1e-13);
  close(logGamma(11), Math.log(3628800), 1e-14);
});

test('meanStd: sample standard deviation', () => {
  assert.deepEqual(meanStd([2, 4, 4, 4, 5, 5, 7, 9]), { mean: 5, std: Math.sqrt(32 / 7), n: 8 });
  assert.deepEqual(meanStd([3]), { mean: 3, std: 0, n: 1 });
  assert.throws(() => meanStd([]), /empty/);
});

const scipy = spawnSync('/usr/bin/python3', ['-c', 'import scipy'], { stdio: 'ignore' }).status === 0;

test('Welch on random groups agrees with live scipy', () => {
  assert.ok(scipy, '/usr/bin/python3 needs scipy (apt-get install python3-scipy)');
  let s = 12345;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const groups = Array.from({ length: 6 }, (_, k) => [
    Array.from({ length: 2 + k }, () => rnd() + 0.1 * k), Array.from({ length: 7 - k }, () => rnd() * (1 + k)),
  ]);
  const py = 'import json,sys\nfrom scipy import stats\nfor a,b in json.load(sys.stdin):\n r=stats.ttest_ind(a,b,equal_var=False)\n print(repr(float(r.statistic)), repr(float(r.pvalue)))';
  const out = spawnSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify(groups), encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  out.stdout.trim().split('\n').forEach((line, i) => {
    const [t, p] = line.split(' ').map(Number) as [number, number];
    const r = welchTTest(groups[i]![0]!, groups[i]![1]!);
    close(r.t, t, 1e-12, `t of group ${i}`);
    close(r.p, p, 1e-9, `p of group ${i}`);
  });
});
