import { esc } from './html.js';

/** One line of a chart: y per x; null leaves a gap (e.g. a regulariser during CE-only warm-up epochs). */
export interface Series {
  name: string;
  points: readonly (readonly [number, number | null])[];
  /** Line colour (default: the palette by series index). */
  color?: string;
  /** SVG stroke-dasharray, e.g. '5 3' (default: solid). */
  dash?: string;
}

export interface LineChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Fixed y range (e.g. [0, 1] for accuracy); default: the data's range, padded. */
  yRange?: readonly [number, number];
}

/** Colours that stay distinct for colour-blind readers (Okabe–Ito). */
export const PALETTE = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000', '#f0e442'];

/** Round tick positions covering [lo, hi] with about `count` steps of 1, 2 or 5 × 10ᵏ. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

/** Splits a series into runs of non-null points, one polyline each. */
function segments(points: Series['points']): [number, number][][] {
  const out: [number, number][][] = [];
  let cur: [number, number][] = [];
  for (const [x, y] of points) {
    if (y === null || !Number.isFinite(y) || !Number.isFinite(x)) {
      if (cur.length) out.push(cur);
      cur = [];
    } else cur.push([x, y]);
  }
  if (cur.length) out.push(cur);
  return out;
}

/**
 * An inline SVG line chart with axes, ticks, a legend and a marker per point (so a one-epoch run still shows).
 * Each series is drawn as `<polyline data-series=NAME>` segments; `data-points` on the <g> counts its points.
 */
