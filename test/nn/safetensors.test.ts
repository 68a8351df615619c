import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import {
  loadSafetensors, MAX_HEADER_BYTES, parseSafetensors, SafetensorsError, saveSafetensors, serializeSafetensors,
} from '../../src/nn/safetensors.js';
import { fromArray, scope, tensor, type Tensor } from '../../src/torch/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = join(ROOT, 'test', 'py', 'safetensors_io.py');
const PYTHON = process.env.BATCHCAM_PYTHON ?? '/usr/bin/python3';
const havePython = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

const dir = mkdtempSync(join(tmpdir(), 'batchcam-st-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function python(...args: string[]): PyDescription {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `python ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as PyDescription;
}

interface PyDescription {
  metadata: Record<string, string>;
  layout: { header_length: number; data_aligned_8: boolean; trailing_spaces: number; json_ends_at_brace: boolean; header_keys: string[]; data_order: string[] };
  tensors: Record<string, { dtype: string; shape: number[]; hex: string; values: string[] }>;
}

const FORMAT: Record<string, string> = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };

function bytesOf(t: Tensor): Buffer {
  const d = t.data();
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

/** Python's value strings (repr of floats, decimal ints) against a tensor's values, exactly. */
function assertValues(key: string, t: Tensor, values: string[]): void {
  const d = Array.from(t.data() as ArrayLike<number | bigint>);
  assert.equal(d.length, values.length, `${key}: element count`);
  d.forEach((v, i) => {
    const s = values[i];
    if (typeof v === 'bigint') assert.equal(v, BigInt(s), `${key}[${i}]`);
    else if (Number.isNaN(v)) assert.equal(s, 'nan', `${key}[${i}]`);
    else {
      const want = s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s);
      assert.ok(Object.is(v, want), `${key}[${i}]: TypeScript ${v}, Python ${s}`);
    }
  });
}

/** Tensors of every dtype, with special values, a 0-d, an empty and a non-contiguous one. */
function sample(): Map<string, Tensor> {
  const f32 = new Float32Array([NaN, Infinity, -Infinity, -0, 1.5, -2.25, 3.4028234663852886e38, 1e-45, 0.1, 7, 8, 9]);
  return new Map<string, Tensor>([
    ['weights.f32', fromArray(f32, [3, 4])],
    ['weights.f64', fromArray(new Float64Array([Math.PI, -Math.E, 1e308, 5e-324, -0, 0.1]), [2, 3])],
    ['ids.i64', fromArray(new BigInt64Array([0n, -1n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n]), [5])],
    ['ids.i32', fromArray(new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, 42]), [2, 2])],
    ['pixels.u8', fromArray(new Uint8Array([0, 1, 127, 128, 255, 9]), [1, 2, 3])],
    ['mask.bool', fromArray(new Uint8Array([1, 0, 0, 1, 1]), [5]).to('bool')],
    ['scalar', tensor([2.5], [])],
    ['empty', fromArray(new Float32Array(0), [0, 4])],
    ['transposed', fromArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]).transpose(0, 1)],
    ['grad.param', tensor([1, 2, 3]).requiresGrad_(true)],
  ]);
}

function assertSame(a: Map<string, Tensor>, b: Map<string, Tensor>): void {
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [k, t] of a) {
    const u = b.get(k)!;
    assert.equal(u.dtype, t.dtype, `${k}: dtype`);
    assert.deepEqual(u.shape, t.shape, `${k}: shape`);
    assert.ok(bytesOf(u).equals(bytesOf(t)), `${k}: bytes differ`);
  }
}

