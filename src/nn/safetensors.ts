import { writeFileAtomic } from '../io/atomic-file.js';
import { StorageError, WriteError } from '../errors.js';
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { fromBytes, Tensor, type DType } from '../torch/index.js';

/**
 * Any failure to read, parse, validate or write a safetensors file. The message names the source
 * (file path or '<buffer>'), the tensor key where there is one, and what was expected vs found (exit 4).
 */
export class SafetensorsError extends StorageError {
  override readonly name = 'SafetensorsError';
  /** The file path, or '<buffer>'. */
  readonly source: string;
  /** The tensor (or '__metadata__') the problem is in, if any. */
  readonly key: string | undefined;

  constructor(source: string, key: string | undefined, detail: string, options?: { cause?: unknown }) {
    const where = key === undefined ? '' : key === '__metadata__' ? '__metadata__: ' : `tensor ${JSON.stringify(key)}: `;
    super(`${source}: ${where}${detail}`, options);
    this.source = source;
    this.key = key;
  }
}

/** What `parseSafetensors` / `loadSafetensors` return. */
export interface SafetensorsContents {
  /** Tensors in header order; the caller owns them (dispose, or let the enclosing scope do it). */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` string map ({} when absent). */
  metadata: Record<string, string>;
}

/** The reference implementation's cap: a larger header is refused before it is read. */
export const MAX_HEADER_BYTES = 100_000_000;
/** JSON nesting the header may use; real headers need 3, the cap keeps hostile input from exhausting the stack. */
const MAX_JSON_DEPTH = 64;

const FORMAT_DTYPES: Record<string, DType> = { F32: 'float32', F64: 'float64', I64: 'int64', I32: 'int32', U8: 'uint8', BOOL: 'bool' };
const DTYPE_FORMAT: Record<DType, string> = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };
const FORMAT_SIZES: Record<string, number> = { F32: 4, F64: 8, I64: 8, I32: 4, U8: 1, BOOL: 1 };
const SUPPORTED = Object.keys(FORMAT_DTYPES).join(', ');

// The format is little-endian and tensors are copied byte for byte.
if (endianness() !== 'LE') throw new Error('batchcam safetensors: big-endian hosts are not supported');

// ------------------------------------------------------------------------------------------- writing

type TensorSet = Map<string, Tensor> | Record<string, Tensor>;

// Byte order of the UTF-8 keys, like the reference implementation's String ordering.
const byKey = ([a]: [string, unknown], [b]: [string, unknown]): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * The safetensors encoding of `tensors` (keys sorted, data in key order, contiguous little-endian bytes),
 * with an optional `__metadata__` string map. The header is padded with spaces so the data starts
 * 8-byte aligned, as the reference implementation does. Tensors on other devices are copied to the CPU.
 * `target` only names the destination in error messages.
 */
export function serializeSafetensors(tensors: TensorSet, metadata?: Record<string, string>, target = '<buffer>'): Buffer {
  const entries = (tensors instanceof Map ? [...tensors] : Object.entries(tensors)).sort(byKey);
  const parts: string[] = [];
  if (metadata !== undefined) {
    const meta = Object.entries(metadata).sort(byKey);
    for (const [k, v] of meta) {
      if (typeof v !== 'string') throw new SafetensorsError(target, '__metadata__', `value of ${JSON.stringify(k)} must be a string, found ${typeof v}`);
    }
    // Built by hand: a JS object would move integer-like keys ahead of the others.
    parts.push(`"__metadata__":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const [key, t] of entries) {
    if (key === '__metadata__') throw new SafetensorsError(target, key, 'this name is reserved for the metadata map');
    if (!(t instanceof Tensor)) throw new SafetensorsError(target, key, `expected a Tensor, found ${String(t)}`);
    if (t.isDisposed) throw new SafetensorsError(target, key, 'the tensor has been disposed');
    let dtype: DType;
    try {
      dtype = t.dtype;
    } catch (e) {
      throw new SafetensorsError(target, key, `unsupported tensor type (${(e as Error).message}), expected one of ${SUPPORTED}`);
    }
    const bytes = t.bytes();
    datas.push(bytes);
    parts.push(`${JSON.stringify(key)}:${JSON.stringify({ dtype: DTYPE_FORMAT[dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] })}`);
    offset += bytes.length;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const out = Buffer.alloc(8 + padded + offset, 0x20);
  out.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(out, 8);
  let at = 8 + padded;
  for (const d of datas) {
    out.set(d, at);
    at += d.length;
  }
  return out;
}

/**
 * Writes `tensors` to `path` atomically: the bytes go to `path.tmp-<pid>-<random>`, are fsynced, and the
 * file is renamed over `path`, so a crash leaves either the old file or the complete new one.
 */
