import { bitwiseAnd, bitwiseXor, fromArray, mulInt, rightShift, scope, type Tensor } from '../torch/index.js';

/**
 * Dropout whose mask is a pure function of a per-sample key, not of libtorch's generator: sample i's mask depends
 * on its key alone, so the same sample gets the same mask whatever batch it sits in and however a batch is split
 * across processes (data-parallel training equals one process on the whole batch), and a resumed run needs no
 * generator state. The mask bits come from a counter-based hash (a 32-bit integer mixer, as in Philox-style
 * generators) of (sample key, element index, layer salt), evaluated as int64 tensor ops.
 */

const M32 = 0xffffffffn;
const MUL1 = 0x7feb352d;
const MUL2 = 0x5bd1e995;
const GOLDEN = 0x9e3779b9;

/** A 32-bit integer mixer (xorshift-multiply, both multipliers below 2³¹) on JS numbers in [0, 2³²). */
export function mix32(x: number): number {
  let h = (x ^ (x >>> 16)) >>> 0;
  h = Math.imul(h, MUL1) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  h = Math.imul(h, MUL2) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** `mix32` on an int64 tensor of values in [0, 2³²): every product stays below 2⁶³, so nothing overflows. */
function mixTensor(x: Tensor): Tensor {
  return scope(() => {
    let h = bitwiseXor(x, rightShift(x, 16));
    h = bitwiseAnd(mulInt(h, BigInt(MUL1)), M32);
    h = bitwiseXor(h, rightShift(h, 15));
    h = bitwiseAnd(mulInt(h, BigInt(MUL2)), M32);
    return bitwiseXor(h, rightShift(h, 16));
  });
}

/**
 * The dropout keys of a training step: one int64 per sample, from (seed, step, the sample's index in the dataset).
 * A sample's key does not depend on which batch, shard or process it is in.
 */
export function sampleKeys(seed: number, step: number, indices: ArrayLike<number>): Tensor {
  const base = mix32(mix32(seed >>> 0) ^ (step >>> 0));
  const keys = new BigInt64Array(indices.length);
  for (let i = 0; i < indices.length; i++) keys[i] = BigInt(mix32((base ^ mix32(indices[i]! >>> 0)) >>> 0));
  return fromArray(keys, [indices.length]);
}

/** The per-element half of the hash: mix32(j·golden + mix32(salt)) for j < f. */
function elementHashes(f: number, salt: number): BigInt64Array {
  const s = mix32(salt >>> 0);
  const out = new BigInt64Array(f);
  for (let j = 0; j < f; j++) out[j] = BigInt(mix32((Math.imul(j, GOLDEN) + s) >>> 0));
  return out;
}

/**
 * Inverted dropout (zero with probability p, scale the rest by 1/(1−p)) with sample i's mask drawn from `keys[i]`
 * and `salt` (one salt per dropout layer, so two layers of one sample get different masks). `x` B×…, `keys` int64 B.
 */
export function keyedDropout(x: Tensor, p: number, keys: Tensor, salt: number): Tensor {
  if (!(p >= 0 && p < 1)) throw new RangeError(`keyedDropout: p must be in [0, 1), got ${p}`);
  const b = x.shape[0]!;
  if (keys.ndim !== 1 || keys.shape[0] !== b || keys.dtype !== 'int64') {
    throw new RangeError(`keyedDropout: expected ${b} int64 keys, got ${keys.dtype} [${keys.shape}]`);
  }
  if (p === 0) return x;
  return scope(() => {
    const f = x.numel / Math.max(b, 1);
    const elements = fromArray(elementHashes(f, salt), [f]).to(x.device); // F
    const h = mixTensor(bitwiseXor(keys.to(x.device).unsqueeze(1), elements.unsqueeze(0))); // B×F
    // The top 24 bits as a uniform in [0, 1), exact in float32.
    const u = rightShift(h, 8).to('float32').mul(2 ** -24);
    const keep = u.ge(p).to(x.dtype).mul(1 / (1 - p));
    return x.mul(keep.reshape(x.shape));
  });
}
