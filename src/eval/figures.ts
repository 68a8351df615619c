import { fromArray, noGrad, scope, type Tensor } from '../torch/index.js';
import type { FigureSample } from './evaluation.js';

/** Figure values are for drawing: 4 decimals keep evaluation.json small without a visible difference. */
export function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/** Rows `rows` of an N×H×W tensor as plain rounded arrays (only those rows are read back). */
export function mapRows(maps: Tensor, rows: readonly number[]): number[][] {
  if (rows.length === 0) return [];
  const [, h, w] = maps.shape as [number, number, number];
  const flat = noGrad(() => scope(() => maps.indexSelect(0, fromArray(BigInt64Array.from(rows, BigInt), [rows.length], { device: maps.device })).toFloat32()));
  return rows.map((_, k) => Array.from(flat.subarray(k * h * w, (k + 1) * h * w), round4));
}

/**
 * Positions of the figure samples: the first `perClass` correctly classified images of each class (in set order),
 * and the first `maxMisclassified` misclassified ones, listed apart.
 */
export function pickSamples(labels: ArrayLike<number>, preds: ArrayLike<number>, numClasses: number,
  perClass: number, maxMisclassified: number): { samples: number[]; misclassified: number[] } {
  const taken = new Array<number>(numClasses).fill(0);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  const misclassified: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (preds[i] !== y) {
      if (misclassified.length < maxMisclassified) misclassified.push(i);
    } else if (taken[y]! < perClass) {
      taken[y]!++;
      byClass[y]!.push(i);
    }
  }
  return { samples: byClass.flat(), misclassified };
}

/**
 * The figure records of `positions`: official index, label, prediction, image (pixels/255; for colour images the
 * intensity, plus the three planes in `rgb`) and CAM. `pixels` is n×C×H×W uint8 (C = `channels`, default 1).
 */
export function figureSamples(positions: readonly number[], d: {
  pixels: Uint8Array; channels?: number; labels: ArrayLike<number>; preds: ArrayLike<number>; sourceIndices: ArrayLike<number>; cams: Tensor;
}): FigureSample[] {
  const [, h, w] = d.cams.shape as [number, number, number];
  const c = d.channels ?? 1;
  const hw = h * w;
  const cams = mapRows(d.cams, positions);
  return positions.map((p, k) => {
    const px = d.pixels.subarray(p * c * hw, (p + 1) * c * hw);
    const image = c === 1
      ? Array.from(px, (v) => round4(v / 255))
      : Array.from({ length: hw }, (_, i) => { let s = 0; for (let j = 0; j < c; j++) s += px[j * hw + i]!; return round4(s / c / 255); });
    return {
      index: d.sourceIndices[p]!,
      label: d.labels[p]!,
      pred: d.preds[p]!,
      image,
      ...(c === 3 ? { rgb: Array.from(px, (v) => round4(v / 255)) } : {}),
      cam: cams[k]!,
    };
  });
}
