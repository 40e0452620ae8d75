// Truncated BPTT on a long token stream (Williams & Peng 1990; the char-rnn / PyTorch word
// language model recipe): the stream is cut into B parallel rows, the model runs over chunks of
// k1 steps carrying its recurrent state from chunk to chunk (values only, so no gradient
// crosses a chunk boundary), and updates after each chunk. With k2 < k1 the first k1 − k2
// steps of a chunk only advance the state; loss and gradient come from the last k2 steps, so
// backpropagation reaches at most k2 steps back.
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
  /** Steps backpropagated (≤ k1; default k1). */
  k2?: number;
  epochs?: number;
  clipNorm?: number;
  onChunk?(r: { epoch: number; chunk: number; chunks: number; loss: number; gradNorm: number }): void;
}

/** Train a next-token model on `tokens`; returns the mean loss of each epoch (nats per token). */
export function fitStream(model: Sequential, tokens: ArrayLike<number>, o: StreamOptions): number[] {
  const B = o.batchSize, k1 = o.k1, k2 = o.k2 ?? o.k1;
  if (!Number.isInteger(B) || B < 1) throw new ShapeError(`fitStream: batchSize must be a positive integer, got ${B}`);
  if (!Number.isInteger(k1) || k1 < 1 || !Number.isInteger(k2) || k2 < 1 || k2 > k1) throw new ShapeError(`fitStream: need integers 1 ≤ k2 ≤ k1, got k1 = ${k1}, k2 = ${k2}`);
  const rowLen = Math.floor((tokens.length - 1) / B);
  if (rowLen < 1) throw new ShapeError(`fitStream: ${tokens.length} tokens are too few for ${B} rows`);
  const stores = model.parameters();
  const chunks = Math.ceil(rowLen / k1);
  const losses: number[] = [];
  const wasStateful = model.stateful;
  model.stateful = true;
  try {
    for (let epoch = 1; epoch <= (o.epochs ?? 1); epoch++) {
      model.resetState();
      model.train();
      let sum = 0, count = 0;
      for (let c = 0; c < chunks; c++) {
        const start = c * k1, T = Math.min(k1, rowLen - start), warm = Math.max(0, T - k2);
        if (warm > 0) model.forward(slice(tokens, B, rowLen, start, warm, 0), { training: true });
        const n = T - warm;
        model.zeroGrad();
        const out = model.forward(slice(tokens, B, rowLen, start + warm, n, 0), { training: true });
        const loss = o.loss.forward(out, slice(tokens, B, rowLen, start + warm, n, 1));
        if (!Number.isFinite(loss)) throw new NumericError(`fitStream: loss is ${loss} at epoch ${epoch}, chunk ${c + 1}; stopped before updating`);
        model.backward(o.loss.backward());
        const norm = clipGradNorm(stores, o.clipNorm ?? Infinity);
        if (!Number.isFinite(norm)) throw new NumericError(`fitStream: gradient norm is ${norm} at epoch ${epoch}, chunk ${c + 1}; stopped before updating`);
        o.optimizer.step();
        sum += loss * n; count += n;
        o.onChunk?.({ epoch, chunk: c + 1, chunks, loss, gradNorm: norm });
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
