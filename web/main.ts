// The front end of `batchcam serve`, bundled by esbuild at build time (scripts/build-web.mjs). Everything it shows
// comes from the server's JSON API and live feed; CAM colours come from the report's own colormap module.
import uPlot from 'uplot';
import './style.css';
import { colourise, overlay } from '../src/report/colormap.js';

interface RunRow {
  id: string; name: string; status: string; step: number; timeline: boolean;
  config: Record<string, unknown> | null;
  final: { testAccuracy: number | null } | null;
}
interface Timeline {
  n: number; channels: number; height: number; width: number; numClasses: number; classNames: string[];
  labels: number[]; pixels: string; steps: number[];
}
interface TimelineRecord { step: number; epoch: number; pred: number[]; pPred: number[]; pLabel: number[]; cams: string }
interface Explanation {
  checkpoint: string; checkpoints: string[]; layer: string; camLayers: string[]; classNames: string[]; pred: number; target: number;
  label: number | null; source: string; probabilities: number[]; channels: number; height: number; width: number; image: string; cam: string;
}
interface ModelInfo {
  checkpoint: string; checkpoints: string[]; model: string; dataset: string; camLayers: string[]; defaultLayer: string;
  classNames: string[]; imageShape: [number, number, number];
}
type Side = 'a' | 'b';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const b64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const text = (tag: string, t: string, cls?: string): HTMLElement => {
  const e = document.createElement(tag);
  e.textContent = t; // names are never parsed as markup
  if (cls) e.className = cls;
  return e;
};

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(path, init);
  const body = await r.json() as T & { error?: string };
  if (!r.ok) throw new Error(body.error ?? `${r.status}`);
  return body;
}

/** An RGB raster drawn into a canvas the size of the map (CSS scales it, pixelated). */
function canvasOf(rgb: Uint8Array, width: number, height: number, cls = 'map'): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  c.className = cls;
  const img = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    img.data[i * 4] = rgb[i * 3]!;
    img.data[i * 4 + 1] = rgb[i * 3 + 1]!;
    img.data[i * 4 + 2] = rgb[i * 3 + 2]!;
    img.data[i * 4 + 3] = 255;
  }
  c.getContext('2d')!.putImageData(img, 0, 0);
  return c;
}

/** The image as RGB bytes (grey or C×H×W planes in [0,1]). */
function imageRgb(img: Float32Array, n: number): Uint8Array {
  const out = new Uint8Array(n * 3);
  const colour = img.length === 3 * n;
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) out[i * 3 + k] = Math.round(255 * img[colour ? k * n + i : i]!);
  return out;
}

// ---------- state ----------
let runs: RunRow[] = [];
const selected: Record<Side, string | null> = { a: null, b: null };
const timelines: Record<Side, Timeline | null> = { a: null, b: null };
const charts: Record<Side, uPlot | null> = { a: null, b: null };
const sources: Record<Side, EventSource | null> = { a: null, b: null };
const stepData: Record<Side, Map<string, (number | null)[]>> = { a: new Map(), b: new Map() };
const models: Record<Side, ModelInfo | null> = { a: null, b: null };
const TERMS = ['ce', 'proto', 'batch', 'protoContrast', 'batchContrast', 'background', 'mining', 'loss', 'trainAccuracy'];
const COLOURS = ['#2a62c9', '#d9480f', '#2b8a3e', '#862e9c', '#c2255c', '#5c940d', '#e67700', '#1d2330', '#0b7285'];

