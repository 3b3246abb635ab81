/**
 * The test kit's one seeded random generator (mulberry32): the same seed gives the same
 * sequence, so a fuzz case, a synthetic load or a sample names its seed and can be replayed.
 *
 * @example
 * ```ts
 * const rng = createRng(42);
 * const pick = rng.pick(["a", "b"]);
 * const random = createRng(7).next; // a plain `() => number` in [0, 1)
 * ```
 */

/** A deterministic source of randomness. */
export interface Rng {
  /** A float in [0, 1) (a plain function: `rng.next` can be passed on alone). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array<ArrayBuffer>;
}

/** A mulberry32 generator seeded with `seed` (a 32-bit integer). */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[int(items.length)]!,
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = int(256);
      return out;
    },
  };
}