/** A file from a header (object or raw JSON text) and data bytes; `n` overrides the length prefix. */
function raw(header: unknown, data: Uint8Array = new Uint8Array(0), n?: bigint): Buffer {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + h.length + data.length);
  out.writeBigUInt64LE(n ?? BigInt(h.length), 0);
  h.copy(out, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Asserts a SafetensorsError whose message matches every pattern; returns the message. */
function rejects(fn: () => unknown, ...patterns: RegExp[]): string {
  let msg = '';
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected a SafetensorsError, got ${String(e)}`);
    msg = e.message;
    return true;
  });
  for (const p of patterns) assert.match(msg, p);
  return msg;
}

describe('safetensors: round trip', () => {
  it('serialize → parse keeps every dtype, shape, special value and the metadata', () => scope(() => {
    const ts = sample();
    const bytes = serializeSafetensors(ts, { epoch: '3', 'ünï': 'cödé ✓', ['__proto__']: 'plain key' });
    const { tensors, metadata } = parseSafetensors(bytes);
    assertSame(ts, tensors);
    assert.deepEqual({ ...metadata }, { epoch: '3', 'ünï': 'cödé ✓', ['__proto__']: 'plain key' });
    assert.equal(Object.getPrototypeOf(metadata), Object.prototype);
    assert.deepEqual(tensors.get('transposed')!.toArray(), [1, 4, 2, 5, 3, 6]);
    assert.equal(tensors.get('grad.param')!.requiresGrad, false);
  }));

  it('writes the reference layout: sorted keys, __metadata__ first, 8-byte aligned header padded with spaces', () => scope(() => {
    const bytes = serializeSafetensors({ b: tensor([1]), a: tensor([1, 2]), c: tensor([3]) }, { k: 'v', 9: 'a', 10: 'b' });
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + n) % 8, 0);
    const text = bytes.subarray(8, 8 + n).toString('utf8');
    assert.match(text, /^\{"__metadata__":\{"10":"b","9":"a","k":"v"\},"a":\{"dtype":"F32","shape":\[2\],"data_offsets":\[0,8\]\},"b":.*"c":.*\} *$/);
    assert.ok(n - text.trimEnd().length < 8);
    assert.equal(bytes.length, 8 + n + 16);
    // No metadata argument: no __metadata__ entry.
    const plain = serializeSafetensors(new Map([['x', tensor([1])]]));
    assert.doesNotMatch(plain.toString('utf8'), /__metadata__/);
    assert.deepEqual(parseSafetensors(plain).metadata, {});
  }));

  it('empty tensor set and reserved names', () => scope(() => {
    const bytes = serializeSafetensors({});
    assert.equal(parseSafetensors(bytes).tensors.size, 0);
    rejects(() => serializeSafetensors({ __metadata__: tensor([1]) }), /__metadata__/, /reserved/);
    const t = tensor([1]);
    t.dispose();
    rejects(() => serializeSafetensors({ gone: t }), /"gone"/, /disposed/);
  }));

  it('saveSafetensors is atomic: no temporary file is left, an existing file is replaced, failures name the path', () => scope(() => {
    const sub = join(dir, 'atomic');
    mkdirSync(sub);
    const path = join(sub, 'model.safetensors');
    saveSafetensors(path, { a: tensor([1, 2]) }, { v: '1' });
    saveSafetensors(path, { a: tensor([3, 4, 5]) }, { v: '2' });
    assert.deepEqual(readdirSync(sub), ['model.safetensors']);
    const back = loadSafetensors(path);
    assert.deepEqual(back.tensors.get('a')!.toArray(), [3, 4, 5]);
    assert.equal(back.metadata.v, '2');
    // Parent directories are created as needed, but not through a file.
    const bad = join(sub, 'model.safetensors', 'x.safetensors');
    rejects(() => saveSafetensors(bad, { a: tensor([1]) }), new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot write`));
    assert.deepEqual(readdirSync(sub), ['model.safetensors']);
  }));
});