// ---------- runs and experiments ----------
async function loadRuns(): Promise<void> {
  const list = await api<{ root: string; runs: RunRow[]; experiments: { id: string; name: string }[] }>('/api/runs');
  runs = list.runs;
  $('root').textContent = `${list.root}: ${runs.length} runs, ${list.experiments.length} experiments`;
  const tbody = $('runs').querySelector('tbody')!;
  tbody.replaceChildren(...runs.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.id = r.id;
    const c = r.config ?? {};
    const acc = r.final?.testAccuracy;
    tr.append(text('td', r.name), text('td', r.status, `status-${r.status}`), text('td', String(c.model ?? '—')), text('td', String(c.dataset ?? '—')),
      text('td', String(c.lambdaProto ?? '—')), text('td', String(c.lambdaBatch ?? '—')), text('td', String(r.step)),
      text('td', typeof acc === 'number' ? `${(100 * acc).toFixed(2)} %` : '—'), text('td', r.timeline ? 'yes' : '—'));
    return tr;
  }));
  for (const side of ['a', 'b'] as const) {
    const sel = $<HTMLSelectElement>(`run-${side}`);
    const keep = sel.value;
    sel.replaceChildren(text('option', '—'), ...runs.map((r) => {
      const o = text('option', r.name) as HTMLOptionElement;
      o.value = r.id;
      return o;
    }));
    (sel.firstChild as HTMLOptionElement).value = '';
    const initial = keep || (side === 'a' ? runs[0]?.id : runs[1]?.id) || '';
    sel.value = initial;
    if (initial !== (selected[side] ?? '')) void selectRun(side, initial || null);
  }
  const box = $('experiments');
  box.replaceChildren();
  for (const e of list.experiments) {
    const x = await api<{ name: string; table: string }>(`/api/experiments/${e.id}`);
    box.append(text('h2', `Experiment ${x.name}`));
    const div = document.createElement('div');
    div.innerHTML = x.table; // the report's table: every name in it is escaped by the report's esc()
    div.querySelectorAll('table').forEach(sortable);
    box.append(div);
  }
}

/** Click a header to sort by its column (numbers by value, '—' last), again to reverse. */
function sortable(table: HTMLTableElement): void {
  table.querySelectorAll('th').forEach((th, col) => {
    th.classList.add('sortable');
    th.addEventListener('click', () => {
      const dir = th.dataset.dir === 'asc' ? -1 : 1;
      th.dataset.dir = dir === 1 ? 'asc' : 'desc';
      const body = table.tBodies[0]!;
      const key = (tr: HTMLTableRowElement): number | string => {
        const t = tr.cells[col]?.textContent ?? '';
        const v = parseFloat(t);
        return Number.isNaN(v) ? t : v;
      };
      const rows = [...body.rows].sort((x, y) => {
        const a = key(x);
        const b = key(y);
        return dir * (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)));
      });
      body.append(...rows);
    });
  });
}

// ---------- live curves ----------
function ensureChart(side: Side): void {
  const data = stepData[side];
  const keys = TERMS.filter((k) => (data.get(k) ?? []).some((v) => v !== null));
  const el = $(`curves-${side}`);
  const xs = data.get('step') ?? [];
  el.dataset.points = String(xs.length);
  const series = [xs, ...keys.map((k) => data.get(k)!)] as uPlot.AlignedData;
  const chart = charts[side];
  if (chart && chart.series.length === keys.length + 1) {
    chart.setData(series);
    return;
  }
  chart?.destroy();
  el.replaceChildren();
  charts[side] = new uPlot({
    width: Math.max(320, el.clientWidth || 480), height: 240,
    scales: { x: { time: false } },
    series: [{ label: 'step' }, ...keys.map((k, i) => ({ label: k, stroke: COLOURS[TERMS.indexOf(k)] ?? COLOURS[i % COLOURS.length], spanGaps: true }))],
    axes: [{ label: 'step' }, {}],
  }, series, el);
}

function addSteps(side: Side, lines: Record<string, number | null>[], reset: boolean): void {
  const data = stepData[side];
  if (reset) data.clear();
  for (const key of ['step', ...TERMS]) {
    const col = data.get(key) ?? [];
    for (const l of lines) col.push(typeof l[key] === 'number' ? l[key] : null);
    data.set(key, col);
  }
  ensureChart(side);
}

function listen(side: Side, id: string): void {
  sources[side]?.close();
  const es = new EventSource(`/api/runs/${id}/live`);
  sources[side] = es;
  es.addEventListener('steps', (e) => {
    const d = JSON.parse((e as MessageEvent<string>).data) as { reset: boolean; lines: Record<string, number | null>[] };
    addSteps(side, d.lines, d.reset);
  });
  es.addEventListener('probes', (e) => {
    const steps = JSON.parse((e as MessageEvent<string>).data) as number[];
    void refreshTimeline(side, steps);
  });
  es.addEventListener('status', (e) => {
    const row = runs.find((r) => r.id === id);
    const status = JSON.parse((e as MessageEvent<string>).data) as string;
    $(`curves-${side}-title`).textContent = `${row?.name ?? id} (${status})`;
    // A run that has just finished may have gained weights files (model.safetensors): read its lists again.
    if (models[side] && status !== 'running') models[side] = null;
    loadModel(side);
  });
  // A run before its first checkpoint has no model to list: asked again when an epoch ends.
  es.addEventListener('metrics', () => {
    if (!models[side]) loadModel(side);
  });
}

