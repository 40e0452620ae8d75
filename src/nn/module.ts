// The contract every composable piece of a model follows (Linear, Embedding, heads, the
// recurrent layers inside a Sequential). Forward saves exactly what backward needs; backward
// ADDS parameter gradients into the module's gradient buffers (+=) and returns the gradient
// with respect to its input. Heavy math runs in WASM; tensors cross as copies at module edges,
// except between two modules of a Sequential that both take Residents (below).
import type { Engine } from '../engine/engine.js';
import { Tensor, sizeOf } from '../tensor.js';
import type { ParameterStore } from './params.js';

/**
 * An activation left in engine memory by one module of a Sequential for the next (an output
 * forward, or an input gradient backward): no copy out to JS and back, no finite check (the
 * engine wrote it). Valid only until the module that produced it runs again, so the consumer
 * copies it at once; Sequential never hands one to user code.
 */
export class Resident {
  constructor(readonly engine: Engine, readonly ptr: number, readonly shape: readonly number[]) {}

  get size(): number { return sizeOf(this.shape); }

  /** A view of its floats: take it after any allocation (a memory that grew has a new buffer). */
  view(): Float32Array {
    const i = this.ptr >>> 2;
    return this.engine.f32.subarray(i, i + this.size);
  }

  toTensor(): Tensor {
    return new Tensor(this.engine.read(this.ptr, this.size), this.shape);
  }
}

/** x as a Tensor, copying a Resident out of engine memory. */
export function materialize(x: Tensor | Resident): Tensor {
  return x instanceof Resident ? x.toTensor() : x;
}

/** What a forward pass knows besides its input. */
export interface Context {
  /** Per-sequence lengths (B values in 1…T) when the (T, B, …) batch is padded. */
  lengths?: Int32Array;
  /** Training mode: dropout active. Eval mode: dropout off. */
  training: boolean;
}

/** Options of a backward pass. */
export interface BackwardOptions {
  /**
   * Compute and return ∂L/∂input (default true). false skips that product and returns null:
   * the input is data, not something upstream to train (PyTorch's requires_grad = False).
   * The parameter gradients are the same either way.
   */
  inputGrad?: boolean;
}

export interface Module {
  /** x: time-major (T, B, F) for sequence modules, (B, F) or (N, F) otherwise. */
  forward(x: Tensor, ctx: Context): Tensor;
  /**
   * dy has the shape forward returned; returns dx with the shape forward was given, or null
   * when `opts.inputGrad` is false (a module may ignore the option and return dx anyway).
   */
  backward(dy: Tensor, opts?: BackwardOptions): Tensor | null;
  /** The module's parameter buffers (each one flat buffer with named slices). */
  parameters(): ParameterStore[];
  dispose(): void;
  /**
   * Optional, used by Sequential between modules that both have them: forward / backward that
   * take a Tensor or a Resident and leave their result in engine memory (see Resident).
   */
  forwardResident?(x: Tensor | Resident, ctx: Context): Resident;
  backwardResident?(dy: Tensor | Resident, opts?: BackwardOptions): Resident | null;
  /**
   * Optional: throw what backward would throw before it changes anything (no forward to
   * backpropagate, parameters changed since). Sequential asks every module before running any,
   * so that a refused backward adds no gradient anywhere.
   */
  checkBackward?(): void;
  /**
   * Optional: forget what the last forward saved for backward. Sequential calls it on every
   * module when a forward fails part way (the modules before the failure hold the new input).
   */
  discardForward?(): void;
}
