import { bitwiseAnd, bitwiseXor, fromArray, geInt, mulInt, rightShift, scope, type Tensor } from '../torch/index.js';

/**
 * Dropout whose mask is a pure function of a per-sample key, not of libtorch's generator: sample i's mask depends
 * on its key alone, so the same sample gets the same mask whatever batch it sits in and however a batch is split
 * across processes (data-parallel training equals one process on the whole batch), and a resumed run needs no
 * generator state. The mask bits come from a counter-based hash (a 32-bit integer mixer, as in Philox-style
 * generators) of (sample key, element index, layer salt), evaluated as int32 tensor ops on the hash's 32 bits.
 */

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

/**
 * `mix32` on an int32 tensor holding the 32 bits of each value (two's complement): int32 products wrap modulo 2³²
 * as Math.imul does, and x >>> s is the arithmetic shift with the sign-extended bits masked off. Bit for bit the
 * JS mixer; 4-byte lanes with native vector multiplies (int64 multiplies have none on AVX2), half the memory traffic.
 */
function mixTensor(x: Tensor): Tensor {
  return scope(() => {
    const xorShift = (h: Tensor, s: number): Tensor => bitwiseXor(h, bitwiseAnd(rightShift(h, s), BigInt(2 ** (32 - s) - 1)));
    let h = xorShift(x, 16);
    h = mulInt(h, BigInt(MUL1));
    h = xorShift(h, 15);
    h = mulInt(h, BigInt(MUL2));
    return xorShift(h, 16);
  });
}

/** A uint32 value as the int32 with the same bits. */
const asInt32 = (u: number): bigint => BigInt(u | 0);

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

// The per-element halves by (f, salt): the same for every step of a layer, so computed once (one entry per layer).
const elementHashCache = new Map<string, Int32Array>();

/** The per-element half of the hash: mix32(j·golden + mix32(salt)) for j < f, as int32 bits. */
function elementHashes(f: number, salt: number): Int32Array {
  const key = `${f}|${salt}`;
  let out = elementHashCache.get(key);
  if (!out) {
    const s = mix32(salt >>> 0);
    out = new Int32Array(f);
    for (let j = 0; j < f; j++) out[j] = mix32((Math.imul(j, GOLDEN) + s) >>> 0) | 0;
    elementHashCache.set(key, out);
  }
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
    // keys < 2³² as int64: their low 32 bits are the hash input.
    const h = mixTensor(bitwiseXor(keys.to(x.device).to('int32').unsqueeze(1), elements.unsqueeze(0))); // B×F
    // Keep where u ≥ p, u = (h >>> 8)·2⁻²⁴ the top 24 bits as a uniform in [0, 1) and p as float32 (the comparison a
    // float32 u would make): u ≥ p ⇔ h ≥ 256·⌈p·2²⁴⌉ as unsigned 32-bit integers, which is a signed comparison once
    // both sides have their top bit flipped.
    const threshold = 256 * Math.ceil(Math.fround(p) * 2 ** 24); // ≤ 2³²
    if (threshold >= 2 ** 32) return x.mul(0); // p rounds to 1 in float32: nothing is kept
    const keep = geInt(bitwiseXor(h, asInt32(0x80000000)), asInt32(threshold ^ 0x80000000));
    return x.mul(keep.to(x.dtype).mul(1 / (1 - p)).reshape(x.shape));
  });
}
