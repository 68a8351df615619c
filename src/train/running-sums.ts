import { LOGGED_TERMS, type TermKey } from './objective-terms.js';

/** A logged term's running sum over the steps where it was on. */
export interface TermSum {
  sum: number;
  steps: number;
}

/** Running sums of training metrics over an epoch (or a steps.jsonl window). */
export interface EpochSums {
  /** One entry per LOGGED_TERMS key, in that order. */
  terms: Record<TermKey, TermSum>;
  /** Correctly classified training images. */
  correct: number;
  /** Images seen. */
  n: number;
  steps: number;
  seconds: number;
}

export function emptySums(): EpochSums {
  const terms = Object.fromEntries(LOGGED_TERMS.map((d) => [d.key, { sum: 0, steps: 0 }])) as Record<TermKey, TermSum>;
  return { terms, correct: 0, n: 0, steps: 0, seconds: 0 };
}

/** Adds one step's values (terms null where off) to `s`. */
export function addStep(s: EpochSums, terms: Record<TermKey, number | null>, correct: number, n: number, seconds: number): void {
  for (const d of LOGGED_TERMS) {
    const v = terms[d.key];
    if (v !== null) { s.terms[d.key].sum += v; s.terms[d.key].steps++; }
  }
  s.correct += correct; s.n += n; s.steps++;
  s.seconds += seconds;
}

/** The mean of each term over the steps where it was on; null where it never was. */
export function termMeans(s: EpochSums): Record<TermKey, number | null> {
  return Object.fromEntries(LOGGED_TERMS.map((d) => {
    const t = s.terms[d.key];
    return [d.key, t.steps ? t.sum / t.steps : null];
  })) as Record<TermKey, number | null>;
}

/** Sums as stored in checkpoint metadata, including the flat layout of checkpoints before terms were a record. */
export function sumsFromJson(raw: unknown): EpochSums {
  const r = (raw ?? {}) as Record<string, unknown>;
  if (r.terms !== undefined) {
    const s = emptySums();
    for (const [k, t] of Object.entries(r.terms as Record<string, TermSum>)) s.terms[k as TermKey] = { sum: t.sum, steps: t.steps };
    return { ...s, correct: Number(r.correct), n: Number(r.n), steps: Number(r.steps), seconds: Number(r.seconds) };
  }
  const num = (k: string): number => (typeof r[k] === 'number' ? (r[k] as number) : 0);
  const s = emptySums();
  s.terms.ce = { sum: num('ce'), steps: num('steps') };
  s.terms.proto = { sum: num('proto'), steps: num('protoSteps') };
  s.terms.batch = { sum: num('batch'), steps: num('batchSteps') };
  s.terms.loss = { sum: num('loss'), steps: num('steps') };
  return { ...s, correct: num('correct'), n: num('n'), steps: num('steps'), seconds: num('seconds') };
}
