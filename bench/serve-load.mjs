// Bounded load test of `batchcam serve` on loopback while a training run goes on (not part of the test suite).
// Trains the same run twice, alone and under load (autocannon on the static, JSON and timeline endpoints at a fixed
// rate, plus live-feed SSE listeners), and prints errors, p99 latency, the server's RSS and the training slow-down.
//   npm run build && node bench/serve-load.mjs [seconds=30] [rate=200 req/s] [listeners=20]
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startServer } from '../dist/src/server/index.js';

const seconds = Number(process.argv[2] ?? 30);
const rate = Number(process.argv[3] ?? 200);
const listeners = Number(process.argv[4] ?? 20);
const root = mkdtempSync(join(tmpdir(), 'serve-load-'));
const dir = join(root, 'runs');
mkdirSync(dir);
const ARGS = ['--train-limit', '12800', '--test-limit', '500', '--batch-size', '32', '--epochs', '1', '--log-every', '10', '--quiet'];

function trainRun(name) {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'train', '--out', join(dir, name), ...ARGS], { stdio: 'inherit' });
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`train exit ${code}`)))));
}

const alone = await trainRun('alone');
const s = await startServer({ dir });
const loaded = trainRun('loaded');
await new Promise((r) => setTimeout(r, 3000)); // the run's files exist
const list = await (await fetch(`${s.origin}/api/runs`, { headers: { authorization: `Bearer ${s.token}` } })).json();
const id = list.runs.find((r) => r.name === 'loaded').id;
const sse = [];
for (let i = 0; i < listeners; i++) {
  const c = new AbortController();
  fetch(`${s.origin}/api/runs/${id}/live`, { headers: { authorization: `Bearer ${s.token}` }, signal: c.signal })
    .then(async (r) => { for await (const _ of r.body) { /* drain */ } }).catch(() => undefined);
  sse.push(c);
}
const rss = [];
const sampler = setInterval(() => rss.push(process.memoryUsage().rss / 2 ** 20), 1000);
const result = await autocannon({
  url: s.origin, duration: seconds, connections: 10, overallRate: rate, headers: { authorization: `Bearer ${s.token}` },
  requests: [{ path: '/' }, { path: '/assets/app.js' }, { path: '/api/runs' }, { path: `/api/runs/${id}` }, { path: `/api/runs/${id}/timeline` }],
});
clearInterval(sampler);
for (const c of sse) c.abort();
const underLoad = await loaded;
await s.close();
const third = Math.max(1, Math.floor(rss.length / 3));
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
console.log(JSON.stringify({
  seconds, rate, sseListeners: listeners, requests: result.requests.total, errors: result.errors, timeouts: result.timeouts,
  non2xx: result.non2xx, latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  rssMiB: { firstThird: +mean(rss.slice(0, third)).toFixed(1), lastThird: +mean(rss.slice(-third)).toFixed(1), max: +Math.max(...rss).toFixed(1) },
  trainingSeconds: { alone: +alone.toFixed(1), underLoad: +underLoad.toFixed(1), slowdownPercent: +(100 * (underLoad / alone - 1)).toFixed(1) },
}, null, 2));
