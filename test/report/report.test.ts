import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { buildReport, ReportError, writeReport } from '../../src/report/report.js';
import { readMetrics, resolveRunDir } from '../../src/report/run-files.js';
import { DEFAULT_SHAPE, tempDir, writeExperiment, writeRun } from './fixtures.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));


describe('report building', () => {
  it('refuses a directory with nothing to report on, saying what it expected', async () => {
    const dir = tempDir();
    await assert.rejects(buildReport(dir), (e: Error) => e instanceof ReportError && /no aggregate.json, config.json, metrics.jsonl or evaluation.json/.test(e.message));
    await assert.rejects(buildReport(join(dir, 'nope')), /is not a directory/);
  });

  it('reports an unfinished run (metrics only) and says evaluation is missing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'metrics.jsonl'), `${JSON.stringify({ epoch: 1, ce: 2, loss: 2, proto: null, batch: null, trainAccuracy: 0.5, testAccuracy: 0.4 })}\nnot json\n\n`);
    const { kind, html } = await buildReport(dir);
    assert.equal(kind, 'run');
    assert.match(html, /No evaluation.json/);
    assert.match(html, /No config.json/);
    assert.match(html, /metrics.jsonl:2: /); // the malformed line is reported, not fatal
    assert.match(html, /data-series="loss" data-points="1"/);
    assert.doesNotMatch(html, /prototype loss/); // a regulariser the run never used gets no curve
  });

  it('tolerates an evaluation.json with parts missing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'evaluation.json'), JSON.stringify({ dataset: 'fashion-mnist', accuracy: 0.9, perClassAccuracy: [0.8, null], figures: { meanCams: [null, [0.5]] } }));
    const { html } = await buildReport(dir);
    assert.match(html, /90\.00%/);
    assert.match(html, /T-shirt\/top/); // class names from the dataset when the figures have none
    assert.doesNotMatch(html, /NaN|undefined/);
  });

  it('with a baseline run, puts both runs\' metrics and mean CAMs side by side; refuses an unevaluated baseline', async () => {
    const root = tempDir();
    const run = writeRun(join(root, 'reg'), DEFAULT_SHAPE, { accuracyShift: 0.01 });
    const base = writeRun(join(root, 'ce'), DEFAULT_SHAPE, { accuracyShift: -0.02 });
    const ev = (d: string): { accuracy: number; figures: { meanCams: number[][] } } => JSON.parse(readFileSync(join(d, 'evaluation.json'), 'utf8'));
    const { html } = await buildReport(run, { baseline: base });
    const section = html.slice(html.indexOf('id="baseline"'), html.indexOf('id="config"'));
    assert.ok(section.length > 0, 'the comparison section comes before the configuration');
    const accRow = /<tr><td>test accuracy<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><\/tr>/.exec(section);
    assert.ok(accRow, 'an accuracy row with the baseline and this run');
    assert.equal(accRow[1], `${(100 * ev(base).accuracy).toFixed(2)}%`);
    assert.equal(accRow[2], `${(100 * ev(run).accuracy).toFixed(2)}%`);
    // One row per class, each with both mean CAMs and both runs' sample overlays.
    const classes = ev(run).figures.meanCams.length;
    assert.equal((section.match(/<tr data-class=/g) ?? []).length, classes);
    assert.equal((section.match(/figcaption>baseline</g) ?? []).length, classes);
    assert.equal((section.match(/figcaption>this run</g) ?? []).length, classes);
    assert.doesNotMatch((await buildReport(run)).html, /id="baseline"/);
    await assert.rejects(buildReport(run, { baseline: root }), (e: Error) => e instanceof ReportError && /has no evaluation.json/.test(e.message));
  });

  it('writes atomically to <dir>/report.html or --out, leaving no temp files', async () => {
    const dir = writeRun(join(tempDir(), 'r'), { ...DEFAULT_SHAPE, epochs: 2 });
    const r = await writeReport(dir);
    assert.equal(r.path, join(dir, 'report.html'));
    assert.equal(readFileSync(r.path).length, r.bytes);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('partial')), []);
    const out = join(tempDir(), 'nested', 'x.html');
    assert.equal((await writeReport(dir, out)).path, out);
  });

  it('escapes text from the files it reads', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: '<script>alert(1)</script>', dataset: 'mnist' }));
    const { html } = await buildReport(dir);
    assert.doesNotMatch(html, /<script>/);
    assert.match(html, /&lt;script&gt;/);
  });

  it('finds experiment run directories relative to the experiment or the working directory', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'runs', 'a'), { recursive: true });
    assert.equal(resolveRunDir(dir, 'runs/a'), join(dir, 'runs', 'a'));
    assert.equal(resolveRunDir(dir, join(dir, 'runs', 'a')), join(dir, 'runs', 'a'));
    assert.equal(resolveRunDir(dir, 'runs/b'), null);
    assert.deepEqual(readMetrics(join(dir, 'none.jsonl')), []);
  });

  it('reports an experiment directory', async () => {
    const dir = writeExperiment(tempDir());
    const { kind, html } = await buildReport(dir);
    assert.equal(kind, 'experiment');
    assert.match(html, /class="aggregate"/);
    assert.match(html, /run directories not found: runs\/does-not-exist/);
    assert.match(html, /batchcam experiment: fixture-grid/);
    assert.match(html, /deletion AUC ↓/);
  });

  it('reads an aggregate.json without a metrics list (default columns, baseline ce)', async () => {
    const dir = writeExperiment(tempDir(), { legacy: true });
    const { html } = await buildReport(dir);
    const heads = [...html.matchAll(/<table class="aggregate">.*?<\/thead>/gs)][0]![0].match(/<th>[^<]*<\/th>/g)!;
    assert.deepEqual(heads.map((h) => h.slice(4, -5)), ['model', 'dataset', 'setting', 'seeds', 'accuracy (%) ↑', 'coherence ssim ↓',
      'coherence l1 ↓', 'coherence l2 ↓', 'reconstruction ssim ↓', 'decoy energy ↓', 'deletion AUC ↓', 'insertion AUC ↑']);
    assert.match(html, /baseline 'ce'/);
    // Only the experiment metrics the rows carry become columns.
    assert.doesNotMatch(html, /average drop ↓/);
  });
});

describe('batchcam report (CLI)', () => {
  it('writes the report and prints where', async () => {
    const dir = writeRun(join(tempDir(), 'r'), { ...DEFAULT_SHAPE, epochs: 2 });
    const out = join(tempDir(), 'out.html');
    const r = spawnSync(process.execPath, [CLI, 'report', dir, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /run report written to .*out\.html/);
    assert.match(readFileSync(out, 'utf8'), /^<!DOCTYPE html>/);
  });

  it('exits 2 with one line for a directory without results or a missing argument', async () => {
    for (const args of [['report', tempDir()], ['report']]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^batchcam report: /);
    }
  });

  it('prints help', async () => {
    const r = spawnSync(process.execPath, [CLI, 'report', '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage: batchcam report RUN_OR_EXPERIMENT_DIR/);
  });
});
