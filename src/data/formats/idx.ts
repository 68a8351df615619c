import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors.js';

/** Element types of the IDX format (LeCun's MNIST container). */
export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array that holds each IDX element type. */
export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file. For `uint8` data, `data` is a view into the file's bytes (no copy). */
export interface IdxData {
  readonly dtype: IdxDType;
  readonly dims: readonly number[];
  readonly data: IdxArray;
}

/** What a caller requires of a file; anything left out is not checked. */
export interface IdxExpectation {
  readonly dtype?: IdxDType;
  readonly dims?: readonly number[];
}

const DTYPE_BY_CODE: ReadonlyMap<number, IdxDType> = new Map([
  [0x08, 'uint8'],
  [0x09, 'int8'],
  [0x0b, 'int16'],
  [0x0c, 'int32'],
  [0x0d, 'float32'],
  [0x0e, 'float64'],
]);

const CODE_BY_DTYPE: Readonly<Record<IdxDType, number>> = {
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
};

const BYTES_PER_ELEMENT: Readonly<Record<IdxDType, number>> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  float32: 4,
  float64: 8,
};

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ') || '(nothing)';

const describeMagic = (dtype: IdxDType | undefined, ndim: number | undefined): string => {
  const code = dtype === undefined ? '??' : CODE_BY_DTYPE[dtype].toString(16).padStart(2, '0');
  const nd = ndim === undefined ? '??' : ndim.toString(16).padStart(2, '0');
  return `IDX magic 00 00 ${code} ${nd} (${dtype ?? 'any type'}, ${ndim ?? 'any number of'} dims)`;
};

/** True when `bytes` starts with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Returns the IDX bytes of a file's content, decompressing it if it is gzip.
 * Detection is by content, not name, so a mis-named file still loads.
 */
export function decompressIfGzip(bytes: Uint8Array, name: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DataError(
      `${name}: expected a complete gzip stream, found a damaged or truncated one (${bytes.length} bytes; ${reason})`,
    );
  }
}

/**
 * Parses IDX bytes (already decompressed), validating the magic number, element
 * type, dimensions and exact byte length against `expect`. `name` is used in
 * error messages.
 */
export function parseIdx(bytes: Uint8Array, name: string, expect: IdxExpectation = {}): IdxData {
  const wantMagic = describeMagic(expect.dtype, expect.dims?.length);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(`${name}: expected ${wantMagic}, found ${hex(bytes.subarray(0, 4))} — not an IDX file`);
  }
  const dtype = DTYPE_BY_CODE.get(bytes[2]!);
  const ndim = bytes[3]!;
  if (dtype === undefined || ndim === 0) {
    throw new DataError(`${name}: expected ${wantMagic}, found ${hex(bytes.subarray(0, 4))} — unknown IDX type or no dims`);
  }
  if ((expect.dtype !== undefined && dtype !== expect.dtype) || (expect.dims !== undefined && ndim !== expect.dims.length)) {
    throw new DataError(`${name}: expected ${wantMagic}, found ${hex(bytes.subarray(0, 4))} (${dtype}, ${ndim} dims)`);
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new DataError(`${name}: expected an IDX header of ${headerBytes} bytes, found a file of ${bytes.length} bytes (truncated)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  if (expect.dims !== undefined && expect.dims.some((d, i) => d !== dims[i])) {
    throw new DataError(`${name}: expected dims [${expect.dims.join(', ')}], found [${dims.join(', ')}]`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  const expectedLength = headerBytes + count * BYTES_PER_ELEMENT[dtype];
  if (bytes.length !== expectedLength) {
    const what = bytes.length < expectedLength ? 'truncated' : 'oversized: trailing bytes';
    throw new DataError(
      `${name}: expected ${expectedLength} bytes (${headerBytes}-byte header + ${dims.join('×')} ${dtype}), found ${bytes.length} bytes (${what})`,
    );
  }
  return { dtype, dims, data: decodeBody(bytes.subarray(headerBytes), dtype, count, view, headerBytes) };
}

// IDX stores multi-byte values big-endian, so anything wider than a byte is decoded element by element.
function decodeBody(body: Uint8Array, dtype: IdxDType, count: number, view: DataView, offset: number): IdxArray {
  switch (dtype) {
    case 'uint8':
      // A plain Uint8Array view, not a Node Buffer: Buffer.slice() aliases instead of copying, a trap for callers.
      return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    case 'int8':
      return new Int8Array(body.buffer, body.byteOffset, count);
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** Reads and parses an IDX file, raw or gzip-compressed. */
export function readIdxFile(path: string, expect: IdxExpectation = {}): IdxData {
  return parseIdx(decompressIfGzip(readFileSync(path), path), path, expect);
}

/** Serialises data as IDX bytes (big-endian); the inverse of {@link parseIdx}, used to write test fixtures. */
export function encodeIdx(dtype: IdxDType, dims: readonly number[], data: ArrayLike<number>): Uint8Array {
  const headerBytes = 4 + 4 * dims.length;
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new DataError(`encodeIdx: expected ${count} elements for dims [${dims.join(', ')}], found ${data.length}`);
  const size = BYTES_PER_ELEMENT[dtype];
  const out = new Uint8Array(headerBytes + count * size);
  const view = new DataView(out.buffer);
  out[2] = CODE_BY_DTYPE[dtype];
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const at = headerBytes + i * size;
    const v = data[i]!;
    switch (dtype) {
      case 'uint8': view.setUint8(at, v); break;
      case 'int8': view.setInt8(at, v); break;
      case 'int16': view.setInt16(at, v, false); break;
      case 'int32': view.setInt32(at, v, false); break;
      case 'float32': view.setFloat32(at, v, false); break;
      case 'float64': view.setFloat64(at, v, false); break;
    }
  }
  return out;
}