export function lineChart(series: readonly Series[], o: LineChartOptions): string {
  const W = o.width ?? 520;
  const H = o.height ?? 280;
  const m = { left: 56, right: 16, top: 28, bottom: 42 + 16 * Math.ceil(series.length / 3) };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = series.flatMap((s) => segments(s.points).flat());
  let [x0, x1] = all.length ? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))] : [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  let [y0, y1] = o.yRange ?? (all.length ? [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))] : [0, 1]);
  if (!o.yRange) {
    const pad = (y1 - y0) * 0.05 || Math.abs(y1) * 0.05 || 1;
    [y0, y1] = [y0 - pad, y1 + pad];
    if (y0 < 0 && all.every((p) => p[1] >= 0)) y0 = 0; // losses and accuracies are non-negative: keep the axis there
  }
  const sx = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number): number => m.top + (1 - (y - y0) / (y1 - y0)) * ph;
  const f = (v: number): string => v.toFixed(1);
  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-weight="600">${esc(o.title)}</text>`);
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line class="grid" x1="${m.left}" x2="${m.left + pw}" y1="${f(sy(t))}" y2="${f(sy(t))}"/>`);
    parts.push(`<text x="${m.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${tickLabel(t)}</text>`);
  }
  const xt = niceTicks(x0, x1, Math.min(8, Math.max(1, Math.round(x1 - x0))));
  for (const t of xt) {
    parts.push(`<line class="axis" x1="${f(sx(t))}" x2="${f(sx(t))}" y1="${m.top + ph}" y2="${m.top + ph + 4}"/>`);
    parts.push(`<text x="${f(sx(t))}" y="${m.top + ph + 16}" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  parts.push(`<line class="axis" x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}"/>`);
  parts.push(`<line class="axis" x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}"/>`);
  if (o.xLabel) parts.push(`<text x="${m.left + pw / 2}" y="${m.top + ph + 32}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  if (o.yLabel) {
    parts.push(`<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  }
  series.forEach((s, i) => {
    const c = s.color ?? PALETTE[i % PALETTE.length]!;
    const dash = s.dash ? ` stroke-dasharray="${esc(s.dash)}"` : '';
    const segs = segments(s.points);
    const n = segs.reduce((a, g) => a + g.length, 0);
    const lines = segs.map((g) => `<polyline data-series="${esc(s.name)}" fill="none" stroke="${c}" stroke-width="1.8"${dash} points="${g.map(([x, y]) => `${f(sx(x))},${f(sy(y))}`).join(' ')}"/>`);
    const dots = segs.flat().map(([x, y]) => `<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="2.4" fill="${c}"><title>${esc(s.name)} @ ${tickLabel(x)}: ${y.toPrecision(5)}</title></circle>`);
    parts.push(`<g class="series" data-series="${esc(s.name)}" data-points="${n}">${lines.join('')}${dots.join('')}</g>`);
    const lx = m.left + (i % 3) * (pw / 3);
    const ly = m.top + ph + (o.xLabel ? 50 : 34) + 16 * Math.floor(i / 3);
    parts.push(`<line x1="${f(lx)}" x2="${f(lx + 18)}" y1="${ly - 4}" y2="${ly - 4}" stroke="${c}" stroke-width="2.5"${dash}/>`);
    parts.push(`<text x="${f(lx + 24)}" y="${ly}">${esc(s.name)}${n === 0 ? ' (no data)' : ''}</text>`);
  });
  return `<svg class="chart line-chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}

/** One bar with its error (± std). */
export interface Bar {
  label: string;
  value: number | null;
  error?: number | null;
}

/** An inline SVG bar chart with ±error whiskers (e.g. decoy energy mean ± std per setting). */
export function barChart(bars: readonly Bar[], o: { title: string; yLabel?: string; width?: number; height?: number; yRange?: readonly [number, number] }): string {
  const W = o.width ?? Math.max(260, 70 * bars.length + 80);
  const H = o.height ?? 240;
  const m = { left: 56, right: 12, top: 28, bottom: 48 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const tops = bars.map((b) => (b.value ?? 0) + (b.error ?? 0));
  const [y0, y1] = o.yRange ?? [0, Math.max(1e-9, ...tops) * 1.1];
  const sy = (y: number): number => m.top + (1 - (Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * ph;
  const f = (v: number): string => v.toFixed(1);
  const bw = pw / Math.max(1, bars.length);
  const parts: string[] = [`<text x="${W / 2}" y="16" text-anchor="middle" font-weight="600">${esc(o.title)}</text>`];
  for (const t of niceTicks(y0, y1, 4)) {
    parts.push(`<line class="grid" x1="${m.left}" x2="${m.left + pw}" y1="${f(sy(t))}" y2="${f(sy(t))}"/>`);
    parts.push(`<text x="${m.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${tickLabel(t)}</text>`);
  }
  parts.push(`<line class="axis" x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}"/>`);
  parts.push(`<line class="axis" x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}"/>`);
  if (o.yLabel) parts.push(`<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  bars.forEach((b, i) => {
    const cx = m.left + bw * (i + 0.5);
    const c = PALETTE[i % PALETTE.length]!;
    if (b.value !== null && Number.isFinite(b.value)) {
      const top = sy(b.value);
      parts.push(`<rect class="bar" data-label="${esc(b.label)}" x="${f(cx - bw * 0.3)}" y="${f(top)}" width="${f(bw * 0.6)}" height="${f(m.top + ph - top)}" fill="${c}"><title>${esc(b.label)}: ${b.value.toPrecision(4)}${b.error ? ` ± ${b.error.toPrecision(3)}` : ''}</title></rect>`);
      if (b.error && Number.isFinite(b.error)) {
        const a = sy(b.value - b.error);
        const z = sy(b.value + b.error);
        parts.push(`<path d="M${f(cx)} ${f(a)}V${f(z)}M${f(cx - 6)} ${f(a)}h12M${f(cx - 6)} ${f(z)}h12" stroke="#222" fill="none"/>`);
      }
    }
    parts.push(`<text x="${f(cx)}" y="${m.top + ph + 16}" text-anchor="middle">${esc(b.label)}</text>`);
  });
  return `<svg class="chart bar-chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.title)}">${parts.join('')}</svg>`;
}
