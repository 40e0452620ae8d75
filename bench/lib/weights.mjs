// One set of weights and inputs per workload, generated once from a seed in PyTorch's layout and
// names, and converted from there into each peer's layout. Every implementation therefore runs
// the same numbers, and the outputs can be compared.
//
// PyTorch (and wasm-rnn):  weight_ih_l0 (G·H, I), weight_hh_l0 (G·H, H), bias_ih_l0 (G·H),
//                          bias_hh_l0 (G·H); gate blocks LSTM i, f, g, o; GRU r, z, n.
//                          Linear: weight (C, H), bias (C).
// ONNX:                    LSTM gates i, o, f, c; GRU z, r, h; B = [Wb | Rb] (bench/lib/onnx.mjs).
// TF.js layers:            kernel (I, G·H) and recurrentKernel (H, G·H), i.e. transposed, one
//                          bias (G·H) = b_ih + b_hh; LSTM gates i, f, c, o (PyTorch's order);
//                          GRU gates z, r, h (and no reset-after variant, see tfjs adapter).
//                          Dense: kernel (H, C) = weightᵀ.
import { mulberry32, uniformArray } from './common.mjs';

export const GATES = { LSTM: 4, GRU: 3 };

/**
 * Weights and data of a workload: PyTorch's default initialisation U(−1/√H, 1/√H) for the
 * recurrent layer (U(−1/√H, 1/√H) for the Linear head, H its input size), inputs uniform in
 * [−1, 1), time-major (T, B, I); class targets uniform in 0…C−1, time-major (T, B).
 */
export function makeShared(w, seed) {
  const { kind, I, H, T, B } = w;
  const G = GATES[kind] * H;
  const rand = mulberry32(seed);
  const k = 1 / Math.sqrt(H);
  const params = {
    weight_ih_l0: uniformArray(G * I, rand, -k, k),
    weight_hh_l0: uniformArray(G * H, rand, -k, k),
    bias_ih_l0: uniformArray(G, rand, -k, k),
    bias_hh_l0: uniformArray(G, rand, -k, k),
  };
  const shapes = { weight_ih_l0: [G, I], weight_hh_l0: [G, H], bias_ih_l0: [G], bias_hh_l0: [G] };
  const x = uniformArray(T * B * I, rand);
  const shared = { params, shapes, x };
  if (w.task === 'train') {
    const C = w.C;
    shared.linear = { weight: uniformArray(C * H, rand, -k, k), bias: uniformArray(C, rand, -k, k) };
    shared.linearShapes = { weight: [C, H], bias: [C] };
    shared.targets = Int32Array.from({ length: T * B }, () => Math.floor(rand() * C) % C);
  }
  return shared;
}

/** Gate blocks of `src` (each `blockLen` floats) rearranged: out block j = src block order[j]. */
export function reorderGates(src, gates, order) {
  const blockLen = src.length / gates;
  const out = new Float32Array(src.length);
  order.forEach((from, to) => out.set(src.subarray(from * blockLen, (from + 1) * blockLen), to * blockLen));
  return out;
}

/** (rows, cols) row-major → (cols, rows) row-major. */
export function transpose(src, rows, cols) {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** (B, T, F) batch-major ↔ (T, B, F) time-major (the same swap both ways). */
export function swapTB(src, first, second, F) {
  const out = new Float32Array(src.length);
  for (let a = 0; a < first; a++) {
    for (let b = 0; b < second; b++) out.set(src.subarray((a * second + b) * F, (a * second + b + 1) * F), (b * first + a) * F);
  }
  return out;
}

const add = (a, b) => Float32Array.from(a, (v, i) => v + b[i]);

// PyTorch → ONNX gate orders: LSTM i,f,g,o → i,o,f,c; GRU r,z,n → z,r,h.
const ONNX_ORDER = { LSTM: [0, 3, 1, 2], GRU: [1, 0, 2] };

/** W (1, G·H, I), R (1, G·H, H), B (1, 2·G·H) for the ONNX LSTM / GRU node. */
export function onnxWeights(kind, p) {
  const g = GATES[kind], order = ONNX_ORDER[kind];
  const W = reorderGates(p.weight_ih_l0, g, order);
  const R = reorderGates(p.weight_hh_l0, g, order);
  const B = new Float32Array(2 * p.bias_ih_l0.length);
  B.set(reorderGates(p.bias_ih_l0, g, order), 0);
  B.set(reorderGates(p.bias_hh_l0, g, order), p.bias_ih_l0.length);
  return { W, R, B };
}

// PyTorch → TF.js gate orders: LSTM i,f,g,o → i,f,c,o (unchanged); GRU r,z,n → z,r,h.
const TFJS_ORDER = { LSTM: [0, 1, 2, 3], GRU: [1, 0, 2] };

/**
 * [kernel (I, G·H), recurrentKernel (H, G·H), bias (G·H)] for tf.layers.lstm / gru.setWeights.
 * The single bias is b_ih + b_hh. For the GRU that is exact for the z and r gates; for the
 * candidate TF.js computes tanh(W_h x + b_h + U_h (r ⊙ h)) (Keras reset_after = false), a
 * different function from PyTorch's tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) whatever the bias.
 */
export function tfjsWeights(kind, p, I, H) {
  const g = GATES[kind], order = TFJS_ORDER[kind];
  const kernel = transpose(reorderGates(p.weight_ih_l0, g, order), g * H, I);
  const recurrent = transpose(reorderGates(p.weight_hh_l0, g, order), g * H, H);
  const bias = reorderGates(add(p.bias_ih_l0, p.bias_hh_l0), g, order);
  return { kernel, recurrent, bias };
}

/** TF.js gradients (kernel, recurrentKernel, bias; dense kernel, bias) back in PyTorch names. */
export function tfjsGradsToTorch(kind, grads, I, H, C) {
  const g = GATES[kind], inverse = [];
  TFJS_ORDER[kind].forEach((from, to) => { inverse[from] = to; });
  const back = (a, rows, cols) => reorderGates(transpose(a, rows, cols), g, inverse);
  const dBias = reorderGates(grads.bias, g, inverse);
  return {
    weight_ih_l0: back(grads.kernel, I, g * H),
    weight_hh_l0: back(grads.recurrent, H, g * H),
    bias_ih_l0: dBias, // one TF.js bias stands for b_ih + b_hh: both get its gradient
    bias_hh_l0: dBias,
    'linear.weight': transpose(grads.denseKernel, H, C),
    'linear.bias': grads.denseBias,
  };
}
