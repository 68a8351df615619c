import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OptionError } from '../config/option-spec.js';
import { BatchcamError } from '../errors.js';
import { readAggregate, readMetrics, readSteps } from '../report/run-files.js';
import { aggregateTable } from '../report/experiment-report.js';
import { probeSteps, readProbeIndex, readProbeRecord } from '../train/run/probe-log.js';
import { newToken, requestToken, TOKEN_COOKIE, tokenMatches } from './access-token.js';
import { CHECKPOINTS, ClientError, ExplainService, type CheckpointName, type ExplainImage } from './explain-service.js';
import { JobQueue, QueueFullError } from './job-queue.js';
import { LiveFeed } from './live-feed.js';
import { RunCatalog, type CatalogEntry } from './run-catalog.js';
import { runStatus } from './run-status.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { loadAssets } from './web-assets.js';

/** How `batchcam serve` is set up (every field has the CLI's default). */
export interface ServerOptions {
  /** The directory whose runs and experiments are shown. */
  dir: string;
  /** Default 127.0.0.1. Any other than a loopback address needs `allowRemote`. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Set only when the user asked for the host explicitly (--host): the server is then reachable from the network. */
  allowRemote?: boolean;
  /** Default: a fresh random token. */
  token?: string;
  /** Explain requests waiting or running at most (default 4); more get 503. */
  queue?: number;
  /** Largest upload in bytes (default 10 MiB) and in pixels (default 25 megapixels). */
  maxUploadBytes?: number;
  maxPixels?: number;
  /** Where the bundled front end is (default dist/web/). */
  webDir?: string;
}

/** A started server. */
export interface RunningServer {
  app: FastifyInstance;
  /** http://host:port/ */
  origin: string;
  token: string;
  /** The URL to open: origin with the token. */
  url: string;
  queue: JobQueue;
  catalog: RunCatalog;
  close(): Promise<void>;
}

/** Whether a host name or address is this machine's loopback. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Runs must be named by an id from the listing: anything else, a path included, is simply not found. */
function entryOf(catalog: RunCatalog, id: string, kind: CatalogEntry['kind']): CatalogEntry {
  const e = catalog.find(id, kind);
  if (!e) throw new ClientError(404, `no ${kind} with id '${id.slice(0, 40)}' under the served directory`);
  return e;
}

function lastOf<T>(a: readonly T[]): T | null {
  return a.length ? a[a.length - 1]! : null;
}

/** The listing's line of a run: name, status, the settings that tell runs apart and the final numbers. */
function runSummary(catalog: RunCatalog, e: CatalogEntry): Record<string, unknown> {
  const metrics = readMetrics(join(e.dir, 'metrics.jsonl'));
  const steps = readSteps(join(e.dir, 'steps.jsonl'));
  const last = lastOf(metrics);
  let config: Record<string, unknown> | null = null;
  try {
    const f = catalog.file(e, 'config.json');
    config = f ? JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown> : null;
  } catch {
    config = null; // being written
  }
  return {
    id: e.id, name: e.name, status: runStatus(e.dir), config,
    step: lastOf(steps)?.step ?? last?.step ?? 0, epochs: metrics.length,
    final: last ? { testAccuracy: last.testAccuracy ?? null, loss: last.loss ?? null, ce: last.ce ?? null, trainAccuracy: last.trainAccuracy ?? null } : null,
    timeline: readProbeIndex(join(e.dir, 'probes.json')) !== null,
  };
}

/** A query value as a string (the first when repeated), or null. */
function q(req: FastifyRequest, key: string): string | null {
  const v = (req.query as Record<string, unknown>)[key];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s !== '' ? s : null;
}

/** The `checkpoint` query value: one of the fixed names, or `fallback` when absent. */
function checkpointOf<T extends CheckpointName | null>(req: FastifyRequest, fallback: T): CheckpointName | T {
  const c = q(req, 'checkpoint');
  if (c === null) return fallback;
  if (!(c in CHECKPOINTS)) throw new ClientError(400, `checkpoint: expected one of ${Object.keys(CHECKPOINTS).join(', ')}`);
  return c as CheckpointName;
}

