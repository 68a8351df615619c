import { fromArray, noGrad, scope, type Tensor } from '../torch/index.js';
import { distance, type Distance } from '../losses/distance.js';
import { classMeans } from './class-means.js';
import { distanceToClassReference } from './class-distance.js';

/** How class-specific a set of CAMs is, for one distance. */
export interface ClassSpecificity {
  /** Mean d(cam_i, M_{y_i}) over the samples: the coherence distance. */
  within: number;
  /** Mean d(M_c, M_c') over the ordered pairs of present classes c ≠ c'. */
  between: number;
  /** within / between: below 1 when a map is closer to its own class's mean than class means are to each other. */
  ratio: number;
}

/**
 * Class specificity: the ratio of within-class to between-class map distance. Coherence alone rewards maps that look
 * alike for every class (a centred blob for all ten digits is perfectly "coherent"); dividing by how far the class
 * means are from each other tells coherent-because-class-specific from coherent-because-all-alike (ratio near 1).
 * `cams` N×H×W, `labels` int64 N; classes without samples are left out of the between term.
 */
export function classSpecificity(cams: Tensor, labels: Tensor, numClasses: number, kinds: readonly Distance[]): Record<Distance, ClassSpecificity> {
  return noGrad(() => scope(() => {
    const { means, counts } = classMeans(cams, labels, numClasses);
    const present = counts.toArray().flatMap((c, k) => (c > 0 ? [k] : []));
    const a: number[] = [];
    const b: number[] = [];
    for (const i of present) for (const j of present) if (i !== j) { a.push(i); b.push(j); }
    const out = {} as Record<Distance, ClassSpecificity>;
    for (const kind of kinds) {
      out[kind] = scope(() => {
        const within = distanceToClassReference(cams, labels, means, kind).mean().item();
        const between = a.length === 0 ? NaN : scope(() => distance(pick(means, a), pick(means, b), kind).mean().item());
        return { within, between, ratio: within / between };
      });
    }
    return out;
  }));
}

function pick(maps: Tensor, rows: number[]): Tensor {
  return scope(() => maps.indexSelect(0, fromArray(BigInt64Array.from(rows, BigInt), [rows.length], { device: maps.device })));
}
