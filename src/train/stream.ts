// Truncated BPTT on a long token stream (Williams & Peng 1990, BPTT(h; h') with h = k2 and
// h' = k1; the char-rnn / PyTorch word language model recipe when k1 = k2): the stream is cut
// into B parallel rows and the model is updated every k1 steps. Update j ends at e = (j+1)·k1
// and backpropagates through the window [e − k2, e), started from the recurrent state carried
// to e − k2 (values only: no gradient crosses a window's start).
//   k2 = k1: consecutive chunks, the state carried from one to the next.
//   k2 > k1: overlapping windows; the loss covers the window's last k1 steps (each step is
//            scored once) and their gradients reach up to k2 steps back. The state for the
//            next window is advanced k1 steps without gradient.
//   k2 < k1: the first k1 − k2 steps of a chunk only advance the state; loss and gradient
//            come from its last k2 steps.
import { NumericError, ShapeError } from '../errors.js';
import type { Sequential } from '../nn/sequential.js';
import { Tensor } from '../tensor.js';
import { clipGradNorm } from './clip.js';
import type { LossFn } from './fit.js';
import type { Optimizer } from './optim.js';

export interface StreamOptions {
  loss: LossFn;
  optimizer: Optimizer;
  batchSize: number;
  /** Steps between updates. */
  k1: number;
  /** Steps backpropagated (default k1). */
  k2?: number;
  epochs?: number;
  clipNorm?: number;
  onChunk?(r: { epoch: number; chunk: number; chunks: number; loss: number; gradNorm: number }): void;
}

/** Train a next-token model on `tokens`; returns the mean loss of each epoch (nats per token). */
export function fitStream(model: Sequential, tokens: ArrayLike<number>, o: StreamOptions): number[] {
  const B = o.batchSize, k1 = o.k1, k2 = o.k2 ?? o.k1;
  if (!Number.isInteger(B) || B < 1) throw new ShapeError(`fitStream: batchSize must be a positive integer, got ${B}`);
  if (!Number.isInteger(k1) || k1 < 1 || !Number.isInteger(k2) || k2 < 1) throw new ShapeError(`fitStream: k1 and k2 must be integers ≥ 1, got k1 = ${k1}, k2 = ${k2}`);
  const epochs = o.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 1) throw new ShapeError(`fitStream: epochs must be a positive integer, got ${epochs}`);
  const rowLen = Math.floor((tokens.length - 1) / B);
  if (rowLen < 1) throw new ShapeError(`fitStream: ${tokens.length} tokens are too few for ${B} rows`);
  const stores = model.parameters();
  const chunks = Math.ceil(rowLen / k1);
  const losses: number[] = [];
  const wasStateful = model.stateful;
  model.stateful = true;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      model.resetState();
      model.train();
      let sum = 0, count = 0;
      // `state` is the carried state at position `pos` of every row.
      let pos = 0, state = model.saveState();
      for (let c = 0; c < chunks; c++) {
        // New steps [c·k1, end); the window [start, end) reaches k2 steps back from its end.
        const end = Math.min((c + 1) * k1, rowLen), start = Math.max(0, end - k2);
        const scored = Math.max(start, c * k1), T = end - start;
        // Bring the state to the window's start (k2 < k1: the steps before the window).
        model.restoreState(state);
        if (start > pos) model.forward(slice(tokens, B, rowLen, pos, start - pos, 0), { training: true });
        const atStart = model.saveState();
        model.zeroGrad();
        const out = model.forward(slice(tokens, B, rowLen, start, T, 0), { training: true });
        // Score the steps [scored, end): the chunk's new steps (k2 < k1: the last k2 of them).
        const skip = scored - start, n = end - scored, V = out.shape[out.shape.length - 1];
        const scoredOut = skip ? new Tensor(out.data.subarray(skip * B * V), [n, B, V]) : out;
        const loss = o.loss.forward(scoredOut, slice(tokens, B, rowLen, scored, n, 1));
        if (!Number.isFinite(loss)) throw new NumericError(`fitStream: loss is ${loss} at epoch ${epoch}, chunk ${c + 1}; stopped before updating`);
        const g = o.loss.backward();
        let dOut = g;
        if (skip) { dOut = Tensor.zeros(out.shape); dOut.data.set(g.data, skip * B * V); }
        model.backward(dOut, { inputGrad: false }); // the tokens are data
        const norm = clipGradNorm(stores, o.clipNorm ?? Infinity);
        if (!Number.isFinite(norm)) throw new NumericError(`fitStream: gradient norm is ${norm} at epoch ${epoch}, chunk ${c + 1}; stopped before updating`);
        o.optimizer.step();
        sum += loss * n; count += n;
        o.onChunk?.({ epoch, chunk: c + 1, chunks, loss, gradNorm: norm });
        // The next window starts at end + k1 − k2: carry the state there (without gradient).
        const next = Math.max(0, Math.min(end + k1, rowLen) - k2);
        if (next >= end) { state = model.saveState(); pos = end; }
        else {
          model.restoreState(atStart);
          if (next > start) model.forward(slice(tokens, B, rowLen, start, next - start, 0), { training: true });
          state = model.saveState(); pos = Math.max(next, start);
        }
      }
      losses.push(sum / count);
    }
  } finally {
    model.resetState();
    model.stateful = wasStateful;
  }
  return losses;
}

/** Time-major (T, B) ids: row b is tokens[b·rowLen + offset + start + t]. */
function slice(tokens: ArrayLike<number>, B: number, rowLen: number, start: number, T: number, offset: number): Tensor {
  const d = new Float32Array(T * B);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) d[t * B + b] = tokens[b * rowLen + start + t + offset];
  return new Tensor(d, [T, B]);
}
