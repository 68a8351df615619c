import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { camRaster, colorbar, colourise, greyRaster, jet, overlay } from '../../src/report/colormap.js';

describe('jet colormap', () => {
  it('runs from dark blue at 0 to dark red at 1', () => {
    assert.deepEqual(jet(0), [0, 0, 128]);
    assert.deepEqual(jet(1), [128, 0, 0]);
    // The classic stops: blue at 1/8, cyan at 3/8, yellow at 5/8, red at 7/8, green-ish grey in the middle.
    assert.deepEqual(jet(1 / 8), [0, 0, 255]);
    assert.deepEqual(jet(3 / 8), [0, 255, 255]);
    assert.deepEqual(jet(0.5), [128, 255, 128]);
    assert.deepEqual(jet(5 / 8), [255, 255, 0]);
    assert.deepEqual(jet(7 / 8), [255, 0, 0]);
  });

  it('clamps out-of-range values and maps NaN to 0', () => {
    assert.deepEqual(jet(-3), jet(0));
    assert.deepEqual(jet(7), jet(1));
    assert.deepEqual(jet(NaN), jet(0));
  });

  it('is continuous: neighbouring values differ by little', () => {
    for (let i = 0; i < 1000; i++) {
      const a = jet(i / 1000);
      const b = jet((i + 1) / 1000);
      for (let k = 0; k < 3; k++) assert.ok(Math.abs(a[k]! - b[k]!) <= 2, `step at ${i / 1000}`);
    }
  });

  it('colourises maps into RGB triples in order', () => {
    assert.deepEqual(Array.from(colourise([0, 1, 0.5])), [0, 0, 128, 128, 0, 0, 128, 255, 128]);
    const bar = colorbar(5, 2);
    assert.deepEqual([bar.width, bar.height, bar.channels, bar.data.length], [5, 2, 3, 30]);
    assert.deepEqual(Array.from(bar.data.subarray(0, 3)), [0, 0, 128]);
    assert.deepEqual(Array.from(bar.data.subarray(12, 15)), [128, 0, 0]);
    assert.deepEqual(bar.data.subarray(0, 15), bar.data.subarray(15, 30));
  });
});

describe('overlay', () => {
  it('blends (1−α)·255·grey + α·jet(cam) per channel', () => {
    const grey = [0, 1, 0.5, 0.25];
    const cam = [1, 0, 0.5, 0.875];
    for (const alpha of [0, 0.3, 0.5, 1]) {
      const out = overlay(grey, cam, alpha);
      assert.equal(out.length, 12);
      grey.forEach((g, i) => {
        const c = jet(cam[i]!);
        for (let k = 0; k < 3; k++) assert.equal(out[3 * i + k], Math.round((1 - alpha) * 255 * g + alpha * c[k]!), `α=${alpha} px ${i} ch ${k}`);
      });
    }
  });

  it('gives the image at α = 0 and the coloured CAM at α = 1', () => {
    const grey = [0, 0.2, 1];
    const cam = [0.9, 0.1, 0.4];
    assert.deepEqual(Array.from(overlay(grey, cam, 0)), grey.flatMap((g) => [0, 1, 2].map(() => Math.round(255 * g))));
    assert.deepEqual(overlay(grey, cam, 1), colourise(cam));
  });

  it('clamps inputs and checks sizes and α', () => {
    assert.deepEqual(Array.from(overlay([2, -1], [0, 0], 0)), [255, 255, 255, 0, 0, 0]);
    assert.throws(() => overlay([0, 1], [0], 0.5), /image has 2 pixels, CAM has 1/);
    assert.throws(() => overlay([0], [0], 1.5), /alpha 1.5/);
  });

  it('builds rasters of the right shape', () => {
    const g = greyRaster([0, 0.5, 1, 0.25], 2, 2);
    assert.deepEqual(Array.from(g.data), [0, 128, 255, 64]);
    assert.equal(camRaster([0, 1, 0, 1], 2, 2).data.length, 12);
    assert.throws(() => greyRaster([0, 1, 2], 2, 2), /3 values for 2×2/);
  });
});
