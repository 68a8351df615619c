import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { encodePng, inlinePngs, pngSrc, type RasterImage } from '../../src/report/png.js';
import { tempDir } from './fixtures.js';
import { pillowAvailable, pythonAvailable, readPngWithPillow, readPngWithPython } from './python-png.js';

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

describe('PNG encoding through sharp, checked by independent decoders', () => {
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
    it(`round-trips ${name} through a stdlib-only Python reader (8-bit, grey stays grey)`, async () => {
      const path = join(tempDir(), 'x.png');
      writeFileSync(path, await encodePng(img));
      const py = readPngWithPython(path);
      assert.deepEqual({ w: py.width, h: py.height, depth: py.depth, colour: py.colour, interlace: py.interlace },
        { w: img.width, h: img.height, depth: 8, colour: img.channels === 1 ? 0 : 2, interlace: 0 });
      assert.deepEqual(py.data, Array.from(img.data));
    });
    it(`round-trips ${name} through Pillow`, async () => {
      const path = join(tempDir(), 'x.png');
      writeFileSync(path, await encodePng(img));
      const pil = readPngWithPillow(path);
      assert.equal(pil.mode, img.channels === 1 ? 'L' : 'RGB');
      assert.deepEqual([pil.width, pil.height], [img.width, img.height]);
      assert.deepEqual(pil.data, Array.from(img.data));
    });
  }

  it('rejects malformed rasters', async () => {
    await assert.rejects(encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) }), /expected 2×2×1 = 4/);
    await assert.rejects(encodePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) }), /positive integers/);
    await assert.rejects(encodePng({ width: 1, height: 1, channels: 2 as 1, data: new Uint8Array(2) }), /expected 1 \(grey\) or 3/);
    assert.throws(() => pngSrc({ width: 3, height: 1, channels: 3, data: new Uint8Array(3) }), /expected 3×1×3 = 9/);
  });

  it('inlines the placeholders of an HTML page as data: URIs of the encoded PNGs', async () => {
    const a = testImage(4, 3, 3);
    const b = testImage(5, 7, 1, 9);
    const html = `<img src="${pngSrc(a)}"><p>text</p><img src="${pngSrc(b)}"><img src="${pngSrc(a)}">`;
    const out = await inlinePngs(html);
    const srcs = [...out.matchAll(/src="([^"]*)"/g)].map((m) => m[1]!);
    assert.equal(srcs.length, 3);
    assert.ok(!out.includes('batchcam-raster'), 'no placeholder is left');
    assert.match(out, /<p>text<\/p>/);
    for (const [src, img] of [[srcs[0]!, a], [srcs[1]!, b], [srcs[2]!, a]] as const) {
      assert.match(src, /^data:image\/png;base64,/);
      const png = Buffer.from(src.split(',')[1]!, 'base64');
      assert.deepEqual(png, await encodePng(img));
      // Decoded by libvips again: the same pixels (sharp hands a grey PNG out as RGB unless asked for one band).
      const meta = await sharp(png).metadata();
      assert.deepEqual([meta.width, meta.height, meta.channels], [img.width, img.height, img.channels]);
      const { data } = await (img.channels === 1 ? sharp(png).extractChannel(0) : sharp(png)).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual(new Uint8Array(data), img.data);
    }
  });
});