describe('safetensors: cross-check with an independent Python reader/writer', () => {
  it('the Python oracle is installed (apt-get install python3-numpy)', () => assert.ok(havePython, `${PYTHON} cannot import numpy`));
  it('TypeScript → Python: same bytes, values, metadata; spec layout', () => scope(() => {
    const ts = sample();
    const path = join(dir, 'ts.safetensors');
    saveSafetensors(path, ts, { source: 'batchcam', 'ünï': 'cödé ✓' });
    const py = python('describe', path);
    assert.deepEqual(py.metadata, { source: 'batchcam', 'ünï': 'cödé ✓' });
    assert.equal(py.layout.data_aligned_8, true);
    assert.equal(py.layout.json_ends_at_brace, true);
    assert.ok(py.layout.trailing_spaces < 8);
    const sorted = [...ts.keys()].sort();
    assert.deepEqual(py.layout.header_keys, ['__metadata__', ...sorted]);
    assert.deepEqual(py.layout.data_order, sorted);
    for (const [k, t] of ts) {
      const p = py.tensors[k];
      assert.equal(p.dtype, FORMAT[t.dtype], `${k}: dtype`);
      assert.deepEqual(p.shape, t.shape, `${k}: shape`);
      assert.equal(p.hex, bytesOf(t).toString('hex'), `${k}: bytes`);
      assertValues(k, t, p.values);
    }
  }));

  it('Python → TypeScript: a file written by the Python writer loads with the same values', () => scope(() => {
    const path = join(dir, 'py.safetensors');
    const py = python('make', path);
    const { tensors, metadata } = loadSafetensors(path);
    assert.deepEqual(metadata, py.metadata);
    assert.deepEqual([...tensors.keys()].sort(), Object.keys(py.tensors).sort());
    for (const [k, p] of Object.entries(py.tensors)) {
      const t = tensors.get(k)!;
      assert.equal(FORMAT[t.dtype], p.dtype, `${k}: dtype`);
      assert.deepEqual(t.shape, p.shape, `${k}: shape`);
      assert.equal(bytesOf(t).toString('hex'), p.hex, `${k}: bytes`);
      assertValues(k, t, p.values);
    }
    // And the Python writer's bytes are exactly what this writer produces for the same tensors and metadata.
    assert.ok(serializeSafetensors(tensors, metadata).equals(readFileSync(path)), 'writers disagree byte for byte');
  }));

  it('TypeScript → Python → TypeScript is lossless', () => scope(() => {
    const ts = sample();
    const a = join(dir, 'rt-a.safetensors');
    const b = join(dir, 'rt-b.safetensors');
    saveSafetensors(a, ts);
    python('copy', a, b, 'via=python');
    const back = loadSafetensors(b);
    assertSame(ts, back.tensors);
    assert.deepEqual(back.metadata, { via: 'python' });
  }));
});

