import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/data/errors.js';
import { decompressIfGzip, encodeIdx, parseIdx, readIdxFile } from '../../src/data/formats/idx.js';
import { tempDir } from './fixtures.js';

describe('IDX reader', () => {
  it('round-trips every element type, big-endian', () => {
    const cases = [
      ['uint8', [2, 3], [0, 1, 2, 253, 254, 255]],
      ['int8', [4], [-128, -1, 0, 127]],
      ['int16', [2, 2], [-32768, -2, 258, 32767]],
      ['int32', [3], [-2147483648, 16909060, 2147483647]],
      ['float32', [2], [1.5, -0.25]],
      ['float64', [2], [Math.PI, -1e300]],
    ] as const;
    for (const [dtype, dims, values] of cases) {
      const bytes = encodeIdx(dtype, dims, values);
      const parsed = parseIdx(bytes, 'x', { dtype, dims });
      assert.equal(parsed.dtype, dtype);
      assert.deepEqual(parsed.dims, dims);
      assert.deepEqual(Array.from(parsed.data), values);
    }
    // Header is big-endian: 0x01020304 as int32 is stored 01 02 03 04.
    assert.deepEqual(Array.from(encodeIdx('int32', [1], [16909060]).subarray(8)), [1, 2, 3, 4]);
  });

  it('reads raw and gzip files alike', () => {
    const dir = tempDir();
    const bytes = encodeIdx('uint8', [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    writeFileSync(join(dir, 'a'), bytes);
    writeFileSync(join(dir, 'a.gz'), gzipSync(bytes));
    assert.deepEqual(readIdxFile(join(dir, 'a')), readIdxFile(join(dir, 'a.gz')));
  });

  it('rejects a truncated file, naming it and both lengths', () => {
    const bytes = encodeIdx('uint8', [10, 28, 28], new Uint8Array(7840));
    assert.throws(() => parseIdx(bytes.subarray(0, 1000), 'imgs', { dtype: 'uint8', dims: [10, 28, 28] }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, /^imgs: expected 7856 bytes \(16-byte header \+ 10×28×28 uint8\), found 1000 bytes \(truncated\)$/);
      return true;
    });
    assert.throws(() => parseIdx(bytes.subarray(0, 10), 'imgs'), /imgs: expected an IDX header of 16 bytes, found a file of 10 bytes \(truncated\)/);
  });

  it('rejects an oversized file', () => {
    const bytes = new Uint8Array(7856 + 5);
    bytes.set(encodeIdx('uint8', [10, 28, 28], new Uint8Array(7840)));
    assert.throws(() => parseIdx(bytes, 'imgs'), /imgs: expected 7856 bytes .* found 7861 bytes \(oversized/);
  });

  it('rejects foreign files and wrong types by their magic number', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]);
    assert.throws(() => parseIdx(png, 'f.png', { dtype: 'uint8', dims: [1, 28, 28] }),
      /^DataError: f\.png: expected IDX magic 00 00 08 03 \(uint8, 3 dims\), found 89 50 4e 47 — not an IDX file$/);
    const labels = encodeIdx('uint8', [3], [1, 2, 3]);
    assert.throws(() => parseIdx(labels, 'l', { dtype: 'uint8', dims: [3, 28, 28] }), /l: expected IDX magic 00 00 08 03 .*found 00 00 08 01 \(uint8, 1 dims\)/);
    const ints = encodeIdx('int32', [3], [1, 2, 3]);
    assert.throws(() => parseIdx(ints, 'i', { dtype: 'uint8' }), /i: expected IDX magic 00 00 08 \?\? .*found 00 00 0c 01 \(int32, 1 dims\)/);
    assert.throws(() => parseIdx(Uint8Array.from([0, 0, 0x42, 1]), 'q'), /q: expected .* found 00 00 42 01 — unknown IDX type/);
    assert.throws(() => parseIdx(new Uint8Array(0), 'empty'), /empty: expected IDX magic .* found \(nothing\)/);
  });

  it('rejects wrong dimensions', () => {
    const bytes = encodeIdx('uint8', [2, 28, 28], new Uint8Array(2 * 784));
    assert.throws(() => parseIdx(bytes, 'x', { dims: [3, 28, 28] }), /x: expected dims \[3, 28, 28\], found \[2, 28, 28\]/);
  });

  it('rejects a damaged gzip stream', () => {
    const gz = gzipSync(encodeIdx('uint8', [100], new Uint8Array(100).fill(7)));
    assert.throws(() => decompressIfGzip(gz.subarray(0, gz.length - 12), 'x.gz'), /x\.gz: expected a complete gzip stream, found a damaged or truncated one/);
  });
});
