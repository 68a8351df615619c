// Bundles the `batchcam serve` front end (web/) into dist/web/ with esbuild, at build time: the page loads nothing
// from elsewhere when viewed (run by `npm run build`, after tsc).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist/web', { recursive: true });
await build({
  entryPoints: { app: 'web/main.ts' },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  outdir: 'dist/web',
  logLevel: 'warning',
});
copyFileSync('web/index.html', 'dist/web/index.html');