async function selectRun(side: Side, id: string | null): Promise<void> {
  selected[side] = id;
  charts[side]?.destroy();
  charts[side] = null;
  stepData[side].clear();
  timelines[side] = null;
  for (const part of ['curves', 'timeline', 'explain']) {
    $(`${part}-${side}`).replaceChildren();
    $(`${part}-${side}-title`).textContent = id ? runs.find((r) => r.id === id)?.name ?? '' : '';
  }
  sources[side]?.close();
  models[side] = null;
  fillControls();
  if (id) {
    listen(side, id);
    loadModel(side);
  }
  updateSlider();
}

// ---------- the model's lists: checkpoints, layers, classes ----------
const modelLoads: Record<Side, Promise<void> | null> = { a: null, b: null };

/**
 * Reads the chosen run's layer and class lists (GET /api/runs/:id/model) so they can be chosen before the first
 * explanation. Only once the run has weights (a fresh run gets them at its first checkpoint; no 404 meanwhile).
 */
function loadModel(side: Side): void {
  if (modelLoads[side] || models[side]) return;
  const id = selected[side];
  if (!id) return;
  modelLoads[side] = (async () => {
    const run = await api<{ checkpoints: string[] }>(`/api/runs/${id}`);
    if (selected[side] !== id || run.checkpoints.length === 0) return;
    const info = await api<ModelInfo>(`/api/runs/${id}/model`);
    if (selected[side] !== id) return;
    models[side] = info;
    fillControls();
  })().catch((x: unknown) => {
    const err = $('explain-error');
    err.textContent = `${runs.find((r) => r.id === id)?.name ?? id}: ${(x as Error).message}`;
    err.classList.remove('hidden');
  }).finally(() => {
    modelLoads[side] = null;
  });
}

/** Options of a select, keeping the chosen value when it is still offered. */
function fillSelect(sel: HTMLSelectElement, options: [value: string, label: string][]): void {
  const keep = sel.value;
  sel.replaceChildren(...options.map(([v, l]) => {
    const o = text('option', l) as HTMLOptionElement;
    o.value = v;
    return o;
  }));
  if (options.some(([v]) => v === keep)) sel.value = keep;
}

/** The shared checkpoint, layer and target lists, from run A's model (run B's while A has none). */
function fillControls(): void {
  const info = models.a ?? models.b;
  const layer = $<HTMLSelectElement>('layer');
  const target = $<HTMLSelectElement>('target');
  const checkpoint = $<HTMLSelectElement>('checkpoint');
  layer.dataset.run = info ? (models.a ? 'a' : 'b') : '';
  fillSelect(checkpoint, (info?.checkpoints ?? ['checkpoint', 'model', 'best']).map((c) => [c, c]));
  fillSelect(layer, [['', info ? `run's default (${info.defaultLayer})` : "run's default"], ...(info?.camLayers ?? []).map((l): [string, string] => [l, l])]);
  fillSelect(target, [['pred', 'predicted class'], ...(info?.classNames ?? []).map((n, c): [string, string] => [String(c), n])]);
}

// ---------- CAM timeline ----------
const records = new Map<string, TimelineRecord>();

async function refreshTimeline(side: Side, steps: number[]): Promise<void> {
  const id = selected[side];
  if (!id) return;
  if (steps.length === 0) return;
  if (!timelines[side]) {
    timelines[side] = await api<Timeline>(`/api/runs/${id}/timeline`);
    if (side === 'a') fillTimelineFilters(timelines.a!);
  }
  timelines[side]!.steps = steps;
  const slider = $<HTMLInputElement>('step-slider');
  const atEnd = Number(slider.value) >= Number(slider.max);
  updateSlider(atEnd);
}

