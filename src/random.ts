// Seeded pseudo-random numbers (mulberry32: a 32-bit state, period 2^32; enough for weight
// initialisation and shuffling, not for cryptography).
import { ShapeError } from './errors.js';

export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next(), v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
}

let seedCounter = 0x5eed;

/** A different seed for each model made without one, the same sequence in every run. */
/** A `seed` option: the next default seed when not given, else an integer (a ShapeError naming `what` otherwise). */
export function seedOption(v: unknown, what: string): number {
  if (v === undefined) return nextSeed();
  if (!Number.isSafeInteger(v)) throw new ShapeError(`${what}: seed must be an integer, got ${String(v)}`);
  return v as number;
}

export function nextSeed(): number {
  seedCounter = (Math.imul(seedCounter, 1664525) + 1013904223) >>> 0;
  return seedCounter;
}
