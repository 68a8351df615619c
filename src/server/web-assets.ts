import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { REPORT_CSS } from '../report/html.js';

/** A file the server sends as is. */
export interface Asset {
  type: string;
  body: Buffer;
}

/** Where `npm run build` puts the bundled front end (esbuild, scripts/build-web.mjs): dist/web/. */
export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/**
 * The front end, read once at start from the build output: a fixed table of names, so no request path ever reaches
 * the file system. The report's style sheet comes from the report module itself (one look for both).
 */
export function loadAssets(dir = WEB_DIR): Map<string, Asset> {
  const read = (name: string): Buffer => {
    try {
      return readFileSync(`${dir}${name}`);
    } catch (e) {
      throw new Error(`the web front end is not built (${dir}${name}: ${(e as Error).message}); run npm run build`);
    }
  };
  return new Map<string, Asset>([
    ['/', { type: 'text/html; charset=utf-8', body: read('index.html') }],
    ['/assets/app.js', { type: 'text/javascript; charset=utf-8', body: read('app.js') }],
    ['/assets/app.css', { type: 'text/css; charset=utf-8', body: read('app.css') }],
    ['/assets/report.css', { type: 'text/css; charset=utf-8', body: Buffer.from(REPORT_CSS) }],
  ]);
}
