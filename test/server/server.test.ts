import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { datasetInfo } from '../../src/data/builtin/datasets.js';
import { createModel } from '../../src/models/index.js';
import { colourise } from '../../src/report/colormap.js';
import { CHECKPOINTS, startServer, type RunningServer } from '../../src/server/index.js';
import { JobQueue } from '../../src/server/job-queue.js';
import { cliPath } from '../helpers/cli.js';
import { bombPng, digitPng, servedDir, truncatedJpeg } from './fixtures.js';

interface Json { [k: string]: unknown }

describe('batchcam serve over a runs directory', { timeout: 120_000 }, () => {
  let s: RunningServer;
  let dir: string;
  let root: string;
  let runDir: string;
  let runId: string;
  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${s.origin}${path}`, { headers: { authorization: `Bearer ${s.token}`, ...headers } });
  const explain = (query: string, body?: Buffer): Promise<Response> => fetch(`${s.origin}/api/runs/${runId}/explain?${query}`, {
    method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/octet-stream' }, ...(body ? { body: new Uint8Array(body) } : {}),
  });

  before(async () => {
    ({ root, dir, run: runDir } = await servedDir());
    // Outside the served directory: a run with a secret in its config, and a link to it from inside.
    const outside = join(root, 'outside-run');
    mkdirSync(outside);
    writeFileSync(join(outside, 'config.json'), JSON.stringify({ secret: 'OUTSIDE-SECRET' }));
    symlinkSync(outside, join(dir, 'link-out'));
    s = await startServer({ dir, queue: 3 });
    const list = await (await get('/api/runs')).json() as { runs: { id: string; name: string }[] };
    runId = list.runs.find((r) => r.name === 'tiny')!.id;
  });
  after(async () => {
    await s?.close();
  });

  it('answers 401 to a request without the token or with a wrong one, on every kind of endpoint', async () => {
    for (const path of ['/', '/assets/app.js', '/api/runs', `/api/runs/${runId}`, `/api/runs/${runId}/live`, `/api/runs/${runId}/timeline/0`, `/api/runs/${runId}/model`]) {
      const none = await fetch(`${s.origin}${path}`);
      assert.equal(none.status, 401, `${path} without a token`);
      assert.match(((await none.json()) as Json).error as string, /access token/);
      const wrong = await fetch(`${s.origin}${path}?token=${'0'.repeat(s.token.length)}`);
      assert.equal(wrong.status, 401, `${path} with a wrong token`);
      await wrong.body?.cancel();
    }
  });

  it('takes the token from the printed URL once and then from its cookie', async () => {
    const first = await fetch(s.url);
    assert.equal(first.status, 200);
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    assert.equal((await fetch(`${s.origin}/api/runs`, { headers: { cookie } })).status, 200);
  });

  it('sends a Content-Security-Policy allowing only its own origin', async () => {
    const r = await get('/');
    assert.match(r.headers.get('content-security-policy')!, /default-src 'none'; script-src 'self'/);
  });

  it('answers 404 to .., encoded %2e%2e%2f, absolute paths and a symlink out of the directory, and serves nothing from outside', async () => {
    const outsideId = (await import('node:crypto')).createHash('sha256').update('link-out').digest('hex').slice(0, 16);
    for (const path of ['/assets/../../package.json', '/assets/%2e%2e%2f%2e%2e%2fpackage.json', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/api/runs/..%2F..%2Fetc%2Fpasswd', '/api/runs/%2Fetc%2Fpasswd', '/api/runs/%2Fetc%2Fpasswd/timeline', '//etc/passwd',
      `/api/runs/${outsideId}`, `/api/runs/${outsideId}/timeline`, '/api/runs/tiny']) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      const body = await r.text();
      assert.ok(!body.includes('OUTSIDE-SECRET') && !body.includes('root:'), `${path} leaked: ${body.slice(0, 80)}`);
    }
    const list = await (await get('/api/runs')).text();
    assert.ok(!list.includes('OUTSIDE-SECRET') && !list.includes('link-out'), 'the linked run is not listed');
  });

  it('refuses a 200-MB upload with 413 before reading it', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${s.origin}/api/runs/${runId}/explain`, {
        method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/octet-stream', 'content-length': String(200 * 1024 * 1024) },
      }, (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', (e) => (e.message.includes('EPIPE') || e.message.includes('ECONNRESET') ? undefined : reject(e)));
      req.write(Buffer.alloc(1024 * 1024));
    });
    assert.equal(status, 413);
  });

  it('answers 4xx with a JSON error to a decompression bomb, a non-image and a truncated JPEG, and keeps serving', async () => {
    for (const [what, body] of [['bomb', bombPng()], ['text', Buffer.from('not an image at all\n'.repeat(50))], ['truncated JPEG', await truncatedJpeg()]] as const) {
      const r = await explain('target=pred', body);
      assert.ok(r.status >= 400 && r.status < 500, `${what}: ${r.status}`);
      assert.match(((await r.json()) as Json).error as string, /PNG, JPEG or WebP/, what);
    }
    assert.equal((await get('/api/runs')).status, 200);
  });

  it('answers 400 to a layer or target the model does not have', async () => {
    const png = await digitPng();
    const bad = await explain('layer=nope', png);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as Json).error as string, /no layer 'nope'; choose one of/);
    assert.equal((await explain('target=99', png)).status, 400);
  });

  it('gives the probabilities of batchcam explain --image for an uploaded PNG (to 1e-5)', async () => {
    const png = await digitPng();
    const file = join(root, 'digit.png');
    writeFileSync(file, png);
    const out = join(root, 'explain-out');
    const r = spawnSync(process.execPath, [cliPath(), 'explain', '--checkpoint', runDir, '--image', file, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const cli = JSON.parse(readFileSync(join(out, 'explanations.json'), 'utf8')) as { items: { pred: number; probabilities: number[] }[] };
    const res = await explain('target=pred', png);
    assert.equal(res.status, 200);
    const e = await res.json() as { pred: number; probabilities: number[] };
    assert.equal(e.pred, cli.items[0]!.pred);
    e.probabilities.forEach((p, c) => assert.ok(Math.abs(p - cli.items[0]!.probabilities[c]!) <= 1e-5, `class ${c}: ${p} vs ${cli.items[0]!.probabilities[c]}`));
  });

  it('lists the model\'s CAM layers, the dataset\'s class names and the run\'s weights files before any explanation', async () => {
    const r = await get(`/api/runs/${runId}/model`);
    assert.equal(r.status, 200);
    const m = await r.json() as { checkpoint: string; checkpoints: string[]; model: string; dataset: string; camLayers: string[]; defaultLayer: string; classNames: string[]; imageShape: number[] };
    // Independently: a fresh SimpleCNN's layers, MNIST's description, the files in the run directory.
    const cnn = createModel('simplecnn');
    try {
      assert.deepEqual(m.camLayers, [...cnn.camLayers]);
      assert.equal(m.defaultLayer, cnn.defaultCamLayer);
    } finally {
      cnn.dispose();
    }
    const mnist = datasetInfo('mnist');
    assert.deepEqual(m.classNames, [...mnist.classNames]);
    assert.equal(m.classNames.length, 10);
    assert.deepEqual(m.imageShape, [...mnist.imageShape]);
    assert.deepEqual([m.model, m.dataset], ['simplecnn', 'mnist']);
    const present = Object.entries(CHECKPOINTS).filter(([, f]) => existsSync(join(runDir, f))).map(([k]) => k);
    assert.deepEqual(m.checkpoints, present);
    assert.equal(m.checkpoint, present[0]);
    const absent = Object.keys(CHECKPOINTS).find((k) => !present.includes(k))!;
    assert.equal((await get(`/api/runs/${runId}/model?checkpoint=${absent}`)).status, 404, `the run has no ${absent}`);
    assert.equal((await get(`/api/runs/${runId}/model?checkpoint=..%2Fconfig.json`)).status, 400);
  });

  it('explains test image k of the run\'s dataset as batchcam explain --indices k does: label, probabilities (to 1e-5) and CAM', async () => {
    const k = 1234; // past the run's --test-limit 50: the whole test split, as explain reads it
    const out = join(root, 'explain-indices');
    const r = spawnSync(process.execPath, [cliPath(), 'explain', '--checkpoint', runDir, '--indices', String(k), '--scale', '1', '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const cli = (JSON.parse(readFileSync(join(out, 'explanations.json'), 'utf8')) as { items: { label: number; pred: number; target: number; probabilities: number[]; file: string }[] }).items[0]!;
    const res = await explain(`testIndex=${k}`);
    assert.equal(res.status, 200);
    const e = await res.json() as { source: string; label: number; pred: number; target: number; probabilities: number[]; width: number; height: number; image: string; cam: string };
    assert.equal(e.source, `mnist test #${k}`);
    assert.deepEqual([e.label, e.pred, e.target], [cli.label, cli.pred, cli.target]);
    assert.equal(e.probabilities.length, cli.probabilities.length);
    e.probabilities.forEach((p, c) => assert.ok(Math.abs(p - cli.probabilities[c]!) <= 1e-5, `class ${c}: ${p} vs ${cli.probabilities[c]}`));
    // The CLI's figure at scale 1 is input | CAM (jet) | overlay with 2-px white gaps: its panels must be the served image and the jet colours of the served CAM.
    const { data, info } = await sharp(join(out, cli.file)).raw().toBuffer({ resolveWithObject: true });
    const [w, h] = [e.width, e.height];
    assert.deepEqual([info.width, info.height], [3 * w + 8, h + 4]);
    const camBytes = Buffer.from(e.cam, 'base64');
    const cam = new Float32Array(camBytes.buffer.slice(camBytes.byteOffset, camBytes.byteOffset + camBytes.length));
    const jet = colourise(cam);
    const px = Buffer.from(e.image, 'base64');
    let camWorst = 0;
    let imageWorst = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const at = (x0: number, c: number): number => data[((2 + y) * info.width + x0 + x) * info.channels + c]!;
        for (let c = 0; c < 3; c++) {
          imageWorst = Math.max(imageWorst, Math.abs(at(2, c) - px[y * w + x]!));
          camWorst = Math.max(camWorst, Math.abs(at(w + 4, c) - jet[(y * w + x) * 3 + c]!));
        }
      }
    }
    assert.equal(imageWorst, 0, 'the same test image');
    assert.ok(camWorst <= 1, `the CAM panels differ by up to ${camWorst} in a colour channel`);
    assert.ok(Math.max(...cam) - Math.min(...cam) > 0.1, 'a CAM with contrast, so the comparison means something');
  });

  it('answers 400 with the valid range to a test index past the split, and 400 to a malformed index or two images at once', async () => {
    const n = datasetInfo('mnist').testSize;
    const past = await explain(`testIndex=${n}`);
    assert.equal(past.status, 400);
    assert.match(((await past.json()) as Json).error as string, new RegExp(`testIndex: ${n} is out of range; the mnist test split has ${n} images \\(0…${n - 1}\\)`));
    for (const query of ['testIndex=-1', 'testIndex=1e3', 'testIndex=3&probe=0']) {
      const r = await explain(query);
      assert.equal(r.status, 400, query);
      assert.ok(typeof ((await r.json()) as Json).error === 'string', query);
    }
    assert.equal((await explain('testIndex=3', await digitPng())).status, 400, 'an upload and a test index');
  });

  it('queues a burst of explain requests up to its bound, answers 503 beyond it, and serves every accepted one', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const blocker = s.queue.run(() => gate); // a job holding libtorch, as a long explain would
    const burst = Array.from({ length: 6 }, () => explain('probe=0'));
    await new Promise((r) => setTimeout(r, 300));
    release();
    await blocker;
    const codes = await Promise.all(burst.map(async (p) => {
      const r = await p;
      await r.body?.cancel();
      return r.status;
    }));
    assert.deepEqual([...codes].sort(), [200, 200, 503, 503, 503, 503], `bound 3, one slot held: ${codes}`);
    assert.equal((await get('/api/runs')).status, 200);
  });

  it('lists a run being written: status stopped while it has only config.json, then gone when deleted, without failing', async () => {
    const half = join(dir, 'half');
    mkdirSync(half);
    writeFileSync(join(half, 'config.json'), '{"model": "simplec'); // half-written
    const list = await (await get('/api/runs')).json() as { runs: { name: string; status: string; config: unknown }[] };
    const row = list.runs.find((r) => r.name === 'half')!;
    assert.deepEqual([row.status, row.config], ['stopped', null]);
    (await import('node:fs')).rmSync(half, { recursive: true });
    const again = await get('/api/runs');
    assert.equal(again.status, 200);
    assert.ok(!((await again.text()).includes('"half"')));
  });
});

