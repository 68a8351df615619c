import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tileImages, toRgb, upscale } from '../../src/report/image-grid.js';
import type { RasterImage } from '../../src/report/png.js';

const px = (img: RasterImage, x: number, y: number): number[] =>
  Array.from(img.data.subarray((y * img.width + x) * img.channels, (y * img.width + x + 1) * img.channels));

describe('image grid', () => {
  it('upscales by nearest neighbour into factor×factor blocks', () => {
    const img: RasterImage = { width: 2, height: 1, channels: 1, data: Uint8Array.of(10, 200) };
    const up = upscale(img, 3);
    assert.deepEqual([up.width, up.height], [6, 3]);
    for (let y = 0; y < 3; y++) assert.deepEqual(Array.from(up.data.subarray(y * 6, y * 6 + 6)), [10, 10, 10, 200, 200, 200]);
    assert.equal(upscale(img, 1), img);
    assert.throws(() => upscale(img, 1.5), /positive integer/);
  });

  it('replicates grey into RGB', () => {
    assert.deepEqual(Array.from(toRgb({ width: 2, height: 1, channels: 1, data: Uint8Array.of(7, 9) }).data), [7, 7, 7, 9, 9, 9]);
  });

  it('tiles row-major with spacing and a background, upscaled', () => {
    const a: RasterImage = { width: 1, height: 1, channels: 1, data: Uint8Array.of(50) };
    const b: RasterImage = { width: 1, height: 1, channels: 3, data: Uint8Array.of(1, 2, 3) };
    const c: RasterImage = { width: 2, height: 1, channels: 1, data: Uint8Array.of(90, 91) };
    const g = tileImages([a, b, c], { columns: 2, scale: 2, spacing: 1, background: [255, 0, 255] });
    // Cells are as large as the largest tile (4×2 after ×2): 2 columns → 1 + 4 + 1 + 4 + 1 = 11 wide; 2 rows → 1+2+1+2+1 = 7.
    assert.deepEqual([g.width, g.height, g.channels], [11, 7, 3]);
    assert.deepEqual(px(g, 0, 0), [255, 0, 255]);
    assert.deepEqual(px(g, 1, 1), [50, 50, 50]);
    assert.deepEqual(px(g, 2, 2), [50, 50, 50]);
    assert.deepEqual(px(g, 3, 1), [255, 0, 255]); // right of a's 2×2 block, inside its cell: background
    assert.deepEqual(px(g, 6, 1), [1, 2, 3]);
    assert.deepEqual(px(g, 7, 2), [1, 2, 3]);
    assert.deepEqual(px(g, 1, 4), [90, 90, 90]);
    assert.deepEqual(px(g, 3, 5), [91, 91, 91]);
    assert.deepEqual(px(g, 6, 4), [255, 0, 255]); // the empty last cell
    assert.throws(() => tileImages([]), /no images/);
  });

  it('defaults to one row at ×4 with 2 px spacing', () => {
    const t: RasterImage = { width: 28, height: 28, channels: 1, data: new Uint8Array(784) };
    const g = tileImages([t, t, t]);
    assert.deepEqual([g.width, g.height], [3 * 112 + 4 * 2, 112 + 2 * 2]);
  });
});
