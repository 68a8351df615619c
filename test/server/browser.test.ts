import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { datasetInfo } from '../../src/data/builtin/datasets.js';
import { createModel } from '../../src/models/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { cliPath } from '../helpers/cli.js';
import { digitPng, servedDir, tinyExperiment } from './fixtures.js';

/**
 * The page of `batchcam serve` in headless Chromium while a real training run writes: the model's lists before any
 * explanation, an experiment table sorted by a click, live curves and timeline grow without a reload, the slider
 * changes the CAMs, two runs side by side, a dropped PNG and a test image picked by index explained as the CLI does.
 */

const CHROMIUM = process.env.BATCHCAM_CHROMIUM ?? '/usr/bin/chromium';

describe('batchcam serve in headless Chromium', { timeout: 300_000 }, () => {
  let browser: Browser;
  let s: RunningServer;
  let page: Page;
  let trainer: ChildProcess;
  let trained: Promise<number | null>;
  let root: string;
  let dir: string;
  let experiment: string;
  const errors: string[] = [];
  const external: string[] = [];
  const explains: string[] = [];

  before(async () => {
    // Missing prerequisites fail here, never skip: CI installs Chromium and playwright-core.
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (set BATCHCAM_CHROMIUM)`);
    const { chromium } = await import('playwright-core');
    ({ root, dir } = await servedDir());
    experiment = tinyExperiment(dir);
    s = await startServer({ dir });
    // The live run ('live' sorts before 'tiny': it is run A), 80 steps, a step-log line and a timeline record every 4.
    trainer = spawn(process.execPath, [cliPath(), 'train', '--out', join(dir, 'live'), '--train-limit', '1280', '--test-limit', '100',
      '--batch-size', '32', '--epochs', '2', '--log-every', '4', '--probe-every', '4', '--probes-per-class', '1', '--quiet'], { stdio: 'ignore' });
    trained = new Promise((resolve) => trainer.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 600 && !existsSync(join(dir, 'live', 'steps.jsonl')); i++) await new Promise((r) => setTimeout(r, 50));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`${r.status()} from ${r.url().replace(s.token, 'TOKEN')}`);
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(s.origin)) external.push(r.url());
      if (r.url().includes('/explain')) explains.push(r.url());
    });
    await page.goto(s.url);
    await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; });
  });
  after(async () => {
    trainer?.kill('SIGKILL');
    await browser?.close();
    await s?.close();
  });

  it('gains curve points and timeline steps while the run trains, without a reload', async () => {
    await page.waitForFunction(() => Number(document.getElementById('curves-a')?.dataset.points ?? 0) > 0, null, { timeout: 60_000 });
    const points0 = Number(await page.getAttribute('#curves-a', 'data-points'));
    const steps0 = Number(await page.getAttribute('#step-slider', 'data-steps'));
    await page.waitForFunction(([p, st]) => Number(document.getElementById('curves-a')!.dataset.points) > p! &&
      Number(document.getElementById('step-slider')!.dataset.steps) > st!, [points0, steps0], { timeout: 90_000 });
    assert.equal(await trained, 0, 'the training run finished');
    await page.waitForFunction(() => Number(document.getElementById('curves-a')!.dataset.points) === 20, null, { timeout: 10_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { marker: number }).marker), 42, 'the page was not reloaded');
    assert.ok(await page.$('#curves-a .uplot canvas'), 'the curves are a uPlot chart');
  });

  it('changes the CAM images when the slider moves, for both runs side by side', async () => {
    const tile = async (side: string): Promise<string> => page.$eval(`#timeline-${side} figure canvas`, (c) => (c as HTMLCanvasElement).toDataURL());
    const move = async (to: 'min' | 'max'): Promise<void> => {
      await page.$eval('#step-slider', (el, where) => {
        const s = el as HTMLInputElement;
        s.value = where === 'min' ? '0' : s.max;
        s.dispatchEvent(new Event('input'));
      }, to);
      await page.waitForFunction((w) => document.getElementById('step-value')!.textContent === (w === 'min' ? '0' : '80'), to);
      await page.waitForFunction((w) => document.getElementById('timeline-a')!.dataset.step === (w === 'min' ? '0' : '80'), to);
    };
    await move('max');
    const lateA = await tile('a');
    const lateB = await tile('b');
    assert.equal(await page.$eval('#timeline-b', (e) => (e as HTMLElement).dataset.step), '2', 'run B shows its last record at or before step 80');
    await move('min');
    const earlyA = await tile('a');
    assert.notEqual(earlyA, lateA, 'run A: step 0 and step 80 differ');
    assert.notEqual(await tile('b'), lateB, 'run B: step 0 and step 2 differ');
    assert.ok(Number(await page.getAttribute('#curves-b', 'data-points')) > 0, 'run B has curves');
  });

  // After the live tests, which need the run still training; before any explanation is asked for.
  it('fills the layer and class lists from the chosen run\'s model before any explanation', async () => {
    const cnn = createModel('simplecnn');
    const layers = [...cnn.camLayers];
    cnn.dispose();
    const classes = datasetInfo('mnist').classNames;
    await page.waitForFunction(([l, c]) => document.querySelectorAll('#layer option').length === l! + 1 &&
      document.querySelectorAll('#target option').length === c! + 1, [layers.length, classes.length], { timeout: 60_000 });
    assert.deepEqual(await page.$$eval('#layer option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['', ...layers]);
    assert.deepEqual(await page.$$eval('#target option', (os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent])),
      [['pred', 'predicted class'], ...classes.map((n, c) => [String(c), n])]);
    assert.deepEqual(explains, [], 'no explanation was asked for');
  });

  it('sorts an experiment grid\'s rows by the clicked column, ascending then descending', async () => {
    type Row = { setting: string } & Record<string, unknown>;
    const agg = JSON.parse(readFileSync(join(experiment, 'aggregate.json'), 'utf8')) as { rows: Row[]; metrics: { key: string }[] };
    const mean = (r: Row, key: string): number | undefined => (r[key] as { mean?: number } | null)?.mean;
    // A column whose shown values (4 decimals) differ between every setting, so its order is defined.
    const metric = agg.metrics.find((m) => m.key !== 'accuracy' && agg.rows.every((r) => typeof mean(r, m.key) === 'number') &&
      new Set(agg.rows.map((r) => mean(r, m.key)!.toFixed(4))).size === agg.rows.length)!;
    assert.ok(metric, 'a metric with distinct values');
    assert.equal(agg.rows.length, 3);
    const ascending = [...agg.rows].sort((a, b) => mean(a, metric.key)! - mean(b, metric.key)!).map((r) => r.setting);
    const table = '#experiments table.aggregate';
    await page.waitForSelector(`${table} tbody tr`, { timeout: 30_000 });
    const order = (): Promise<string[]> => page.$$eval(`${table} tbody tr`, (trs) => trs.map((tr) => (tr as HTMLElement).dataset.setting ?? ''));
    assert.deepEqual(await order(), agg.rows.map((r) => r.setting), 'unsorted: aggregate.json order');
    const col = await page.$eval(`${table} tbody tr td[data-metric="${metric.key}"]`, (td) => (td as HTMLTableCellElement).cellIndex);
    const header = `${table} thead th:nth-child(${col + 1})`;
    await page.click(header);
    assert.deepEqual(await order(), ascending, `by ${metric.key}, ascending`);
    await page.click(header);
    assert.deepEqual(await order(), [...ascending].reverse(), `by ${metric.key}, descending`);
    await page.click(`${table} thead th:nth-child(3)`); // setting, by name
    assert.deepEqual(await order(), agg.rows.map((r) => r.setting).sort());
  });

  it('explains a dropped PNG for both runs with the probabilities of batchcam explain --image (to 1e-5)', async () => {
    const png = await digitPng();
    await page.evaluate((bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'digit.png', { type: 'image/png' }));
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [...png]);
    const file = join(root, 'digit.png');
    writeFileSync(file, png);
    for (const [side, run] of [['a', 'live'], ['b', 'tiny']] as const) {
      await page.waitForSelector(`#explain-${side} ul.probs li`, { timeout: 30_000 });
      const shown = await page.$$eval(`#explain-${side} ul.probs li`, (lis) => lis.map((li) => Number((li as HTMLElement).dataset.p)));
      const out = join(root, `explain-${run}`);
      const r = spawnSync(process.execPath, [cliPath(), 'explain', '--checkpoint', join(dir, run), '--image', file, '--out', out], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const cli = (JSON.parse(readFileSync(join(out, 'explanations.json'), 'utf8')) as { items: { probabilities: number[] }[] }).items[0]!.probabilities;
      assert.equal(shown.length, cli.length);
      shown.forEach((p, c) => assert.ok(Math.abs(p - cli[c]!) <= 1e-5, `run ${run}, class ${c}: page ${p}, CLI ${cli[c]}`));
      assert.equal(await page.$$eval(`#explain-${side} canvas`, (cs) => cs.length), 3, 'input, CAM and overlay');
    }
    // The README's screenshot (docs/serve.png) is taken here on request, not on every test run.
    if (process.env.BATCHCAM_SCREENSHOT) {
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.screenshot({ path: process.env.BATCHCAM_SCREENSHOT, fullPage: true });
    }
  });

  it('explains test image k picked by number for both runs with the label and probabilities of batchcam explain --indices k (to 1e-5)', async () => {
    const k = 7;
    await page.$eval('#test-index', (el, v) => {
      (el as HTMLInputElement).value = String(v);
      el.dispatchEvent(new Event('change'));
    }, k);
    for (const [side, run] of [['a', 'live'], ['b', 'tiny']] as const) {
      await page.waitForFunction(([sd, n]) => document.getElementById(`explain-${sd}`)!.dataset.source === `mnist test #${n}`, [side, k] as const, { timeout: 60_000 });
      const shown = await page.$$eval(`#explain-${side} ul.probs li`, (lis) => lis.map((li) => Number((li as HTMLElement).dataset.p)));
      const label = Number(await page.$eval(`#explain-${side}`, (e) => (e as HTMLElement).dataset.label));
      const out = join(root, `explain-index-${run}`);
      const r = spawnSync(process.execPath, [cliPath(), 'explain', '--checkpoint', join(dir, run), '--indices', String(k), '--out', out], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const cli = (JSON.parse(readFileSync(join(out, 'explanations.json'), 'utf8')) as { items: { label: number; probabilities: number[] }[] }).items[0]!;
      assert.equal(label, cli.label, `run ${run}: the label of test image ${k}`);
      assert.equal(shown.length, cli.probabilities.length);
      shown.forEach((p, c) => assert.ok(Math.abs(p - cli.probabilities[c]!) <= 1e-5, `run ${run}, class ${c}: page ${p}, CLI ${cli.probabilities[c]}`));
    }
  });

  it('logged no console error and requested nothing outside the server', () => {
    assert.deepEqual(errors, []);
    assert.deepEqual(external, []);
  });
});