export function saveSafetensors(path: string, tensors: TensorSet, metadata?: Record<string, string>): void {
  const bytes = serializeSafetensors(tensors, metadata, path);
  try {
    writeFileAtomic(path, bytes);
  } catch (e) {
    // The atomic writer leaves the previous file as it was; say so, and which stage failed.
    const why = e instanceof WriteError ? `${e.reason}; the previous file, if any, is unchanged` : (e as Error).message;
    throw new SafetensorsError(path, undefined, `cannot write (${why})`, { cause: e });
  }
}

// ------------------------------------------------------------------------------------------- reading

/** Reads and validates a safetensors file; every failure, a missing file included, is a SafetensorsError naming `path`. */
export function loadSafetensors(path: string): SafetensorsContents {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a file' : (e as Error).message;
    throw new SafetensorsError(path, undefined, `cannot read: ${why}`, { cause: e });
  }
  return parseSafetensors(bytes, path);
}

type Json = null | boolean | number | string | Json[] | Map<string, Json>;

function describe(v: Json | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (v instanceof Map) return 'an object';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/**
 * A strict JSON parser for the header: unlike JSON.parse it rejects duplicate keys (which would
 * silently shadow a tensor), bounds the nesting depth, and keeps `__proto__` an ordinary key.
 */
class HeaderJson {
  #i = 0;
  static readonly #NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

  constructor(private readonly s: string, private readonly fail: (detail: string) => never) {}

  parse(): Json {
    const v = this.#value(0);
    this.#ws();
    if (this.#i < this.s.length) this.fail(`header JSON: unexpected ${JSON.stringify(this.s[this.#i])} after the end, at character ${this.#i}`);
    return v;
  }

  #ws(): void {
    const s = this.s;
    while (this.#i < s.length) {
      const c = s.charCodeAt(this.#i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.#i++;
    }
  }

  #value(depth: number): Json {
    if (depth > MAX_JSON_DEPTH) this.fail(`header JSON: nested deeper than ${MAX_JSON_DEPTH} levels`);
    this.#ws();
    const s = this.s;
    if (this.#i >= s.length) this.fail('header JSON: ends early');
    const c = s[this.#i];
    if (c === '{') return this.#object(depth);
    if (c === '[') return this.#array(depth);
    if (c === '"') return this.#string();
    if (s.startsWith('true', this.#i)) { this.#i += 4; return true; }
    if (s.startsWith('false', this.#i)) { this.#i += 5; return false; }
    if (s.startsWith('null', this.#i)) { this.#i += 4; return null; }
    HeaderJson.#NUMBER.lastIndex = this.#i;
    const m = HeaderJson.#NUMBER.exec(s);
    if (!m) this.fail(`header JSON: unexpected ${JSON.stringify(c)} at character ${this.#i}`);
    this.#i += m[0].length;
    return Number(m[0]);
  }

  #expect(ch: string, what: string): void {
    this.#ws();
    if (this.s[this.#i] !== ch) {
      this.fail(`header JSON: expected ${what} at character ${this.#i}, found ${this.#i < this.s.length ? JSON.stringify(this.s[this.#i]) : 'the end'}`);
    }
    this.#i++;
  }

  #object(depth: number): Map<string, Json> {
    this.#i++;
    const m = new Map<string, Json>();
    this.#ws();
    if (this.s[this.#i] === '}') { this.#i++; return m; }
    for (;;) {
      this.#ws();
      if (this.s[this.#i] !== '"') this.#expect('"', 'a string key');
      const k = this.#string();
      if (m.has(k)) this.fail(`header JSON: duplicate key ${JSON.stringify(k)}`);
      this.#expect(':', "':'");
      m.set(k, this.#value(depth + 1));
      this.#ws();
      if (this.s[this.#i] === ',') { this.#i++; continue; }
      this.#expect('}', "',' or '}'");
      return m;
    }
  }

  #array(depth: number): Json[] {
    this.#i++;
    const a: Json[] = [];
    this.#ws();
    if (this.s[this.#i] === ']') { this.#i++; return a; }
    for (;;) {
      a.push(this.#value(depth + 1));
      this.#ws();
      if (this.s[this.#i] === ',') { this.#i++; continue; }
      this.#expect(']', "',' or ']'");
      return a;
    }
  }

  #string(): string {
    const s = this.s;
    const start = this.#i++;
    let escaped = false;
    for (;;) {
      if (this.#i >= s.length) this.fail(`header JSON: unterminated string starting at character ${start}`);
      const c = s.charCodeAt(this.#i);
      if (c === 0x22) break;
      if (c < 0x20) this.fail(`header JSON: raw control character in a string at character ${this.#i}`);
      if (c === 0x5c) { escaped = true; this.#i += 2; } else this.#i++;
    }
    this.#i++;
    if (!escaped) return s.slice(start + 1, this.#i - 1);
    try {
      return JSON.parse(s.slice(start, this.#i)) as string; // decodes escapes exactly as the JSON spec says
    } catch {
      return this.fail(`header JSON: invalid escape in the string starting at character ${start}`);
    }
  }
}

interface Entry {
  key: string;
  format: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Parses and fully validates safetensors bytes: header length within the file and ≤ 100 MB, UTF-8 JSON
 * object without duplicate keys, known dtypes, shapes of non-negative integers, byte ranges that match
 * the shapes and tile the data section exactly (no gaps, overlaps or trailing bytes), BOOL bytes 0 or 1.
 * Every failure is a SafetensorsError naming `source`; no input makes it throw anything else.
 */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContents {
  const fail = (key: string | undefined, detail: string): never => { throw new SafetensorsError(source, key, detail); };
  if (!(bytes instanceof Uint8Array)) fail(undefined, `expected bytes (Uint8Array), found ${typeof bytes}`);
  if (bytes.length < 8) fail(undefined, `file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(undefined, `header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(undefined, `header length ${n} runs past the end of the file (${bytes.length} bytes, at most ${bytes.length - 8} available)`);
  if (n < 2) fail(undefined, `header length ${n} is too short for a JSON object`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail(undefined, 'header is not valid UTF-8');
  }
  const root = new HeaderJson(text, (d) => fail(undefined, d)).parse();
  if (!(root instanceof Map)) return fail(undefined, `header must be a JSON object, found ${describe(root)}`);

  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [key, v] of root) {
    if (key === '__metadata__') {
      if (v === null) continue;
      if (!(v instanceof Map)) return fail(key, `expected an object of strings, found ${describe(v)}`);
      for (const [mk, mv] of v) {
        if (typeof mv !== 'string') fail(key, `value of ${JSON.stringify(mk)} must be a string, found ${describe(mv)}`);
      }
      metadata = Object.fromEntries(v) as Record<string, string>; // own data properties, so '__proto__' stays a plain key
      continue;
    }
    if (!(v instanceof Map)) return fail(key, `expected an object {dtype, shape, data_offsets}, found ${describe(v)}`);
    const dtype = v.get('dtype');
    if (typeof dtype !== 'string') return fail(key, `"dtype" must be a string, found ${describe(dtype)}`);
    if (!Object.hasOwn(FORMAT_DTYPES, dtype)) return fail(key, `unsupported dtype ${JSON.stringify(dtype)}, expected one of ${SUPPORTED}`);
    const shape = v.get('shape');
    if (!Array.isArray(shape)) return fail(key, `"shape" must be an array of non-negative integers, found ${describe(shape)}`);
    for (const d of shape) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) fail(key, `"shape" must hold non-negative integers, found ${describe(d)} in ${JSON.stringify(shape).slice(0, 200)}`);
    }
    const offs = v.get('data_offsets');
    if (!Array.isArray(offs) || offs.length !== 2) return fail(key, `"data_offsets" must be [begin, end], found ${describe(offs)}`);
    const [begin, end] = offs;
    if (typeof begin !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < 0) {
      return fail(key, `"data_offsets" must be non-negative integers, found [${describe(begin)}, ${describe(end)}]`);
    }
    if (end < begin) fail(key, `data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) fail(key, `data_offsets [${begin}, ${end}] run past the ${dataLen}-byte data section`);
    // BigInt: the product of hostile dims can exceed 2^53 even when each dim is safe.
    const need = (shape as number[]).reduce((p, d) => p * BigInt(d), 1n) * BigInt(FORMAT_SIZES[dtype]);
    if (need !== BigInt(end - begin)) {
      fail(key, `${dtype} shape [${shape.join(', ')}] needs ${need} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    entries.push({ key, format: dtype, shape: shape as number[], begin, end });
  }

  // The byte ranges, in order, must tile [0, dataLen) exactly.
  const order = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let prev: Entry | undefined;
  for (const e of order) {
    if (e.begin > covered) fail(e.key, `data_offsets [${e.begin}, ${e.end}] leave a gap: bytes [${covered}, ${e.begin}) belong to no tensor`);
    if (e.begin < covered) fail(e.key, `data_offsets [${e.begin}, ${e.end}] overlap tensor ${JSON.stringify(prev!.key)} at [${prev!.begin}, ${prev!.end}]`);
    covered = e.end;
    if (e.end > e.begin) prev = e;
  }
  if (covered !== dataLen) fail(undefined, `${dataLen - covered} trailing bytes after the last tensor (data section is ${dataLen} bytes, tensors cover ${covered})`);

  const tensors = new Map<string, Tensor>();
  try {
    for (const e of entries) {
      const data = bytes.subarray(dataStart + e.begin, dataStart + e.end);
      if (e.format === 'BOOL') {
        const bad = data.findIndex((b) => b > 1);
        if (bad >= 0) fail(e.key, `BOOL byte ${bad} is ${data[bad]}, expected 0 or 1`);
      }
      let t: Tensor;
      try {
        t = fromBytes(data, e.shape, FORMAT_DTYPES[e.format]);
      } catch (err) {
        return fail(e.key, `libtorch could not create the ${e.format} [${e.shape.join(', ')}] tensor: ${(err as Error).message}`);
      }
      tensors.set(e.key, t);
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}
