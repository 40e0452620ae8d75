// Test helpers: load the engine from the fresh build, compare arrays with a reported max error.
import { readFileSync, readdirSync } from 'node:fs';
import { init, type Engine } from '../../src/index.js';

/** The build under test: plain SIMD, or relaxed SIMD with WASM_RNN_BUILD=relaxed. */
export const BUILD = process.env.WASM_RNN_BUILD === 'relaxed' ? 'wasm-rnn.relaxed.wasm' : 'wasm-rnn.wasm';

export async function engine(): Promise<Engine> {
  return init(readFileSync(new URL(`../../build/${BUILD}`, import.meta.url)));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function fixtureNames(dir: string): string[] {
  return readdirSync(new URL(`../fixtures/${dir}/`, import.meta.url)).filter((f) => f.endsWith('.json')).sort();
}

export function loadFixture<T>(dir: string, file: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${dir}/${file}`, import.meta.url), 'utf8')) as T;
}

/** Deterministic test data. */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (hi - lo) * (s / 4294967296);
  }
  return out;
}
