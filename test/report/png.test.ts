import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32, encodePng, pngDataUri, type RasterImage } from '../../src/report/png.js';
import { decodePng, PngError, resizeNearest, toGrey } from '../../src/report/png-decode.js';
import { tempDir } from './fixtures.js';
import { pillow, pillowAvailable, pythonAvailable, readPngWithPillow, readPngWithPython } from './python-png.js';

/** Deterministic noise plus gradients, so every byte value and many row patterns occur. */
function testImage(width: number, height: number, channels: 1 | 3, seed = 1): RasterImage {
  let s = seed;
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = i % 3 === 0 ? (s >>> 16) & 255 : (i * 7) & 255;
  }
  return { width, height, channels, data };
}

describe('crc32', () => {
  it('matches the standard check values', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.from('IEND')), 0xae426082);
    assert.equal(crc32(new Uint8Array(0)), 0);
    // Incremental use gives the same as one pass.
    assert.equal(crc32(Buffer.from('6789'), crc32(Buffer.from('12345'))), 0xcbf43926);
  });
});

describe('PNG encoder, checked by independent decoders', () => {
  it('the Python oracles are available', () => {
    assert.ok(pythonAvailable, 'no /usr/bin/python3');
    assert.ok(pillowAvailable, 'apt-get install python3-pil');
  });
  const cases: [string, RasterImage][] = [
    ['grey 28×28', testImage(28, 28, 1)],
    ['RGB 37×5 (odd width)', testImage(37, 5, 3, 7)],
    ['grey 1×1', { width: 1, height: 1, channels: 1, data: Uint8Array.of(200) }],
    ['RGB 300×2', testImage(300, 2, 3, 3)],
  ];
  for (const [name, img] of cases) {
    it(`round-trips ${name} through a stdlib-only Python reader`, () => {
      const path = join(tempDir(), 'x.png');
      writeFileSync(path, encodePng(img));
      const py = readPngWithPython(path);
      assert.deepEqual({ w: py.width, h: py.height, depth: py.depth, colour: py.colour, interlace: py.interlace },
        { w: img.width, h: img.height, depth: 8, colour: img.channels === 1 ? 0 : 2, interlace: 0 });
      assert.deepEqual(py.data, Array.from(img.data));
    });
    it(`round-trips ${name} through Pillow`, () => {
      const path = join(tempDir(), 'x.png');
      writeFileSync(path, encodePng(img));
      const pil = readPngWithPillow(path);
      assert.equal(pil.mode, img.channels === 1 ? 'L' : 'RGB');
      assert.deepEqual([pil.width, pil.height], [img.width, img.height]);
      assert.deepEqual(pil.data, Array.from(img.data));
    });
  }

  it('rejects malformed rasters', () => {
    assert.throws(() => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) }), /expected 2×2×1 = 4/);
    assert.throws(() => encodePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) }), /positive integers/);
    assert.throws(() => encodePng({ width: 1, height: 1, channels: 2 as 1, data: new Uint8Array(2) }), /expected 1 \(grey\) or 3/);
  });

  it('makes data: URIs of the same bytes', () => {
    const img = testImage(4, 3, 3);
    const uri = pngDataUri(img);
    assert.match(uri, /^data:image\/png;base64,/);
    assert.deepEqual(Buffer.from(uri.split(',')[1]!, 'base64'), encodePng(img));
  });
});

describe('PNG decoder', () => {
  it('round-trips the encoder', () => {
    for (const img of [testImage(28, 28, 1), testImage(13, 9, 3, 5)]) {
      const d = decodePng(encodePng(img));
      assert.deepEqual({ w: d.width, h: d.height, c: d.channels }, { w: img.width, h: img.height, c: img.channels });
      assert.deepEqual(d.data, img.data);
    }
  });

  // Pillow writes with adaptive row filters (Sub, Up, Average, Paeth), which the encoder never uses.
  const modes: [string, number][] = [['L', 1], ['RGB', 3], ['LA', 2], ['RGBA', 4]];
  for (const [mode, ch] of modes) {
    it(`decodes Pillow's filtered ${mode} PNGs byte for byte`, () => {
      const path = join(tempDir(), `${mode}.png`);
      pillow(`import random\nrandom.seed(3)\nw, h = 41, 23\nbands = ${ch}\n` +
        'data = bytes(((x * 5 + y * 3 + b * 40) % 256 if (x + y) % 7 else random.randrange(256)) for y in range(h) for x in range(w) for b in range(bands))\n' +
        `Image.frombytes('${mode}', (w, h), data).save(sys.argv[1], optimize=True)`, path);
      const want = readPngWithPillow(path);
      const got = decodePng(readFileSync(path));
      assert.equal(got.channels, ch);
      assert.deepEqual([got.width, got.height], [41, 23]);
      assert.deepEqual(Array.from(got.data), want.data);
    });
  }

  it('names unsupported formats and corrupt files clearly', () => {
    const dir = tempDir();
    const pal = join(dir, 'p.png');
    pillow("Image.new('P', (4, 4)).save(sys.argv[1])", pal);
    assert.throws(() => decodePng(readFileSync(pal)), (e: Error) => e instanceof PngError && /palette PNG is not supported/.test(e.message));
    const deep = join(dir, 'i16.png');
    pillow("Image.new('I;16', (4, 4)).save(sys.argv[1])", deep);
    assert.throws(() => decodePng(readFileSync(deep)), /16-bit grey PNG is not supported.*8 bits per sample/);
    const bw = join(dir, '1.png');
    pillow("Image.new('1', (4, 4)).save(sys.argv[1])", bw);
    assert.throws(() => decodePng(readFileSync(bw)), /1-bit grey PNG is not supported/);
  });

  it('rejects interlacing, bad signatures, bad CRCs and truncation', () => {
    const good = encodePng(testImage(8, 8, 1));
    const inter = Buffer.from(good);
    inter[8 + 8 + 12] = 1; // IHDR interlace byte
    inter.writeUInt32BE(crc32(inter.subarray(12, 12 + 4 + 13)), 8 + 8 + 13);
    assert.throws(() => decodePng(inter), /interlaced PNG is not supported/);
    assert.throws(() => decodePng(Buffer.from('GIF89a....')), /not a PNG file/);
    const flipped = Buffer.from(good);
    flipped[40] = flipped[40]! ^ 0xff;
    assert.throws(() => decodePng(flipped), /CRC mismatch/);
    assert.throws(() => decodePng(good.subarray(0, 40)), /truncated PNG/);
  });

  it('converts to grey (BT.601 luma, alpha over black) and resizes by nearest neighbour', () => {
    const rgba = { width: 2, height: 1, channels: 4 as const, data: Uint8Array.of(255, 0, 0, 255, 255, 255, 255, 51) };
    const g = toGrey(rgba);
    assert.ok(Math.abs(g[0]! - 0.299) < 1e-6);
    assert.ok(Math.abs(g[1]! - 0.2) < 1e-6);
    // 2×2 → 4×4 copies each pixel into a 2×2 block; 4×4 → 2×2 picks the pixel under each output centre.
    const up = resizeNearest(Float32Array.of(1, 2, 3, 4), 2, 2, 4, 4);
    assert.deepEqual(Array.from(up), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    const down = resizeNearest(Float32Array.from({ length: 16 }, (_, i) => i), 4, 4, 2, 2);
    assert.deepEqual(Array.from(down), [5, 7, 13, 15]);
  });
});
