// Loss functions shaped like torch.nn: CrossEntropyLoss, MSELoss, BCEWithLogitsLoss. forward()
// runs one fused WASM pass (assembly/kernels/loss.ts) that returns the loss sum AND leaves the
// unnormalised gradient in the loss's own arena; backward() scales it there by the reduction's
// denominator (one more WASM pass, at the first backward only: a validation forward skips it)
// and reads it. Nothing is allocated per call while the shapes repeat.
//
// Key: N rows, C classes, T time, B batch, F features per (t, b) row.
//   CrossEntropyLoss:  ℓ_i = −w_{t_i} · log softmax(x_i)_{t_i};  'sum' = Σ ℓ_i,
//                      'mean' = Σ ℓ_i / Σ w_{t_i}, both over rows whose target is not ignoreIndex
//                      (torch.nn.functional.nll_loss ∘ log_softmax).
//   MSELoss:           (x − y)², mean over elements or sum.
//   BCEWithLogitsLoss: max(x, 0) − x·y + log(1 + e^{−|x|}), mean over elements or sum.
// With { lengths } the input is time-major (T, B, …) and steps t ≥ lengths[b] are ignored: no
// loss, zero gradient, not counted in the mean's denominator, so the result equals the loss on
// only the valid rows.
//
// Zero denominator ('mean' with every row ignored, or all weights 0): the loss is NaN as in
// torch; the gradient is all zeros (torch gives zeros when all rows are ignored, NaN when the
// weights sum to 0 — we never hand NaN gradients to an optimizer).
import { engineOption, type Engine } from '../engine/engine.js';
import { ShapeError, StateError } from '../errors.js';
import { asTensor, Tensor, assertFinite, assertShape, checkLengths, type TensorLike } from '../tensor.js';
import { Arena } from '../nn/arena.js';

export type Reduction = 'mean' | 'sum';
export interface LossOptions { reduction?: Reduction; engine?: Engine }
export interface CrossEntropyOptions extends LossOptions {
  /** Per-class weights (C values), as torch's `weight`. */
  weight?: ArrayLike<number>;
  /** Target value whose rows give no loss and no gradient (default −100, as torch). */
  ignoreIndex?: number;
}
export interface LossCallOptions {
  /** Per-sequence lengths (B values in 1…T) of a padded time-major (T, B, …) batch. */
  lengths?: ArrayLike<number>;
}
export type Targets = Int32Array | readonly number[] | Tensor;

abstract class Loss {
  readonly reduction: Reduction;
  readonly engine: Engine;
  protected readonly arena: Arena;
  private pending: { shape: readonly number[]; scale: number } | null = null;
  private disposed = false;

  constructor(protected readonly name: string, o: LossOptions) {
    const r = o.reduction ?? 'mean';
    if (r !== 'mean' && r !== 'sum') throw new ShapeError(`${name}: reduction must be 'mean' or 'sum', got ${String(r)}`);
    this.reduction = r;
    this.engine = engineOption(o.engine, name);
    this.arena = new Arena(this.engine);
  }

  /** ∂loss/∂input of the last forward, with the input's shape. May be called more than once. */
  backward(): Tensor {
    this.live();
    const p = this.pending;
    if (!p) throw new StateError(`${this.name}.backward: no forward to differentiate (call forward first)`);
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (p.scale !== 1) {
      this.engine.kernels.f32_scale(n, this.arena.at('dx'), p.scale);
      p.scale = 1; // scaled once: backward may be called again
    }
    return new Tensor(this.engine.read(this.arena.at('dx'), n), p.shape);
  }

  dispose(): void {
    this.arena.release();
    this.pending = null;
    this.disposed = true;
  }

  /** The input as a Tensor. The previous gradient stays until finish(): a forward that fails
   *  validation changes nothing. */
  protected begin(input: TensorLike): Tensor {
    this.live();
    return asTensor(input, `${this.name}: input`);
  }

  /** Reduce the kernel's sum; backward scales the gradient (the arena's dx) by the same denominator. */
  protected finish(shape: readonly number[], sum: number, count: number): number {
    const denom = this.reduction === 'mean' ? count : 1;
    this.pending = { shape, scale: denom === 0 ? 0 : 1 / denom };
    return sum / denom;
  }

  protected lengths(opts: LossCallOptions, shape: readonly number[], minRank: number): Int32Array | null {
    if (opts.lengths === undefined) return null;
    if (shape.length < minRank) {
      throw new ShapeError(`${this.name}: lengths need a time-major input of rank ≥ ${minRank} (T, B, …), got [${shape.join(', ')}]`);
    }
    return checkLengths(opts.lengths, shape[0], shape[1], this.name);
  }

  private live(): void {
    if (this.disposed) throw new StateError(`wasm-rnn: this ${this.name} was disposed`);
  }
}

/** torch.nn.CrossEntropyLoss over (N, C) logits, or time-major (T, B, C) with targets (T, B). */
export class CrossEntropyLoss extends Loss {
  readonly ignoreIndex: number;
  readonly weight: Float32Array | null;

  constructor(o: CrossEntropyOptions = {}) {
    super('CrossEntropyLoss', o);
    const ig = o.ignoreIndex ?? -100;
    if (!Number.isInteger(ig) || ig < -(2 ** 31) || ig >= 2 ** 31) throw new ShapeError(`CrossEntropyLoss: ignoreIndex must be a 32-bit integer, got ${ig}`);
    this.ignoreIndex = ig;
    this.weight = o.weight === undefined ? null : Float32Array.from(o.weight);
    if (this.weight) assertFinite(this.weight, 'CrossEntropyLoss: weight');
  }

