/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna) over four
 * 32-bit words, seeded through a 32-bit integer hash. Chosen because it is
 * fast with plain `Math.imul`, has a 2^128 − 1 period, and its whole state is
 * four numbers, so a training run can save it in JSON and resume exactly.
 */

/** JSON-serialisable state of an {@link Rng}. */
export interface RngState {
  readonly algorithm: 'xoshiro128**';
  readonly s: readonly [number, number, number, number];
}

// A bijective 32-bit mixer (Wellons' "lowbias32"), so distinct inputs stay distinct.
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

function words(value: number, what: string): [number, number] {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what}: expected a safe integer, found ${value}`);
  const big = BigInt(value);
  return [Number(BigInt.asUintN(32, big)), Number(BigInt.asUintN(32, big >> 32n))];
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** A seeded generator. Not cryptographic. */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  private constructor(s: readonly [number, number, number, number]) {
    this.setState({ algorithm: 'xoshiro128**', s });
  }

  /** A generator determined by an integer seed (any safe integer, negative included). */
  static fromSeed(seed: number): Rng {
    return Rng.derive(seed);
  }

  /**
   * An independent stream determined by `seed` and a path of integer keys,
   * e.g. `Rng.derive(seed, SHUFFLE, epoch)`. Lets a value such as epoch e's
   * order be a pure function of (seed, e) instead of depending on how many
   * numbers earlier epochs consumed, which is what makes resume exact.
   */
  static derive(seed: number, ...keys: number[]): Rng {
    // Two hash chains with different starting constants give 64 bits of key material.
    let a = mix32(0x6a09e667 ^ keys.length);
    let b = mix32(0xbb67ae85 ^ keys.length);
    for (const [i, value] of [seed, ...keys].entries()) {
      for (const w of words(value, i === 0 ? 'seed' : `key ${i - 1}`)) {
        a = mix32((a ^ w) >>> 0);
        b = mix32((b + w + 0x9e3779b9) >>> 0);
      }
    }
    return new Rng([mix32(a ^ 0x3c6ef372), mix32(b ^ 0xa54ff53a), mix32(a + 0x510e527f), mix32(b + 0x9b05688c)]);
  }

  /** Restores a generator saved with {@link Rng.state}. */
  static fromState(state: RngState): Rng {
    return new Rng(state.s);
  }

  /** The current state; feed it to {@link Rng.fromState} to continue the same sequence. */
  state(): RngState {
    return { algorithm: 'xoshiro128**', s: [this.s0, this.s1, this.s2, this.s3] };
  }

  /** Replaces the state (validated: four uint32 words, not all zero). */
  setState(state: RngState): void {
    const s = state.s;
    if (state.algorithm !== 'xoshiro128**' || s.length !== 4 || s.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new RangeError(`Rng state: expected {algorithm: "xoshiro128**", s: four uint32}, found ${JSON.stringify(state)}`);
    }
    // The all-zero state is xoshiro's one fixed point; hashing makes it practically unreachable, but guard anyway.
    if (s.every((w) => w === 0)) throw new RangeError('Rng state: expected a non-zero state, found all zeros');
    [this.s0, this.s1, this.s2, this.s3] = s;
  }

  /** An independent copy at the same position. */
  clone(): Rng {
    return Rng.fromState(this.state());
  }

  /** Next uniformly distributed integer in [0, 2^32). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling); 1 ≤ n ≤ 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x100000000) throw new RangeError(`Rng.int: expected an integer in [1, 2^32], found ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    let r = this.nextUint32();
    while (r >= limit) r = this.nextUint32();
    return r % n;
  }

  /** A fair coin. */
  bool(): boolean {
    return (this.nextUint32() & 0x80000000) !== 0;
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A uniformly random permutation of 0..n−1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }
}