describe('safetensors: validation', () => {
  const f32x2 = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const eight = new Uint8Array(8);

  it('a missing file names the path', () => {
    const p = join(dir, 'nope.safetensors');
    rejects(() => loadSafetensors(p), new RegExp(`${p}: cannot read: no such file`));
    rejects(() => loadSafetensors(dir), /is a directory/);
  });

  it('length prefix: short file, header past the end, header over 100 MB', () => {
    rejects(() => parseSafetensors(new Uint8Array(5), 'f.st'), /^f\.st: file is 5 bytes, shorter than the 8-byte header length$/);
    rejects(() => parseSafetensors(raw({ x: f32x2 }, eight, 1000n), 'f.st'), /f\.st: header length 1000 runs past the end of the file/);
    rejects(() => parseSafetensors(raw('{}', eight, BigInt(MAX_HEADER_BYTES) + 1n)), /exceeds the 100000000-byte limit/);
    rejects(() => parseSafetensors(raw('{}', eight, 2n ** 64n - 1n)), /header length 18446744073709551615 exceeds/);
  });

  it('header: not UTF-8, not JSON, not an object, duplicate keys, too deep', () => {
    const bad = Buffer.from([0x7b, 0xc3, 0x28, 0x7d]);
    const file = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), bad]);
    rejects(() => parseSafetensors(file), /not valid UTF-8/);
    rejects(() => parseSafetensors(raw('{"x": ')), /header JSON: ends early/);
    rejects(() => parseSafetensors(raw('{"x": 1,}')), /header JSON: expected a string key/);
    rejects(() => parseSafetensors(raw('{} {}')), /after the end/);
    rejects(() => parseSafetensors(raw('[1, 2]')), /header must be a JSON object, found an array of 2/);
    rejects(() => parseSafetensors(raw('"str"')), /header must be a JSON object, found the string "str"/);
    rejects(() => parseSafetensors(raw(`{"x": ${JSON.stringify(f32x2)}, "x": ${JSON.stringify(f32x2)}}`, eight)), /duplicate key "x"/);
    rejects(() => parseSafetensors(raw(`{"x": ${'['.repeat(100000)}${']'.repeat(100000)}}`)), /nested deeper than 64 levels/);
    rejects(() => parseSafetensors(raw('{"x\\q": 1}')), /invalid escape/);
    rejects(() => parseSafetensors(raw('{"x": "a\nb"}')), /control character/);
  });

  it('entries: not an object, unknown dtype, bad shape, bad offsets', () => {
    rejects(() => parseSafetensors(raw({ w: [1, 2] }), 'm.st'), /^m\.st: tensor "w": expected an object \{dtype, shape, data_offsets\}, found an array of 2$/);
    rejects(() => parseSafetensors(raw({ w: { ...f32x2, dtype: 'F16' } }, eight)), /tensor "w": unsupported dtype "F16", expected one of F32, F64, I64, I32, U8, BOOL/);
    rejects(() => parseSafetensors(raw({ w: { ...f32x2, dtype: 3 } }, eight)), /"dtype" must be a string, found number 3/);
    rejects(() => parseSafetensors(raw({ w: { ...f32x2, shape: [-2] } }, eight)), /"shape" must hold non-negative integers, found number -2/);
    rejects(() => parseSafetensors(raw({ w: { ...f32x2, shape: [1.5] } }, eight)), /found number 1.5/);
    rejects(() => parseSafetensors(raw({ w: { ...f32x2, shape: ['2'] } }, eight)), /found the string "2"/);
    rejects(() => parseSafetensors(raw({ w: { ...f32x2, shape: 2 } }, eight)), /"shape" must be an array/);
    rejects(() => parseSafetensors(raw({ w: { ...f32x2, data_offsets: [0] } }, eight)), /"data_offsets" must be \[begin, end\], found an array of 1/);
    rejects(() => parseSafetensors(raw({ w: { ...f32x2, data_offsets: [0, -8] } }, eight)), /non-negative integers/);
    rejects(() => parseSafetensors(raw({ w: { ...f32x2, data_offsets: [8, 0] } }, eight)), /data_offsets \[8, 0\] end before they begin/);
    rejects(() => parseSafetensors(raw({ w: { ...f32x2, data_offsets: [0, 16] } }, eight)), /data_offsets \[0, 16\] run past the 8-byte data section/);
    rejects(() => parseSafetensors(raw({ w: { ...f32x2, data_offsets: [0, 2 ** 52] } }, eight)), /run past/);
    rejects(() => parseSafetensors(raw({ w: { ...f32x2, data_offsets: [0, 2 ** 60] } }, eight)), /must be non-negative integers, found \[number 0, number 1152921504606847000\]/);
    rejects(() => parseSafetensors(raw({ w: { dtype: 'F32', shape: [2] } }, eight)), /"data_offsets" must be \[begin, end\], found nothing/);
    rejects(() => parseSafetensors(raw({ __metadata__: { a: 1 } })), /: __metadata__: value of "a" must be a string, found number 1/);
    rejects(() => parseSafetensors(raw({ __metadata__: [] })), /: __metadata__: expected an object of strings/);
    assert.deepEqual(parseSafetensors(raw({ __metadata__: null })).metadata, {});
  });

  it('sizes and tiling: byte length vs shape, overflowing shapes, overlaps, gaps, trailing bytes, BOOL bytes', () => {
    rejects(() => parseSafetensors(raw({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 8] } }, eight), 'm.st'),
      /^m\.st: tensor "w": F32 shape \[2, 3\] needs 24 bytes but data_offsets \[0, 8\] hold 8$/);
    rejects(() => parseSafetensors(raw({ w: { dtype: 'F64', shape: [2 ** 40, 2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, eight)),
      /needs 10633823966279326983230456482242756608 bytes/);
    const two = new Uint8Array(16);
    rejects(() => parseSafetensors(raw({ a: f32x2, b: { ...f32x2, data_offsets: [4, 12] } }, two)), /tensor "b": data_offsets \[4, 12\] overlap tensor "a" at \[0, 8\]/);
    rejects(() => parseSafetensors(raw({ a: f32x2, b: f32x2 }, two)), /tensor "b": data_offsets \[0, 8\] overlap tensor "a"/);
    rejects(() => parseSafetensors(raw({ a: { ...f32x2, data_offsets: [8, 16] } }, two)), /tensor "a": data_offsets \[8, 16\] leave a gap: bytes \[0, 8\) belong to no tensor/);
    rejects(() => parseSafetensors(raw({ a: f32x2 }, two)), /8 trailing bytes after the last tensor \(data section is 16 bytes, tensors cover 8\)/);
    rejects(() => parseSafetensors(raw({ m: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, new Uint8Array([1, 0, 2]))), /tensor "m": BOOL byte 2 is 2, expected 0 or 1/);
    // Zero-size tensors may share an offset; padding spaces are allowed.
    const ok = parseSafetensors(raw(`{"e": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "z": {"dtype": "U8", "shape": [0, 5], "data_offsets": [0, 0]}, "a": ${JSON.stringify(f32x2)}}      `, eight));
    assert.deepEqual([...ok.tensors.keys()], ['e', 'z', 'a']);
    assert.deepEqual(ok.tensors.get('z')!.shape, [0, 5]);
    for (const t of ok.tensors.values()) t.dispose();
  });
});