  forward(input: TensorLike, target: Targets, opts: LossCallOptions = {}): number {
    const x = this.begin(input), name = `${this.name}.forward`;
    if (x.shape.length !== 2 && x.shape.length !== 3) {
      throw new ShapeError(`${name}: input must be (N, C) or time-major (T, B, C), got [${x.shape.join(', ')}]`);
    }
    const C = x.shape[x.shape.length - 1], rows = x.shape.slice(0, -1), N = x.size / C || 0;
    if (C < 1) throw new ShapeError(`${name}: input needs at least one class, got [${x.shape.join(', ')}]`);
    if (this.weight && this.weight.length !== C) throw new ShapeError(`${name}: weight has ${this.weight.length} entries, expected one per class (${C})`);
    const ids = targetIds(target, rows, name);
    const lengths = this.lengths(opts, x.shape, 3);
    this.engine.assertFinite(x.data, `${name}: input`);
    const ig = this.ignoreIndex, B = rows.length === 2 ? rows[1] : N;
    for (let i = 0; i < N; i++) {
      if (lengths && Math.floor(i / B) >= lengths[i % B]) { ids[i] = ig; continue; } // padded step
      const t = ids[i];
      if (t !== ig && !(Number.isInteger(t) && t >= 0 && t < C)) {
        throw new ShapeError(`${name}: target[${i}] = ${t} is not a class id in 0…${C - 1} (nor ignoreIndex ${ig})`);
      }
    }
    const e = this.engine, a = this.arena;
    if (a.ensure(`${N}x${C}`, [['dx', N * C], ['t', N], ['w', C], ['wsum', 2]]) && this.weight) e.write(a.at('w'), this.weight);
    e.write(a.at('dx'), x.data);
    new Int32Array(e.memory.buffer, a.at('t'), N).set(ids);
    const sum = e.kernels.f32_softmax_xent(N, C, a.at('dx'), C, a.at('t'), this.weight ? a.at('w') : 0, ig, a.at('dx'), C, a.at('wsum'));
    return this.finish(x.shape, sum, new Float64Array(e.memory.buffer, a.at('wsum'), 1)[0]);
  }
}

/** Shared by the two elementwise losses: same-shape target, optional lengths over (T, B, …). */
abstract class ElementwiseLoss extends Loss {
  protected abstract kernel(n: number, x: number, y: number, dx: number): number;

  forward(input: TensorLike, target: TensorLike, opts: LossCallOptions = {}): number {
    const x = this.begin(input), name = `${this.name}.forward`;
    const y = asTensor(target, `${name}: target`);
    assertShape(y.shape, x.shape, `${name}: target (must match the input)`);
    const lengths = this.lengths(opts, x.shape, 2);
    this.engine.assertFinite(x.data, `${name}: input`);
    this.engine.assertFinite(y.data, `${name}: target`);
    const e = this.engine, a = this.arena, n = x.size;
    a.ensure(`${n}`, [['dx', n], ['y', n]]);
    e.write(a.at('dx'), x.data);
    e.write(a.at('y'), y.data);
    const dx = a.at('dx'), py = a.at('y');
    if (!lengths) return this.finish(x.shape, this.kernel(n, dx, py, dx), n);
    const [T, B] = x.shape, F = n / (T * B);
    let sum = 0, count = 0;
    forRuns(T, B, lengths, (row, rows, valid) => {
      const off = row * F * 4, len = rows * F;
      if (valid) { sum += this.kernel(len, dx + off, py + off, dx + off); count += len; }
      else e.zero(dx + off, len);
    });
    return this.finish(x.shape, sum, count);
  }
}

/** torch.nn.MSELoss: (x − y)², gradient 2(x − y) / denominator. */
export class MSELoss extends ElementwiseLoss {
  constructor(o: LossOptions = {}) { super('MSELoss', o); }
  protected kernel(n: number, x: number, y: number, dx: number): number { return this.engine.kernels.f32_mse(n, x, y, dx); }
}

/** torch.nn.BCEWithLogitsLoss (no pos_weight): stable form, gradient σ(x) − y. */
export class BCEWithLogitsLoss extends ElementwiseLoss {
  constructor(o: LossOptions = {}) { super('BCEWithLogitsLoss', o); }
  protected kernel(n: number, x: number, y: number, dx: number): number { return this.engine.kernels.f32_bce_logits(n, x, y, dx); }
}

/** A copy of the class ids (checked later), its shape checked against `rows`. */
function targetIds(target: Targets, rows: readonly number[], name: string): Float64Array {
  const N = rows.reduce((a, b) => a * b, 1);
  let data: ArrayLike<number>;
  if (target instanceof Tensor) {
    assertShape(target.shape, rows, `${name}: target (one class id per row of the input)`);
    data = target.data;
  } else if (target instanceof Int32Array || Array.isArray(target)) {
    if (target.length !== N) throw new ShapeError(`${name}: target has ${target.length} ids, expected ${N} (one per row of the input, shape [${rows.join(', ')}])`);
    data = target;
  } else {
    throw new ShapeError(`${name}: target must be an Int32Array, an array of numbers or a Tensor of class ids`);
  }
  return Float64Array.from(data);
}

/** Visit the (t, b) rows of a (T, B) grid, row-major, as maximal runs of equal validity (t < lengths[b]). */
function forRuns(T: number, B: number, lengths: Int32Array, fn: (row: number, rows: number, valid: boolean) => void): void {
  const R = T * B;
  let start = 0;
  for (let r = 1; r <= R; r++) {
    const prev = Math.floor((r - 1) / B) < lengths[(r - 1) % B];
    if (r === R || (Math.floor(r / B) < lengths[r % B]) !== prev) { fn(start, r - start, prev); start = r; }
  }
}
