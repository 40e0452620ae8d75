// The contract every composable piece of a model follows (Linear, Embedding, heads, the
// recurrent layers inside a Sequential). Forward saves exactly what backward needs; backward
// ADDS parameter gradients into the module's gradient buffers (+=) and returns the gradient
// with respect to its input. Heavy math runs in WASM; tensors cross as copies at module edges.
import type { Tensor } from '../tensor.js';
import type { ParameterStore } from './params.js';

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
}
