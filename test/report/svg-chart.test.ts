import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barChart, lineChart, niceTicks } from '../../src/report/svg-chart.js';
import { esc } from '../../src/report/html.js';
import { significanceMark, meanStdCell } from '../../src/report/experiment-report.js';

describe('SVG charts', () => {
  it('picks round ticks', () => {
    assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0.63, 0.97), [0.7, 0.8, 0.9]);
    assert.deepEqual(niceTicks(0.1, 0.3, 4), [0.1, 0.15, 0.2, 0.25, 0.3]);
    assert.deepEqual(niceTicks(1, 1), [1]);
  });

  it('draws one polyline per run of non-null points and a marker per point', () => {
    const svg = lineChart([
      { name: 'a', points: [[1, 1], [2, 2], [3, 3]] },
      { name: 'b<&>', points: [[1, null], [2, 0.5], [3, null], [4, 0.7], [5, 0.8]] },
    ], { title: 'T' });
    assert.match(svg, /<g class="series" data-series="a" data-points="3">/);
    assert.match(svg, /<g class="series" data-series="b&lt;&amp;&gt;" data-points="3">/);
    assert.equal(svg.match(/<polyline data-series="b&lt;/g)?.length, 2);
    assert.equal(svg.match(/<circle /g)?.length, 6);
    assert.doesNotMatch(svg, /NaN|Infinity/);
  });

  it('handles a single point and an empty series without NaN coordinates', () => {
    const svg = lineChart([{ name: 'one', points: [[1, 0.5]] }, { name: 'none', points: [] }], { title: 'T' });
    assert.doesNotMatch(svg, /NaN|Infinity/);
    assert.match(svg, /none \(no data\)/);
  });

  it('draws bars with error whiskers and skips missing values', () => {
    const svg = barChart([{ label: 'ce', value: 0.3, error: 0.02 }, { label: 'x', value: null }], { title: 'B' });
    assert.equal(svg.match(/<rect class="bar"/g)?.length, 1);
    assert.match(svg, /<path d="M/);
    assert.doesNotMatch(svg, /NaN/);
  });
});

describe('report formatting', () => {
  it('escapes HTML', () => {
    assert.equal(esc(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('marks significance at p < 0.05 and p < 0.01', () => {
    assert.equal(significanceMark(0.009), '**');
    assert.equal(significanceMark(0.01), '*');
    assert.equal(significanceMark(0.049), '*');
    assert.equal(significanceMark(0.05), '');
    assert.equal(significanceMark(undefined), '');
    assert.equal(significanceMark(NaN), '');
    assert.match(meanStdCell({ mean: 0.5, std: 0.1 }, { t: 3, p: 0.001 }), /0\.5000 ± 0\.1000.*\*\*/);
    assert.equal(meanStdCell(null), '—');
    assert.equal(meanStdCell({ mean: 0.981, std: 0.002 }, null, { scale: 100, digits: 2 }), '<span>98.10 ± 0.20</span>');
  });
});
