// Synthetic tasks that need memory, generated from a seed (no downloaded data).
import { Rng } from '../random.js';
import type { Sample } from '../train/data.js';

/**
 * The adding problem (Hochreiter & Schmidhuber 1997; the form of Le et al. 2015): each step is
 * [value ~ U(0,1), marker]; exactly two markers are 1, one in each half; the target is the sum
 * of the two marked values. Always answering 1.0 scores MSE = Var(U+U) = 1/6 ≈ 0.167.
 */
export function addingProblem(n: number, T: number, seed: number): Sample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const half = Math.floor(T / 2);
    const a = Math.floor(rng.next() * half), b = half + Math.floor(rng.next() * (T - half));
    const input = Array.from({ length: T }, (_, t) => [rng.next(), t === a || t === b ? 1 : 0]);
    return { input, target: [input[a][0] + input[b][0]] };
  });
}

/**
 * Delayed recall: a one-hot symbol (of `symbols`) at step 0, then `delay` steps of noise on
 * separate channels; the target is the first symbol's class, read after the delay. Chance
 * accuracy is 1/symbols; answering needs memory over `delay` steps.
 */
export function delayedRecall(n: number, opts: { symbols: number; delay: number; noise?: number; seed: number }): Sample[] {
  const rng = new Rng(opts.seed), K = opts.symbols, noise = opts.noise ?? 2;
  return Array.from({ length: n }, () => {
    const cls = Math.floor(rng.next() * K);
    const input = Array.from({ length: opts.delay + 1 }, (_, t) => {
      const row = new Array<number>(K + noise).fill(0);
      if (t === 0) row[cls] = 1;
      else for (let j = 0; j < noise; j++) row[K + j] = rng.next() - 0.5;
      return row;
    });
    return { input, target: cls };
  });
}

const NOUNS = ['cat', 'dog', 'bird', 'fish', 'child', 'teacher', 'farmer', 'king'];
const VERBS = ['sees', 'likes', 'finds', 'helps', 'follows', 'calls'];
const ADJS = ['small', 'big', 'red', 'old', 'quiet', 'happy'];
const PLACES = ['in the garden', 'by the river', 'at home', 'on the hill'];

/**
 * English-like text from a tiny grammar ("the small cat sees a dog by the river."), seeded.
 * Enough structure for a character-level model to learn well below the ~4.4 bits per
 * character of its unigram distribution.
 */
export function grammarText(sentences: number, seed: number): string {
  const rng = new Rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)];
  const np = () => `${pick(['the', 'a'])} ${rng.next() < 0.5 ? pick(ADJS) + ' ' : ''}${pick(NOUNS)}`;
  const out: string[] = [];
  for (let i = 0; i < sentences; i++) out.push(`${np()} ${pick(VERBS)} ${np()}${rng.next() < 0.4 ? ' ' + pick(PLACES) : ''}.`);
  return out.join(' ');
}

/** Character vocabulary of a text: sorted unique characters and the id of each. */
export function charVocab(text: string): { chars: string[]; ids: Map<string, number> } {
  const chars = [...new Set(text)].sort();
  return { chars, ids: new Map(chars.map((c, i) => [c, i])) };
}
