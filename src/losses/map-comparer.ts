import { keep, scope, type DType, type Tensor } from '../torch/index.js';
import { distance, type Distance } from './distance.js';
import { checkPair, promotedDtype, ssimMapsSharing, type SsimOwnStatistics } from './ssim.js';

/**
 * One batch of maps (B×H×W CAMs) compared with several references by `distance`, with what every comparison shares
 * computed once: under SSIM the maps' own filtered statistics (μa, E[a²], inside autograd) are filtered the first time
 * an SSIM distance is asked for and reused by every later one, so the Prototype and Batch-CAM Losses of one training
 * step filter the CAMs once between them. Each distance has the value and gradient of `distance(maps, reference, kind)`.
 * The comparer owns its cached statistics until `dispose()` (the graph built from them does not need them).
 */
export class MapComparer {
  readonly maps: Tensor;
  // The maps' SSIM statistics, per dtype they were compared in (float64 when a reference is float64).
  #own = new Map<DType, SsimOwnStatistics>();
  #disposed = false;

  constructor(maps: Tensor) {
    if (maps.ndim !== 3) throw new RangeError(`MapComparer: expected B×H×W maps, got [${maps.shape}]`);
    this.maps = maps;
  }

  /** d(maps_i, target_i) for each i, a B-vector: `distance(this.maps, reference, kind)`, sharing the SSIM statistics. */
  distance(reference: Tensor, kind: Distance): Tensor {
    if (kind !== 'ssim') return distance(this.maps, reference, kind);
    if (this.#disposed) throw new Error('MapComparer: used after dispose()');
    checkPair(this.maps, reference, 'distance');
    const dtype = promotedDtype(this.maps, reference);
    const cached = this.#own.get(dtype);
    return scope(() => {
      const { maps: [m], own } = ssimMapsSharing(this.maps, [reference], {}, cached);
      if (!cached) this.#own.set(dtype, { mx: keep(own.mx), mxx: keep(own.mxx), mx2: keep(own.mx2) });
      return m!.mean([1, 2]).neg().add(1);
    });
  }

  /** This comparer with a distance kind fixed: what `prototypeLoss` and `batchCamLoss` take in place of a kind. */
  by(kind: Distance): MapDistance {
    return { comparer: this, kind };
  }

  /** Frees the cached statistics; a later SSIM distance throws. */
  dispose(): void {
    for (const s of this.#own.values()) for (const t of [s.mx, s.mxx, s.mx2]) t.dispose();
    this.#own.clear();
    this.#disposed = true;
  }
}

/** A distance kind measured by a comparer of the loss's own maps (`MapComparer.by`). */
export interface MapDistance {
  readonly comparer: MapComparer;
  readonly kind: Distance;
}

/**
 * d(cams_i, target_i), a B-vector, by a distance kind (`distance`) or by a comparer of these very `cams`: what a
 * map-matching loss measures.
 */
export function mapDistance(cams: Tensor, reference: Tensor, by: Distance | MapDistance): Tensor {
  if (typeof by === 'string') return distance(cams, reference, by);
  if (by.comparer.maps !== cams) throw new RangeError('mapDistance: the comparer was made for other maps than these CAMs');
  return by.comparer.distance(reference, by.kind);
}