it('the job queue runs jobs one at a time in the order they came', async () => {
  const q = new JobQueue(10);
  const order: string[] = [];
  let running = 0;
  const job = (name: string, ms: number) => async (): Promise<void> => {
    running++;
    assert.equal(running, 1, 'one at a time');
    await new Promise((r) => setTimeout(r, ms));
    order.push(name);
    running--;
  };
  await Promise.all([q.run(job('a', 30)), q.run(job('b', 1)), q.run(job('c', 10))]);
  assert.deepEqual(order, ['a', 'b', 'c']);
});

it('refuses to listen on a non-loopback host unless --host is given explicitly', async () => {
  const { dir } = { dir: process.cwd() };
  await assert.rejects(startServer({ dir, host: '0.0.0.0' }), /refusing to listen on 0\.0\.0\.0.*pass --host 0\.0\.0\.0 explicitly/);
  const r = spawnSync(process.execPath, [cliPath(), 'serve', dir, '--port', '0'], { encoding: 'utf8', env: { ...process.env, BATCHCAM_HOST: '0.0.0.0' } });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0/);
});

it('warns on stderr, naming the address, that anyone on the network with the token can read the runs, when --host 0.0.0.0 is given', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchcam-serve-host-'));
  const child = spawn(process.execPath, [cliPath(), 'serve', dir, '--host', '0.0.0.0', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    for (let i = 0; i < 600 && !/open http/.test(stdout) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    const url = /open (http:\/\/0\.0\.0\.0:(\d+)\/\?token=([0-9a-f]+))/.exec(stdout);
    assert.ok(url, `no URL printed; stdout: ${stdout}; stderr: ${stderr}`);
    const [, , port, token] = url;
    assert.match(stderr, new RegExp(`WARNING: listening on 0\\.0\\.0\\.0 \\(port ${port}\\), not loopback: anyone on the network who can reach this machine and has the token can read these runs`));
    // It listens on every interface, loopback included: reachable there, and still only with the token.
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/runs`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/runs`)).status, 401);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, `serve stops cleanly on SIGTERM; stderr: ${stderr}`);
});