/**
 * Builds and starts the `batchcam serve` server: the run browser's JSON API, its live feed (server-sent events) and
 * the bundled front end. Every request needs the token; files are read only from run directories found under `dir`
 * (after realpath), by fixed names.
 */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const host = o.host ?? '127.0.0.1';
  if (!isLoopback(host) && !o.allowRemote) {
    throw new OptionError(`refusing to listen on ${host}: the server would be reachable from the network; pass --host ${host} explicitly to allow it, or drop it to stay on 127.0.0.1`);
  }
  const catalog = new RunCatalog(o.dir);
  const token = o.token ?? newToken();
  const assets = loadAssets(o.webDir);
  const queue = new JobQueue(o.queue ?? 4);
  const explainer = new ExplainService(catalog, { maxPixels: o.maxPixels ?? 25_000_000 });
  const feed = new LiveFeed();
  const maxUpload = o.maxUploadBytes ?? 10 * 1024 * 1024;
  const app = Fastify({ logger: false, bodyLimit: maxUpload, routerOptions: { maxParamLength: 200 } });

  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxUpload }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    const given = requestToken(req.url, req.headers);
    if (!tokenMatches(given, token)) {
      return reply.code(401).send({ error: 'missing or wrong access token: open the URL batchcam serve printed (it ends in ?token=…)' });
    }
    // The token from the printed URL is kept in a cookie, so the page's own requests carry it.
    if (new URLSearchParams(req.url.split('?')[1] ?? '').has('token')) {
      reply.header('set-cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }
  });

  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not found' }));
  app.setErrorHandler((err: unknown, _req, reply) => {
    const e = err as Error & { statusCode?: number; code?: string };
    if (e instanceof ClientError) return reply.code(e.statusCode).send({ error: e.message });
    if (e instanceof QueueFullError) return reply.code(503).header('retry-after', '1').send({ error: e.message });
    if (e instanceof BatchcamError) return reply.code(422).send({ error: e.message });
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: `upload larger than ${maxUpload} bytes; send a smaller image` });
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return reply.code(e.statusCode).send({ error: e.message });
    process.stderr.write(`batchcam serve: unexpected error (a bug; please report it): ${e.stack ?? e.message}\n`);
    return reply.code(500).send({ error: 'internal error (logged by the server)' });
  });

  // Browsers ask for it on their own; no icon, and no 404 in the console.
  app.get('/favicon.ico', (_req, reply) => reply.code(204).send());
  for (const [path, a] of assets) app.get(path, (_req, reply) => reply.type(a.type).send(a.body));

  app.get('/api/runs', async () => {
    const all = catalog.list();
    return {
      root: catalog.root.split('/').pop(),
      runs: all.filter((e) => e.kind === 'run').map((e) => runSummary(catalog, e)),
      experiments: all.filter((e) => e.kind === 'experiment').map((e) => ({ id: e.id, name: e.name })),
    };
  });

  app.get<{ Params: { id: string } }>('/api/runs/:id', async (req) => {
    const e = entryOf(catalog, req.params.id, 'run');
    return { ...runSummary(catalog, e), metrics: readMetrics(join(e.dir, 'metrics.jsonl')), checkpoints: explainer.checkpoints(e) };
  });

  app.get<{ Params: { id: string } }>('/api/experiments/:id', async (req) => {
    const e = entryOf(catalog, req.params.id, 'experiment');
    const warnings: string[] = [];
    const agg = readAggregate(e.dir, warnings);
    const rows = agg?.rows ?? [];
    // The report's own table (one source of truth): mean ± std over seeds and Welch's t-test against the baseline.
    return { id: e.id, name: e.name, warnings, rows: rows.length, table: rows.length ? aggregateTable(rows, { metrics: agg?.metrics, baseline: agg?.baseline }) : '' };
  });

  app.get<{ Params: { id: string } }>('/api/runs/:id/timeline', async (req) => {
    const e = entryOf(catalog, req.params.id, 'run');
    const index = readProbeIndex(join(e.dir, 'probes.json'));
    if (!index) throw new ClientError(404, `run ${e.name} has no CAM timeline (trained with --probe-every 0, or before timelines existed)`);
    return { ...index, steps: probeSteps(join(e.dir, 'probes.bin'), index) };
  });

  app.get<{ Params: { id: string; k: string } }>('/api/runs/:id/timeline/:k', async (req) => {
    const e = entryOf(catalog, req.params.id, 'run');
    const index = readProbeIndex(join(e.dir, 'probes.json'));
    const k = /^\d{1,9}$/.test(req.params.k) ? Number(req.params.k) : -1;
    const r = index ? readProbeRecord(join(e.dir, 'probes.bin'), index, k) : null;
    if (!r) throw new ClientError(404, `run ${e.name} has no timeline record ${req.params.k.slice(0, 20)}`);
    return { step: r.step, epoch: r.epoch, pred: [...r.pred], pPred: [...r.pPred], pLabel: [...r.pLabel], cams: Buffer.from(r.cams).toString('base64') };
  });

  // The layer and class lists before any explanation; loading the model is libtorch work, so it queues like explain.
  app.get<{ Params: { id: string } }>('/api/runs/:id/model', async (req) => {
    const run = entryOf(catalog, req.params.id, 'run');
    const checkpoint = checkpointOf(req, null);
    return queue.run(() => explainer.modelInfo(run, checkpoint));
  });

  app.get<{ Params: { id: string } }>('/api/runs/:id/live', (req, reply) => {
    const e = entryOf(catalog, req.params.id, 'run');
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    const unsubscribe = feed.subscribe(e.dir, (ev) => res.write(`event: ${ev.event}\ndata: ${JSON.stringify(ev.data)}\n\n`));
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.raw.on('close', () => {
      clearInterval(beat);
      unsubscribe();
    });
  });

  app.post<{ Params: { id: string } }>('/api/runs/:id/explain', async (req) => {
    const run = entryOf(catalog, req.params.id, 'run');
    const checkpoint = checkpointOf(req, 'checkpoint');
    const t = q(req, 'target') ?? 'pred';
    const target = t === 'pred' ? 'pred' : /^\d{1,6}$/.test(t) ? Number(t) : NaN;
    if (Number.isNaN(target)) throw new ClientError(400, 'target: expected pred or a class index');
    const probe = q(req, 'probe');
    const testIndex = q(req, 'testIndex');
    const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : null;
    const given = [probe !== null, testIndex !== null, body !== null].filter(Boolean).length;
    if (given !== 1) {
      throw new ClientError(400, `send ${given ? 'only ' : ''}one image: PNG, JPEG or WebP bytes as the request body, a probe image (?probe=k) or a test image of the run's dataset (?testIndex=N)`);
    }
    let image: ExplainImage;
    if (probe !== null) {
      if (!/^\d{1,6}$/.test(probe)) throw new ClientError(400, 'probe: expected an integer');
      image = { probeOf: entryOf(catalog, q(req, 'probeRun') ?? run.id, 'run'), probe: Number(probe) };
    } else if (testIndex !== null) {
      // The range is the run's test split's, known once it is loaded: checked there.
      if (!/^\d{1,9}$/.test(testIndex)) throw new ClientError(400, `testIndex: expected a non-negative integer, got '${testIndex.slice(0, 20)}'`);
      image = { testIndex: Number(testIndex) };
    } else {
      image = { bytes: body! };
    }
    return queue.run(() => explainer.explain({ run, checkpoint, layer: q(req, 'layer'), target, image }));
  });

  await app.listen({ host, port: o.port ?? 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port ?? 0;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    app, origin, token, url: `${origin}/?token=${token}`, queue, catalog,
    async close() {
      feed.close();
      await app.close();
      await queue.run(() => explainer.close()).catch(() => undefined);
    },
  };
}
