/** Small helpers for writing the report's HTML by hand (no template engine: the report must be one static file). */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text escaped for HTML content and attribute values. */
export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** An element; `attrs` values are escaped, `children` are taken as HTML. null/false attributes are left out. */
export function el(tag: string, attrs: Record<string, string | number | boolean | null | undefined>, ...children: string[]): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== null && v !== undefined && v !== false)
    .map(([k, v]) => (v === true ? ` ${k}` : ` ${k}="${esc(v)}"`))
    .join('');
  return `<${tag}${a}>${children.join('')}</${tag}>`;
}

/** A number for a table: fixed decimals, '—' when missing or not finite. */
export function fmt(v: number | null | undefined, digits = 4): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

/** A fraction as a percentage with two decimals, '—' when missing. */
export function pct(v: number | null | undefined, digits = 2): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(digits)}%` : '—';
}

/** A table of escaped header cells and HTML body cells; `cls` names it for styling and tests. */
export function table(cls: string, header: readonly string[], rows: readonly (readonly string[])[], caption?: string): string {
  return el('table', { class: cls },
    caption ? el('caption', {}, esc(caption)) : '',
    el('thead', {}, el('tr', {}, ...header.map((h) => el('th', {}, esc(h))))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))));
}

/** An <img> of a data: URI with a caption under it. `title` becomes the tooltip. */
export function figure(src: string, caption: string, o: { width?: number; title?: string; cls?: string } = {}): string {
  return el('figure', { class: o.cls ?? 'tile' },
    `<img src="${src}" alt="${esc(caption)}"${o.width ? ` width="${o.width}"` : ''}${o.title ? ` title="${esc(o.title)}"` : ''}>`,
    el('figcaption', {}, esc(caption)));
}

/** The report's style sheet: the report inlines it, `batchcam serve` serves it, so both look the same. */
export const REPORT_CSS = `
:root { --fg:#1d2330; --muted:#5b6477; --line:#d8dde6; --bg:#ffffff; --band:#f5f7fa; --accent:#2a62c9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg);
  background: var(--bg); margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); padding: 2px 0 6px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; vertical-align: middle; }
th { background: var(--band); font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
td.imgs, table.figs td { text-align: left; }
table.aggregate td { white-space: nowrap; } table.aggregate td:nth-child(-n+3), table.aggregate th:nth-child(-n+3) { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
svg.chart { background: #fff; border: 1px solid var(--line); }
svg.chart text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg.chart .axis { stroke: #8a93a6; stroke-width: 1; } svg.chart .grid { stroke: #eceff4; stroke-width: 1; }
figure.tile { display: inline-block; margin: 2px 4px 6px 0; text-align: center; vertical-align: top; }
figure.tile img { display: block; width: 84px; height: auto; image-rendering: pixelated; border: 1px solid var(--line); }
figure.tile figcaption { font-size: 11px; color: var(--muted); max-width: 84px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
img.legend { image-rendering: pixelated; height: 12px; width: 200px; vertical-align: middle; border: 1px solid var(--line); }
.sig { font-weight: 600; } .sig.better { color: #1a7f37; } .sig.worse { color: #b0302a; } .scroll { overflow-x: auto; } .warn { color: #8a5a00; background: #fff6e0; padding: 6px 10px; border-radius: 4px; }
.note { color: var(--muted); font-size: 12px; }
details > summary { cursor: pointer; color: var(--accent); }
@media print { body { max-width: none; } h2 { break-after: avoid; } table, figure { break-inside: avoid; } }
`;

/**
 * A complete standalone page. The Content-Security-Policy forbids fetching anything: the report must render
 * offline, so an accidental external reference fails loudly in the browser instead of silently phoning home.
 */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="batchcam report">
<title>${esc(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
