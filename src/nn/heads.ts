// SequenceHead: reduce a time-major sequence (T, B, F) to one row per sequence (B, F), honouring
// each sequence's length (ctx.lengths; all T when absent). Modes:
//   last:  y_b = x[len_b − 1, b]; with bidirectional, the first F/2 features (forward direction)
//          at t = len_b − 1 and the last F/2 (reverse direction, which ends at t = 0) at t = 0.
//   mean:  y_b = (1/len_b) Σ_{t<len_b} x[t, b]               dx[t, b] = dy_b / len_b
//   max:   y_bf = max_{t<len_b} x[t, b, f]                    dx routed to the argmax (first on ties)
// Plain TypeScript loops, no WASM: the input arrives as a JS Tensor and the output leaves as one,
// so a kernel would first need a full O(T·B·F) copy into linear memory — the same work as these
// loops — and all of it is small next to the recurrent layer's O(T·B·H·(I+H)) products.
//
// Key: T time, B batch, F features.
import { ShapeError, StateError } from '../errors.js';
import { asTensor, Tensor, assertFinite, assertShape, checkLengths, flag, type TensorLike } from '../tensor.js';
import type { Context, Module } from './module.js';
import type { ParameterStore } from './params.js';

export type HeadMode = 'last' | 'mean' | 'max';
export interface SequenceHeadOptions {
  mode: HeadMode;
  /** 'last' only: the features are [forward | reverse] halves of a bidirectional layer. */
  bidirectional?: boolean;
}

export class SequenceHead implements Module {
  readonly mode: HeadMode;
  readonly bidirectional: boolean;
  private pending: { T: number; B: number; F: number; lens: Int32Array; argmax: Int32Array | null } | null = null;

  constructor(o: SequenceHeadOptions) {
    const mode = o?.mode;
    if (mode !== 'last' && mode !== 'mean' && mode !== 'max') throw new ShapeError(`SequenceHead: mode must be 'last', 'mean' or 'max', got ${String(mode)}`);
    const bidirectional = flag(o.bidirectional, false, 'SequenceHead: bidirectional');
    if (bidirectional && mode !== 'last') throw new ShapeError(`SequenceHead: bidirectional applies to mode 'last' only`);
    this.mode = mode;
    this.bidirectional = bidirectional;
  }

  forward(input: TensorLike, ctx: Partial<Context> = {}): Tensor {
    const name = 'SequenceHead.forward';
    const x = asTensor(input, `${name}: input`);
    if (x.shape.length !== 3) throw new ShapeError(`${name}: input must be time-major (T, B, F), got [${x.shape.join(', ')}]`);
    const [T, B, F] = x.shape;
    if (T < 1) throw new ShapeError(`${name}: input needs at least one time step, got [${x.shape.join(', ')}]`);
    if (this.bidirectional && F % 2) throw new ShapeError(`${name}: bidirectional needs an even feature count (forward | reverse halves), got ${F}`);
    assertFinite(x.data, `${name}: input`);
    const lens = ctx.lengths === undefined ? new Int32Array(B).fill(T) : checkLengths(ctx.lengths, T, B, name);
    this.pending = null;
    const X = x.data, y = new Float32Array(B * F);
    const argmax = this.mode === 'max' ? new Int32Array(B * F) : null;
    for (let b = 0; b < B; b++) {
      const L = lens[b], yo = b * F;
      if (this.mode === 'last') {
        const h = this.bidirectional ? F / 2 : F, last = ((L - 1) * B + b) * F, first = b * F;
        y.set(X.subarray(last, last + h), yo);
        if (this.bidirectional) y.set(X.subarray(first + h, first + F), yo + h);
      } else if (this.mode === 'mean') {
        for (let t = 0; t < L; t++) for (let f = 0, o = (t * B + b) * F; f < F; f++) y[yo + f] += X[o + f];
        for (let f = 0; f < F; f++) y[yo + f] /= L;
      } else {
        y.set(X.subarray(b * F, b * F + F), yo);                          // t = 0; argmax starts at 0
        for (let t = 1; t < L; t++) for (let f = 0, o = (t * B + b) * F; f < F; f++) {
          if (X[o + f] > y[yo + f]) { y[yo + f] = X[o + f]; argmax![yo + f] = t; }
        }
      }
    }
    this.pending = { T, B, F, lens, argmax };
    return new Tensor(y, [B, F]);
  }

  /** dy (B, F) → dx (T, B, F), zero at padded steps and wherever the reduction did not look. */
  backward(dOutput: TensorLike): Tensor {
    const p = this.checkBackward(), name = 'SequenceHead.backward';
    const dy = asTensor(dOutput, `${name}: dOutput`);
    const { T, B, F, lens, argmax } = p;
    assertShape(dy.shape, [B, F], `${name}: dOutput`);
    assertFinite(dy.data, `${name}: dOutput`);
    const D = dy.data, dx = new Float32Array(T * B * F);
    for (let b = 0; b < B; b++) {
      const L = lens[b], yo = b * F;
      if (this.mode === 'last') {
        const h = this.bidirectional ? F / 2 : F, last = ((L - 1) * B + b) * F, first = b * F;
        dx.set(D.subarray(yo, yo + h), last);
        // With L = 1 both halves come from t = 0: the two sets touch disjoint features.
        if (this.bidirectional) dx.set(D.subarray(yo + h, yo + F), first + h);
      } else if (this.mode === 'mean') {
        for (let t = 0; t < L; t++) for (let f = 0, o = (t * B + b) * F; f < F; f++) dx[o + f] = D[yo + f] / L;
      } else {
        for (let f = 0; f < F; f++) dx[(argmax![yo + f] * B + b) * F + f] = D[yo + f];
      }
    }
    this.pending = null;
    return new Tensor(dx, [T, B, F]);
  }

  /** The saved forward, or the StateError backward throws. */
  checkBackward(): NonNullable<typeof this.pending> {
    if (!this.pending) throw new StateError('SequenceHead.backward: no forward to backpropagate (call forward first; each forward allows one backward)');
    return this.pending;
  }

  discardForward(): void { this.pending = null; }

  /** No parameters. */
  parameters(): ParameterStore[] { return []; }
  dispose(): void { this.pending = null; }
}