/** mulberry32: a small seeded PRNG so the fuzz cases are the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('safetensors: fuzz', () => {
  it('hostile inputs only ever throw SafetensorsError, quickly', () => {
    const rand = rng(0x5afe7e45);
    const int = (n: number): number => Math.floor(rand() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
    const base = scope(() => serializeSafetensors(sample(), { a: 'b' }));
    const n = Number(base.readBigUInt64LE(0));
    const header = JSON.parse(base.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
    const data = base.subarray(8 + n);
    const names = Object.keys(header).filter((k) => k !== '__metadata__' && header[k].data_offsets[1] > header[k].data_offsets[0]);
    const weird: unknown[] = [-1, 1.5, 2 ** 53, 1e308, '3', null, true, [], {}, -0, 2 ** 31, 2 ** 32 + 1];

    type Case = { kind: string; bytes: Buffer; mustFail: boolean };
    const mutateHeader = (): Case => {
      const h = structuredClone(header);
      const k = pick(names);
      const e = h[k];
      const r = int(9);
      let kind: string;
      if (r === 0) { kind = 'offsets out of bounds'; e.data_offsets = [e.data_offsets[0], data.length + 1 + int(1000)]; }
      else if (r === 1) { kind = 'overlapping offsets'; e.data_offsets = [e.data_offsets[0] + 1 + int(3), e.data_offsets[1]]; }
      else if (r === 2) { kind = 'unknown dtype'; e.dtype = pick(['F16', 'BF16', 'I8', 'f32', '', 'U64', 'F8_E4M3']); }
      else if (r === 3) { kind = 'wrong shape'; e.shape = [...e.shape, 2 + int(5)]; }
      else if (r === 4) { kind = 'weird shape value'; (e.shape as unknown[]) = [pick(weird)]; }
      else if (r === 5) { kind = 'weird offset value'; (e.data_offsets as unknown[])[int(2)] = pick(weird.filter((w) => w !== -0)); }
      else if (r === 6) { kind = 'missing field'; delete (e as Record<string, unknown>)[pick(['dtype', 'shape', 'data_offsets'])]; }
      else if (r === 7) { kind = 'entry not an object'; (h as Record<string, unknown>)[k] = pick(weird); }
      else { kind = 'huge shape'; e.shape = [2 ** 52, 2 ** 52, int(3)]; }
      // A weird value can coincide with the real one (e.g. 2 ** 31 elements nowhere here, but be safe): only claim
      // failure where the mutation cannot leave a valid file.
      const mustFail = kind !== 'weird offset value' && kind !== 'weird shape value';
      return { kind, bytes: raw(h, data), mustFail };
    };

    const cases: Case[] = [];
    for (let c = 0; c < 2500; c++) {
      const r = int(8);
      if (r === 0) cases.push({ kind: 'truncation', bytes: base.subarray(0, int(base.length)), mustFail: true });
      else if (r === 1 || r === 2) {
        const b = Buffer.from(base);
        const at = 8 + int(n);
        b[at] ^= 1 << int(8);
        cases.push({ kind: 'header bit flip', bytes: b, mustFail: false });
      } else if (r === 3) {
        const b = Buffer.from(base);
        b[8 + n + int(data.length)] ^= 1 << int(8);
        cases.push({ kind: 'data bit flip', bytes: b, mustFail: false });
      } else if (r === 4) {
        const b = Buffer.from(base);
        b[int(8)] ^= 1 << int(8);
        cases.push({ kind: 'length prefix bit flip', bytes: b, mustFail: true });
      } else if (r === 5) {
        const b = Buffer.from(base);
        b.writeBigUInt64LE(BigInt(base.length - 7 + int(2 ** 30)), 0);
        cases.push({ kind: 'header length > file', bytes: b, mustFail: true });
      } else if (r === 6) cases.push(mutateHeader());
      else {
        const len = int(64);
        const b = Buffer.alloc(len);
        for (let i = 0; i < len; i++) b[i] = int(256);
        if (len >= 8 && rand() < 0.5) b.writeBigUInt64LE(BigInt(int(len - 7)), 0);
        cases.push({ kind: 'random bytes', bytes: b, mustFail: false });
      }
    }

    const failedBy = new Map<string, number>();
    const t0 = performance.now();
    let slowest = 0;
    for (const c of cases) {
      const s = performance.now();
      let threw = false;
      try {
        scope(() => { parseSafetensors(c.bytes, 'fuzz.safetensors'); });
      } catch (e) {
        threw = true;
        assert.ok(e instanceof SafetensorsError, `${c.kind}: expected a SafetensorsError, got ${(e as Error)?.stack ?? String(e)}`);
        assert.match(e.message, /^fuzz\.safetensors: /);
        failedBy.set(c.kind, (failedBy.get(c.kind) ?? 0) + 1);
      }
      if (c.mustFail) assert.ok(threw, `${c.kind}: invalid input was accepted`);
      slowest = Math.max(slowest, performance.now() - s);
    }
    const total = performance.now() - t0;
    assert.ok(total < 15000, `fuzz took ${total.toFixed(0)} ms`);
    assert.ok(slowest < 1000, `slowest case took ${slowest.toFixed(0)} ms`);
    // Every family of mutation was exercised and rejected at least once.
    for (const k of ['truncation', 'header bit flip', 'length prefix bit flip', 'header length > file', 'offsets out of bounds',
      'overlapping offsets', 'unknown dtype', 'wrong shape', 'random bytes']) {
      assert.ok((failedBy.get(k) ?? 0) > 0, `no rejected case of ${k}`);
    }
  });

  it('a big hostile header is refused without hanging', () => {
    const t0 = performance.now();
    rejects(() => parseSafetensors(raw(`{"x": ${'['.repeat(5_000_000)}`)), /nested deeper/);
    rejects(() => parseSafetensors(raw(`{"x": "${'a'.repeat(5_000_000)}`)), /unterminated string/);
    const many = `{${Array.from({ length: 20000 }, (_, i) => `"t${i}": {"dtype": "U8", "shape": [1], "data_offsets": [${i}, ${i + 1}]}`).join(',')}}`;
    rejects(() => parseSafetensors(raw(many, new Uint8Array(19999))), /run past the 19999-byte data section/);
    assert.ok(performance.now() - t0 < 5000);
  });
});
