import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { writeReport } from '../../src/report/report.js';
import { DEFAULT_SHAPE, EXPERIMENT_METRICS, EXPERIMENT_SETTINGS, tempDir, writeExperiment, writeRun } from './fixtures.js';

/**
 * Opens generated reports in headless Chromium and checks they render offline: no console or page errors, every
 * image decodes, the SVG charts carry the expected points, tables the expected rows, and nothing is fetched.
 */

const CHROMIUM = process.env.BATCHCAM_CHROMIUM ?? '/usr/bin/chromium';
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

// The end-to-end case trains and evaluates for real: it needs the native addon and the MNIST files.
let realSkip: string | false = false;
try {
  const { loadDataset } = await import('../../src/data/load-dataset.js');
  await import('../../src/torch/index.js');
  await loadDataset('mnist', { trainLimit: 10, testLimit: 10 });
} catch (e) {
  realSkip = `native addon or MNIST unavailable: ${(e as Error).message.split('\n')[0]}`;
}
let skip: string | false = false;
let chromium: typeof import('playwright-core').chromium | undefined;
try {
  ({ chromium } = await import('playwright-core'));
  if (!existsSync(CHROMIUM)) skip = `no Chromium at ${CHROMIUM} (set BATCHCAM_CHROMIUM)`;
} catch (e) {
  skip = `playwright-core unavailable: ${(e as Error).message}`;
}

interface Loaded {
  page: Page;
  errors: string[];
  external: string[];
}

// Missing prerequisites fail here rather than skip: CI installs chromium and playwright-core.
describe('report prerequisites', () => {
  it('Chromium, playwright-core, the addon and MNIST are available', () => {
    assert.equal(skip, false, String(skip));
    assert.equal(realSkip, false, String(realSkip));
  });
});

