// Batches of variable-length sequences: padded, time-major, with their lengths, and a seeded
// shuffling iterator. Padding values never matter: the recurrent layers and the losses use
// the lengths (padded steps give no loss and no gradient).
import { ShapeError } from '../errors.js';
import { Rng } from '../random.js';
import { Tensor } from '../tensor.js';

/** One training example. */
export interface Sample {
  /** (T_i, I) feature rows, or T_i token ids. */
  input: ArrayLike<number>[] | ArrayLike<number>;
  /**
   * A class id or a vector for the whole sequence, or one per step: T_i class ids or
   * T_i vectors.
   */
  target: number | ArrayLike<number> | ArrayLike<number>[];
}

export interface Batch {
  /** (T, B, I) features, or (T, B) token ids; T = the longest sequence. */
  x: Tensor;
  lengths: Int32Array;
  /** (B) / (B, K) per sequence, or (T, B) / (T, B, K) per step (padded steps: IGNORE / 0). */
  target: Tensor;
  size: number;
}

/** Padded per-step class targets get this id (PyTorch's default ignore_index). */
export const IGNORE = -100;

const isRows = (v: Sample['input']): v is ArrayLike<number>[] => typeof (v as ArrayLike<unknown>)[0] === 'object';

/**
 * Whether targets belong to whole sequences or to every step. Needed only when a target is a
 * flat array (a vector per sequence, or one class id per step): numbers are per sequence,
 * arrays of vectors are per step.
 */
export type TargetKind = 'sequence' | 'step';

export function makeBatch(samples: readonly Sample[], targetKind?: TargetKind): Batch {
  if (targetKind !== undefined && targetKind !== 'sequence' && targetKind !== 'step') {
    throw new ShapeError(`targetKind must be 'sequence' or 'step', got ${String(targetKind)}`);
  }
  const B = samples.length;
  if (!B) throw new ShapeError('makeBatch: no samples');
  const lengths = Int32Array.from(samples, (s, b) => {
    const n = s.input?.length;
    if (!Number.isInteger(n) || n < 1) throw new ShapeError(`sample ${b}: input must be a non-empty sequence`);
    return n;
  });
  const T = Math.max(...lengths);
  const rows = isRows(samples[0].input);
  const I = rows ? (samples[0].input as ArrayLike<number>[])[0].length : 0;
  const x = new Float32Array(T * B * (rows ? I : 1));
  samples.forEach((s, b) => {
    if (isRows(s.input) !== rows) throw new ShapeError(`sample ${b}: mixes feature rows and token ids with sample 0`);
    for (let t = 0; t < lengths[b]; t++) {
      if (rows) {
        const r = (s.input as ArrayLike<number>[])[t];
        if (r.length !== I) throw new ShapeError(`sample ${b}, step ${t}: ${r.length} features, expected ${I}`);
        x.set(r, (t * B + b) * I);
      } else x[t * B + b] = (s.input as ArrayLike<number>)[t];
    }
  });
  return { x: new Tensor(x, rows ? [T, B, I] : [T, B]), lengths, target: targets(samples, lengths, T, targetKind), size: B };
}

function targets(samples: readonly Sample[], lengths: Int32Array, T: number, kind?: TargetKind): Tensor {
  const B = samples.length, first = samples[0].target;
  samples.forEach((s, b) => {
    if (typeof s.target !== 'number' && (!s.target || typeof s.target !== 'object' || typeof s.target.length !== 'number')) {
      throw new ShapeError(`sample ${b}: target must be a number, an array of numbers or an array of vectors, got ${String(s.target)}`);
    }
  });
  if (typeof first === 'number') { // a class id (or scalar) per sequence
    return new Tensor(Float32Array.from(samples, (s, b) => {
      if (typeof s.target !== 'number') throw new ShapeError(`sample ${b}: target kind differs from sample 0`);
      return s.target;
    }), [B]);
  }
  const perStep = (s: Sample, b: number) => (s.target as ArrayLike<unknown>).length === lengths[b];
  const nested = typeof (first as ArrayLike<unknown>)[0] === 'object';
  if (nested) { // per-step vectors (T, B, K)
    const K = (first as ArrayLike<number>[])[0].length, y = new Float32Array(T * B * K);
    samples.forEach((s, b) => {
      if (!perStep(s, b)) throw new ShapeError(`sample ${b}: ${(s.target as ArrayLike<unknown>).length} target steps for ${lengths[b]} input steps`);
      for (let t = 0; t < lengths[b]; t++) {
        const v = (s.target as ArrayLike<number>[])[t];
        if (!v || typeof v !== 'object' || v.length !== K) {
          throw new ShapeError(`sample ${b}, step ${t}: target has ${v && typeof v === 'object' ? v.length : 'no'} values, expected ${K} (as sample 0, step 0)`);
        }
        y.set(v, (t * B + b) * K);
      }
    });
    return new Tensor(y, [T, B, K]);
  }
  if (!kind) throw new ShapeError("targets are flat arrays: say whether they are per 'sequence' (vectors) or per 'step' (class ids) with targetKind");
  if (kind === 'step') { // per-step class ids (T, B); padded steps are IGNORE
    const y = new Float32Array(T * B).fill(IGNORE);
    samples.forEach((s, b) => {
      if (!perStep(s, b)) throw new ShapeError(`sample ${b}: ${(s.target as ArrayLike<unknown>).length} target steps for ${lengths[b]} input steps`);
      for (let t = 0; t < lengths[b]; t++) y[t * B + b] = (s.target as ArrayLike<number>)[t];
    });
    return new Tensor(y, [T, B]);
  }
  const K = (first as ArrayLike<number>).length, y = new Float32Array(B * K); // a vector per sequence
  samples.forEach((s, b) => {
    const v = s.target as ArrayLike<number>;
    if (v.length !== K) throw new ShapeError(`sample ${b}: target has ${v.length} values, expected ${K}`);
    y.set(v, b * K);
  });
  return new Tensor(y, [B, K]);
}

/**
 * Batches over the samples, in a seeded shuffled order when `shuffle` (a new order each epoch,
 * the same sequence of orders in every run with the same seed).
 */
export class BatchIterator {
  private readonly rng: Rng;
  constructor(readonly samples: readonly Sample[],
              readonly opts: { batchSize: number; shuffle?: boolean; seed?: number; dropLast?: boolean; targetKind?: TargetKind }) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new ShapeError(`batchSize must be a positive integer, got ${opts.batchSize}`);
    if (!samples.length) throw new ShapeError('BatchIterator: no samples');
    this.rng = new Rng(opts.seed ?? 0);
  }

  get batchesPerEpoch(): number {
    const n = this.samples.length / this.opts.batchSize;
    return this.opts.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** One epoch of batches. */
  *epoch(): Generator<Batch> {
    const order = Array.from(this.samples.keys());
    if (this.opts.shuffle) {
      for (let i = order.length - 1; i > 0; i--) { // Fisher–Yates
        const j = Math.floor(this.rng.next() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    const bs = this.opts.batchSize;
    for (let i = 0; i < order.length; i += bs) {
      if (this.opts.dropLast && i + bs > order.length) break;
      yield makeBatch(order.slice(i, i + bs).map((k) => this.samples[k]), this.opts.targetKind);
    }
  }
}