function fillTimelineFilters(t: Timeline): void {
  $('class-filter').replaceChildren(text('option', 'all'), ...t.classNames.map((n, c) => {
    const o = text('option', n) as HTMLOptionElement;
    o.value = String(c);
    return o;
  }));
  ($('class-filter').firstChild as HTMLOptionElement).value = '';
  $('probe-pick').replaceChildren(text('option', '—'), ...t.labels.map((l, k) => {
    const o = text('option', `probe ${k} (${t.classNames[l] ?? l})`) as HTMLOptionElement;
    o.value = String(k);
    return o;
  }));
  ($('probe-pick').firstChild as HTMLOptionElement).value = '';
}

/** Every step either run has a record of, in order: the slider's positions. */
function globalSteps(): number[] {
  return [...new Set([...(timelines.a?.steps ?? []), ...(timelines.b?.steps ?? [])])].sort((x, y) => x - y);
}

function updateSlider(toEnd = false): void {
  const steps = globalSteps();
  const slider = $<HTMLInputElement>('step-slider');
  slider.max = String(Math.max(0, steps.length - 1));
  slider.dataset.steps = String(steps.length);
  if (toEnd) slider.value = slider.max;
  void drawTimeline();
}

let drawing = 0;
async function drawTimeline(): Promise<void> {
  const ticket = ++drawing;
  const steps = globalSteps();
  const slider = $<HTMLInputElement>('step-slider');
  const step = steps[Number(slider.value)] ?? 0;
  $('step-value').textContent = String(step);
  const cls = $<HTMLSelectElement>('class-filter').value;
  const correctness = $<HTMLSelectElement>('correct-filter').value;
  for (const side of ['a', 'b'] as const) {
    const t = timelines[side];
    const id = selected[side];
    const box = $(`timeline-${side}`);
    if (!t || !id) continue;
    // This run's record at the step, or its last one before it.
    let k = -1;
    t.steps.forEach((s, i) => {
      if (s <= step) k = i;
    });
    if (k < 0) {
      box.replaceChildren(text('p', `no record at or before step ${step}`, 'note'));
      continue;
    }
    const key = `${id}/${k}/${t.steps[k]}`;
    let r = records.get(key);
    if (!r) {
      r = await api<TimelineRecord>(`/api/runs/${id}/timeline/${k}`);
      records.set(key, r);
    }
    if (ticket !== drawing) return; // the slider moved on meanwhile
    const hw = t.height * t.width;
    const size = t.channels * hw;
    const pixels = b64(t.pixels);
    const cams = b64(r.cams);
    const tiles: HTMLElement[] = [];
    for (let i = 0; i < t.n; i++) {
      const right = r.pred[i] === t.labels[i];
      if (cls !== '' && t.labels[i] !== Number(cls)) continue;
      if ((correctness === 'correct' && !right) || (correctness === 'wrong' && right)) continue;
      const img = Float32Array.from(pixels.subarray(i * size, (i + 1) * size), (p) => p / 255);
      const cam = Float32Array.from(cams.subarray(i * hw, (i + 1) * hw), (v) => v / 255);
      const fig = document.createElement('figure');
      fig.dataset.probe = String(i);
      fig.append(canvasOf(overlay(img, cam, 0.5), t.width, t.height),
        text('figcaption', `${t.classNames[t.labels[i]!] ?? t.labels[i]}→${t.classNames[r.pred[i]!] ?? r.pred[i]} ${r.pLabel[i]!.toFixed(2)}`, right ? '' : 'wrong'));
      tiles.push(fig);
    }
    box.dataset.step = String(r.step);
    box.replaceChildren(text('p', `step ${r.step} (epoch ${r.epoch}) · ${tiles.length} of ${t.n} probes · CAM of the true class`, 'note'), ...tiles);
  }
}

// ---------- explain on demand ----------
let lastImage: { file: Blob } | { probe: number } | { testIndex: number } | null = null;