describe('HTML report in headless Chromium', { timeout: 120_000 }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium!.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
  });

  /** Loads a report file, failing every request other than the file itself (data: URIs never reach the network). */
  async function open(path: string): Promise<Loaded> {
    const page = await browser.newPage();
    const errors: string[] = [];
    const external: string[] = [];
    const self = pathToFileURL(path).href;
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => {
      if (r.url() !== self && !r.url().startsWith('data:')) external.push(`failed: ${r.url()}`);
    });
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url === self || url.startsWith('data:')) return route.continue();
      external.push(url);
      return route.abort();
    });
    await page.goto(self, { waitUntil: 'load' });
    // Images are data: URIs; wait until each has decoded (or failed) before measuring.
    await page.evaluate(() => Promise.all([...document.images].map((im) => (im.complete ? null : new Promise((r) => { im.onload = im.onerror = r; })))));
    return { page, errors, external };
  }

  async function imageWidths(page: Page): Promise<number[]> {
    return page.$$eval('img', (ims) => ims.map((im) => (im as HTMLImageElement).naturalWidth));
  }

  /** Points per series of a chart: from data-points, and counted from the polylines' coordinates. */
  async function chartPoints(page: Page, title: string): Promise<Record<string, { declared: number; drawn: number; dots: number }>> {
    return page.$eval(`svg.chart[aria-label="${title}"]`, (svg) => {
      const out: Record<string, { declared: number; drawn: number; dots: number }> = {};
      for (const g of svg.querySelectorAll('g.series')) {
        const drawn = [...g.querySelectorAll('polyline')].reduce((a, p) => a + (p as SVGPolylineElement).points.numberOfItems, 0);
        out[g.getAttribute('data-series')!] = { declared: Number(g.getAttribute('data-points')), drawn, dots: g.querySelectorAll('circle').length };
      }
      return out;
    });
  }

  async function rowCount(page: Page, selector: string): Promise<number> {
    return page.$$eval(`${selector} > tbody > tr`, (rows) => rows.length);
  }

  it('renders a run report offline with all images, curves and tables', async () => {
    const s = DEFAULT_SHAPE;
    const dir = writeRun(join(tempDir(), 'run'), s);
    const { path, kind } = await writeReport(dir);
    assert.equal(kind, 'run');
    assert.equal(path, join(dir, 'report.html'));
    const html = readFileSync(path, 'utf8');
    assert.doesNotMatch(html, /(src|href)="(?!data:)/, 'every src/href is a data: URI');
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no URL other than the SVG namespace');

    const { page, errors, external } = await open(path);
    try {
      const widths = await imageWidths(page);
      // mean image, mean CAM, bank prototype per class; the samples; input + overlay per misclassified; the legend.
      const expected = 3 * s.classes + s.classes * s.samplesPerClass + 2 * s.misclassified + 1;
      assert.equal(widths.length, expected);
      assert.ok(widths.every((w) => w > 0), `undecoded images: ${widths.filter((w) => !(w > 0)).length}`);
      assert.equal(await page.$$eval('img.legend', (l) => (l[0] as HTMLImageElement).naturalWidth), 100);
      assert.ok((await page.$$eval('figure.tile img', (ims) => ims.map((i) => (i as HTMLImageElement).naturalWidth))).every((w) => w === 28));

      const loss = await chartPoints(page, 'Training loss (epoch means)');
      assert.deepEqual(Object.keys(loss), ['loss', 'CE', 'prototype loss', 'Batch-CAM loss', 'test CE']);
      const reg = s.epochs - s.warmup;
      for (const [name, p] of Object.entries(loss)) {
        const n = name.includes('prototype') || name.includes('Batch-CAM') ? reg : s.epochs;
        assert.deepEqual(p, { declared: n, drawn: n, dots: n }, name);
      }
      const acc = await chartPoints(page, 'Accuracy');
      assert.deepEqual(acc, { 'train accuracy': { declared: 5, drawn: 5, dots: 5 }, 'test accuracy': { declared: 5, drawn: 5, dots: 5 } });
      // Points lie inside the plot area, i.e. the scales are sane.
      const inside = await page.$$eval('svg.chart circle', (cs) => cs.every((c) => {
        const svg = (c as SVGCircleElement).ownerSVGElement!;
        const x = Number(c.getAttribute('cx'));
        const y = Number(c.getAttribute('cy'));
        return x >= 0 && y >= 0 && x <= svg.width.baseVal.value && y <= svg.height.baseVal.value;
      }));
      assert.ok(inside);

      assert.equal(await rowCount(page, 'table.epochs'), s.epochs);
      assert.equal(await rowCount(page, 'table.per-class'), s.classes);
      assert.equal(await rowCount(page, 'table.class-figures'), s.classes);
      // 12 headline rows plus class specificity for each of the 3 distances.
      assert.equal(await rowCount(page, 'table.summary'), 15);
      const summary = await page.$$eval('table.summary > tbody > tr', (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
      assert.deepEqual(summary[0], ['test accuracy', '93.00%']);
      assert.ok(summary.some(([k, v]) => k!.startsWith('deletion AUC') && v === '0.1200'));
      assert.ok(summary.some(([k, v]) => k!.startsWith('map contrast') && v === '0.2450'));
      const perClass = await page.$$eval('table.per-class > tbody > tr:nth-child(4) > td', (c) => c.map((x) => x.textContent));
      assert.deepEqual(perClass, ['3', '93.00%', '0.0800', '0.0400', '0.3300', '0.2300', '0.1100', '0.7300']);
      assert.equal(await page.$$eval('.misclassified figure', (f) => f.length), 2 * s.misclassified);
      // Laid out, not collapsed: the page has real height and the figures table is visible.
      assert.ok(await page.$eval('table.class-figures', (t) => t.getBoundingClientRect().height > 300));
      assert.deepEqual(errors, []);
      assert.deepEqual(external, []);
    } finally {
      await page.close();
    }
  });

  it('renders an experiment report: aggregate table with marks, side-by-side grids, decoy figures', async () => {
    const dir = writeExperiment(tempDir());
    const out = join(tempDir(), 'exp.html');
    const { path, kind } = await writeReport(dir, out);
    assert.equal(kind, 'experiment');
    assert.equal(path, out);
    const { page, errors, external } = await open(path);
    try {
      const widths = await imageWidths(page);
      assert.ok(widths.length > 0 && widths.every((w) => w > 0));
      assert.equal(await rowCount(page, 'table.aggregate'), EXPERIMENT_SETTINGS.length + 1);
      const cells = await page.$$eval('table.aggregate > tbody > tr', (rs) => rs.map((r) => {
        const m = (k: string): string | null => r.querySelector(`td[data-metric="${k}"]`)?.textContent ?? null;
        return { setting: r.getAttribute('data-setting'), cohSsim: m('coherenceSsim'), acc: m('accuracy'), decoy: m('decoyEnergy'), del: m('deletionAuc') };
      }));
      assert.deepEqual(cells.slice(0, 4).map((c) => c.setting), EXPERIMENT_SETTINGS.map((e) => e.setting));
      assert.equal(cells[0]!.cohSsim, '0.3000 ± 0.0100');
      assert.equal(cells[1]!.cohSsim, '0.2500 ± 0.0100 **');
      assert.equal(cells[2]!.cohSsim, '0.2000 ± 0.0100 *');
      assert.equal(cells[3]!.cohSsim, '0.1500 ± 0.0100');
      assert.equal(cells[1]!.acc, '94.00 ± 0.40');
      assert.equal(cells[2]!.decoy, '0.1600 ± 0.0200 *');
      // Every metric of aggregate.json's list is a column, in its order.
      const heads = await page.$$eval('table.aggregate th', (th) => th.map((t) => t.textContent));
      assert.equal(heads.length, 4 + EXPERIMENT_METRICS.length);
      assert.equal(heads[4], 'accuracy (%) ↑');
      // Lower coherence with t < 0 is an improvement; a larger deletion AUC (t > 0, lower is better) is not.
      assert.equal(await page.$eval('table.aggregate tr[data-setting="proto"] td[data-metric="coherenceSsim"] .sig', (e) => e.className), 'sig better');
      assert.equal(await page.$eval('table.aggregate tr[data-setting="proto"] td[data-metric="deletionAuc"] .sig', (e) => e.className), 'sig worse');
      assert.match(await page.$eval('table.aggregate tr[data-setting="proto"] td[data-metric="coherenceSsim"] > span', (e) => e.getAttribute('title') ?? ''),
        /Welch t = -3\.200, p = 0\.00300 vs ce; seeds: 0\.2400, 0\.2500, 0\.2600; significantly better$/);
      assert.match(await page.$eval('.failed', (e) => e.textContent ?? ''), /simplecnn\/decoy-mnist\/batch\/seed2: non-finite/);

      // One group per (model, dataset); the first holds every setting side by side.
      assert.equal(await page.$$eval('section.group', (g) => g.length), 2);
      const sideHeads = await page.$$eval('section.group:first-of-type table.side-by-side th', (th) => th.map((t) => t.childNodes[0]!.textContent));
      assert.deepEqual(sideHeads, ['class', 'mean image', ...EXPERIMENT_SETTINGS.map((e) => e.setting)]);
      assert.equal(await rowCount(page, 'section.group:first-of-type table.side-by-side'), 10);
      const curves = await chartPoints(page, 'Test accuracy per epoch (first seed of each setting)');
      assert.deepEqual(Object.keys(curves), EXPERIMENT_SETTINGS.map((e) => e.setting));
      assert.ok(Object.values(curves).every((p) => p.declared === 3 && p.drawn === 3));
      assert.equal(await page.$$eval('section.group:first-of-type svg.bar-chart rect.bar', (r) => r.length), EXPERIMENT_SETTINGS.length);
      assert.equal(await rowCount(page, 'section.group:first-of-type table.decoy-samples'), EXPERIMENT_SETTINGS.length);
      assert.match(await page.$eval('.warn', (w) => w.textContent ?? ''), /runs\/does-not-exist/);
      assert.deepEqual(errors, []);
      assert.deepEqual(external, []);
    } finally {
      await page.close();
    }
  });

  it('renders the reports of a real (tiny) experiment: train → evaluate → aggregate', async () => {
    const dir = join(tempDir(), 'exp');
    const grid = join(tempDir(), 'grid.json');
    writeFileSync(grid, JSON.stringify({
      name: 'tiny', base: { epochs: 2, batchSize: 50, trainLimit: 100, testLimit: 50, threads: 1, warmupSteps: 1, logEvery: 1 },
      models: ['simplecnn'], datasets: ['decoy-mnist'],
      settings: [{ name: 'ce' }, { name: 'proto', lambdaProto: 1, distance: 'ssim', camWarmupEpochs: 1 }],
      seeds: [0, 1], evaluate: { testLimit: 50, faithfulnessN: 10, steps: 4 },
    }));
    const r = spawnSync(process.execPath, [CLI, 'experiment', '--config', grid, '--out', dir, '--quiet'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const exp = await writeReport(dir);
    assert.equal(exp.kind, 'experiment');
    const one = await writeReport(join(dir, 'simplecnn', 'decoy-mnist', 'proto', 'seed0'));
    assert.equal(one.kind, 'run');
    for (const path of [exp.path, one.path]) {
      const { page, errors, external } = await open(path);
      try {
        const widths = await imageWidths(page);
        assert.ok(widths.length > 20 && widths.every((w) => w > 0));
        if (path === exp.path) {
          assert.equal(await rowCount(page, 'table.aggregate'), 2);
          assert.equal(await rowCount(page, 'table.side-by-side'), 10);
          // Decoy energy, then worst-group accuracy, bias-conflicting accuracy and CAM mass on the patch: a bar per setting each.
          assert.deepEqual(await page.$$eval('svg.bar-chart', (charts) => charts.map((c) => c.querySelectorAll('rect.bar').length)), [2, 2, 2, 2]);
          // Every seed's step-level CE (2 steps an epoch × 2 epochs, logged every step).
          const ce = await chartPoints(page, 'Training cross-entropy per logged step window (every seed)');
          assert.deepEqual(Object.keys(ce).sort(), ['ce seed 0', 'ce seed 1', 'proto seed 0', 'proto seed 1']);
          assert.ok(Object.values(ce).every((p) => p.drawn === 4), JSON.stringify(ce));
        } else {
          assert.equal(await rowCount(page, 'table.epochs'), 2);
          const loss = await chartPoints(page, 'Training loss (means over logged step windows)');
          assert.equal(loss.CE?.drawn, 4);
          assert.equal(loss['prototype loss']?.drawn, 2); // epoch 1 (steps 1–2) is CE-only warm-up
          const acc = await chartPoints(page, 'Accuracy');
          assert.equal(acc['test accuracy']?.drawn, 2); // at each epoch's last step
          assert.equal(await rowCount(page, 'table.class-figures'), 10);
        }
        assert.deepEqual(errors, []);
        assert.deepEqual(external, []);
      } finally {
        await page.close();
      }
    }
  });

  // A colourised Fashion-MNIST folder (RGB) trained for real: square 32×32 held in memory, and non-square 32×24
  // (H×W) streamed from disk. Every figure loads, colour inputs stay in colour, and tiles keep the H:W aspect.
  for (const [size, stream] of [['32', 'off'], ['32x24', 'on']] as const) {
    it(`renders the report of a colourised Fashion-MNIST folder run at ${size} (RGB, --stream ${stream})`, async () => {
      const { writeColourFashionFolder } = await import('../data/user-data.js');
      const root = tempDir();
      await writeColourFashionFolder(root, 120, 60);
      const run = join(tempDir(), 'run');
      const t = spawnSync(process.execPath, [CLI, 'train', '--dataset', `folder:${root}`, '--image-size', size, '--stream', stream,
        '--batch-size', '20', '--epochs', '2', '--lambda-proto', '1', '--lambda-batch', '1', '--cam-warmup-steps', '3',
        '--log-every', '2', '--threads', '1', '--out', run, '--quiet'], { encoding: 'utf8' });
      assert.equal(t.status, 0, t.stderr);
      const ev = spawnSync(process.execPath, [CLI, 'evaluate', '--checkpoint', run, '--faithfulness-n', '10', '--steps', '4', '--quiet'], { encoding: 'utf8' });
      assert.equal(ev.status, 0, ev.stderr);
      const [h, w] = size === '32' ? [32, 32] : [32, 24];
      const figures = JSON.parse(readFileSync(join(run, 'evaluation.json'), 'utf8')).figures;
      assert.deepEqual([figures.height, figures.width], [h, w]);
      const rep = await writeReport(run);
      const { page, errors, external } = await open(rep.path);
      try {
        const sizes = await page.$$eval('table.class-figures img', (ims) => ims.map((im) => [(im as HTMLImageElement).naturalWidth, (im as HTMLImageElement).naturalHeight]));
        // Per class its mean image, mean CAM and bank prototype (where set), then its sample overlays: what
        // evaluation.json holds, every one an image.
        const set = (xs: unknown[] | null | undefined): number => (xs ?? []).filter((x) => x !== null).length;
        const expected = set(figures.meanImages) + set(figures.meanCams) + set(figures.bankPrototypes) + (figures.samples?.length ?? 0);
        assert.ok(set(figures.meanImages) === 10 && expected >= 25, `expected ${expected}`);
        assert.equal(sizes.length, expected, `figures: ${sizes.length}`);
        // Every figure decoded, at the maps' own W×H (a grey mean image, a jet CAM and colour overlays alike).
        for (const [nw, nh] of sizes) assert.deepEqual([nw, nh], [w, h]);
        assert.equal(await rowCount(page, 'table.class-figures'), 10);
        // Drawn on a canvas, the misclassified inputs are in colour (R, G, B differ), as the images are.
        const coloured = await page.$$eval('.misclassified .pair > figure:first-child img', (ims) => ims.map((im) => {
          const img = im as HTMLImageElement;
          const c = document.createElement('canvas');
          c.width = img.naturalWidth;
          c.height = img.naturalHeight;
          const g = c.getContext('2d')!;
          g.drawImage(img, 0, 0);
          const d = g.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) n++;
          return n;
        }));
        assert.ok(coloured.length > 0 && coloured.every((n) => n > 0), JSON.stringify(coloured));
        // The tiles keep the aspect H:W as displayed (a fixed width, the height following).
        const shown = await page.$eval('table.class-figures figure.tile img', (im) => [(im as HTMLImageElement).width, (im as HTMLImageElement).height]);
        assert.ok(Math.abs(shown[1]! / shown[0]! - h / w) < 0.02, `shown ${shown.join('×')} for ${w}×${h}`);
        assert.deepEqual(errors, []);
        assert.deepEqual(external, []);
      } finally {
        await page.close();
      }
    });
  }

  it('the request guard works: a page that fetches is caught', async () => {
    const dir = tempDir();
    const path = join(dir, 'bad.html');
    writeFileSync(path, '<!DOCTYPE html><html><body><img src="http://example.invalid/x.png"></body></html>');
    const { page, external } = await open(path);
    await page.close();
    assert.deepEqual(external.filter((u) => !u.startsWith('failed: ')), ['http://example.invalid/x.png']);
  });
});