async function explain(): Promise<void> {
  if (!lastImage) return;
  const err = $('explain-error');
  err.classList.add('hidden');
  for (const side of ['a', 'b'] as const) {
    const id = selected[side];
    if (!id) continue;
    const params = new URLSearchParams({ checkpoint: $<HTMLSelectElement>('checkpoint').value, target: $<HTMLSelectElement>('target').value });
    const layer = $<HTMLSelectElement>('layer').value;
    if (layer) params.set('layer', layer);
    if ('probe' in lastImage) {
      params.set('probe', String(lastImage.probe));
      params.set('probeRun', selected.a ?? id);
    }
    if ('testIndex' in lastImage) params.set('testIndex', String(lastImage.testIndex)); // of each run's own test split
    try {
      const e = await api<Explanation>(`/api/runs/${id}/explain?${params}`, {
        method: 'POST', ...('file' in lastImage ? { body: lastImage.file, headers: { 'content-type': 'application/octet-stream' } } : {}),
      });
      showExplanation(side, e);
    } catch (x) {
      err.textContent = `${runs.find((r) => r.id === id)?.name ?? id}: ${(x as Error).message}`;
      err.classList.remove('hidden');
      $(`explain-${side}`).replaceChildren();
    }
  }
}

function showExplanation(side: Side, e: Explanation): void {
  const hw = e.height * e.width;
  const px = b64(e.image);
  const img = Float32Array.from(px, (p) => p / 255);
  const camBytes = b64(e.cam);
  const cam = new Float32Array(camBytes.buffer, camBytes.byteOffset, hw);
  const targetSel = $<HTMLSelectElement>('target');
  const fig = (c: HTMLCanvasElement, caption: string): HTMLElement => {
    const f = document.createElement('figure');
    f.append(c, text('figcaption', caption));
    return f;
  };
  const list = document.createElement('ul');
  list.className = 'probs';
  e.probabilities.forEach((p, c) => {
    const li = text('li', `${e.classNames[c] ?? c}: ${p.toFixed(4)}`, c === e.target ? 'target' : '');
    li.dataset.class = String(c);
    li.dataset.p = String(p);
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${Math.round(100 * p)}px`;
    li.append(bar);
    li.addEventListener('click', () => {
      targetSel.value = String(c);
      void explain();
    });
    list.append(li);
  });
  const box = $(`explain-${side}`);
  box.dataset.pred = String(e.pred);
  box.dataset.target = String(e.target);
  box.dataset.source = e.source;
  box.dataset.label = e.label === null ? '' : String(e.label);
  const name = (c: number): string => e.classNames[c] ?? String(c);
  box.replaceChildren(
    fig(canvasOf(imageRgb(img, hw), e.width, e.height), 'input'),
    fig(canvasOf(colourise(cam), e.width, e.height), `CAM of ${name(e.target)}`),
    fig(canvasOf(overlay(img, cam, 0.5), e.width, e.height), 'overlay'),
    text('p', `${e.source}: ${e.label === null ? '' : `label ${name(e.label)}, `}predicted ${name(e.pred)} · layer ${e.layer} · ${e.checkpoint}`, 'note'), list);
}

// ---------- wiring ----------
for (const side of ['a', 'b'] as const) {
  $<HTMLSelectElement>(`run-${side}`).addEventListener('change', (ev) => void selectRun(side, (ev.target as HTMLSelectElement).value || null));
}
$('step-slider').addEventListener('input', () => void drawTimeline());
$('class-filter').addEventListener('change', () => void drawTimeline());
$('correct-filter').addEventListener('change', () => void drawTimeline());
for (const id of ['checkpoint', 'layer', 'target']) $(id).addEventListener('change', () => void explain());
$('probe-pick').addEventListener('change', (ev) => {
  const v = (ev.target as HTMLSelectElement).value;
  if (v === '') return;
  $<HTMLInputElement>('test-index').value = '';
  lastImage = { probe: Number(v) };
  void explain();
});
$('test-index').addEventListener('change', (ev) => {
  const v = (ev.target as HTMLInputElement).value.trim();
  if (!/^\d+$/.test(v)) return; // the browser's own check; the server names the valid range
  $<HTMLSelectElement>('probe-pick').value = '';
  lastImage = { testIndex: Number(v) };
  void explain();
});
$<HTMLInputElement>('file').addEventListener('change', (ev) => {
  const f = (ev.target as HTMLInputElement).files?.[0];
  if (!f) return;
  lastImage = { file: f };
  void explain();
});
const drop = $('drop');
drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  const f = ev.dataTransfer?.files[0];
  if (!f) return;
  lastImage = { file: f };
  void explain();
});

void loadRuns();
