// Initialisers, seeded and deterministic, applied to named parameters in place.
//   uniform / default: PyTorch's U(-1/√fan, 1/√fan) for recurrent layers (fan = hidden size).
//   xavierUniform: U(±gain·√(6 / (fanIn + fanOut))) (Glorot & Bengio 2010).
//   orthogonal: a random orthogonal matrix from the QR decomposition of a Gaussian one, with
//     R's diagonal signs folded in so the distribution is uniform (Saxe et al. 2014; as
//     torch.nn.init.orthogonal_). For gate-stacked recurrent weights (G = k·H rows) each H-row
//     gate block is made orthogonal on its own, the usual choice for RNNs.
//   identity: W_hh = gain·I for an IRNN (Le, Jaitly & Hinton 2015).
//   forgetBias: LSTM forget-gate bias (Gers et al. 2000; Jozefowicz et al. 2015 use 1).
import { ShapeError } from '../errors.js';
import { Rng } from '../random.js';
import type { ParameterStore } from './params.js';

/** Anything that owns a parameter store: a layer (`params`) or the store itself. */
export type HasParams = ParameterStore | { params: ParameterStore };

function store(m: HasParams): ParameterStore {
  return 'params' in m ? m.params : m;
}

/** Names matching a pattern (string = exact name, RegExp = any match). */
function names(m: HasParams, which: string | RegExp): string[] {
  const all = store(m).slices.map((s) => s.name);
  const hit = typeof which === 'string' ? all.filter((n) => n === which) : all.filter((n) => which.test(n));
  if (!hit.length) throw new ShapeError(`no parameter matches ${String(which)} (have: ${all.join(', ')})`);
  return hit;
}

function shape2(m: HasParams, name: string): [number, number] {
  const sh = store(m).slice(name).shape;
  if (sh.length !== 2) throw new ShapeError(`parameter '${name}' is not a matrix (shape [${sh.join(', ')}])`);
  return [sh[0], sh[1]];
}

export function constant(m: HasParams, which: string | RegExp, value: number): void {
  for (const n of names(m, which)) store(m).set(n, new Float32Array(store(m).slice(n).size).fill(value));
}

export function uniform(m: HasParams, which: string | RegExp, lo: number, hi: number, seed: number): void {
  const rng = new Rng(seed);
  for (const n of names(m, which)) {
    const d = new Float32Array(store(m).slice(n).size);
    for (let i = 0; i < d.length; i++) d[i] = rng.uniform(lo, hi);
    store(m).set(n, d);
  }
}

export function xavierUniform(m: HasParams, which: string | RegExp, opts: { gain?: number; seed: number }): void {
  const rng = new Rng(opts.seed);
  for (const n of names(m, which)) {
    const [rows, cols] = shape2(m, n);
    const a = (opts.gain ?? 1) * Math.sqrt(6 / (rows + cols));
    const d = new Float32Array(rows * cols);
    for (let i = 0; i < d.length; i++) d[i] = rng.uniform(-a, a);
    store(m).set(n, d);
  }
}

/** A (rows × cols) matrix with orthonormal rows or columns (whichever are fewer). */
export function orthogonalMatrix(rows: number, cols: number, rng: Rng, gain = 1): Float64Array {
  const tall = rows >= cols;
  const n = tall ? rows : cols, k = tall ? cols : rows; // QR of an n × k Gaussian matrix
  const q = Array.from({ length: k }, () => Float64Array.from({ length: n }, () => rng.normal()));
  for (let j = 0; j < k; j++) { // modified Gram–Schmidt, twice for stability
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        let dot = 0;
        for (let r = 0; r < n; r++) dot += q[i][r] * q[j][r];
        for (let r = 0; r < n; r++) q[j][r] -= dot * q[i][r];
      }
    }
    let norm = 0;
    for (let r = 0; r < n; r++) norm += q[j][r] * q[j][r];
    norm = Math.sqrt(norm);
    for (let r = 0; r < n; r++) q[j][r] /= norm;
  }
  // Gram–Schmidt keeps R's diagonal positive, which is the sign convention that makes Q uniform.
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (tall ? q[c][r] : q[r][c]);
  return out;
}

/**
 * Orthogonal initialisation. `blocks` splits the rows into equal gate blocks (e.g. 4 for an
 * LSTM's weight_hh, 3 for a GRU's): each block is made orthogonal on its own.
 */
export function orthogonal(m: HasParams, which: string | RegExp, opts: { gain?: number; blocks?: number; seed: number }): void {
  const rng = new Rng(opts.seed);
  for (const n of names(m, which)) {
    const [rows, cols] = shape2(m, n);
    const k = opts.blocks ?? 1;
    if (rows % k) throw new ShapeError(`parameter '${n}' has ${rows} rows, not divisible into ${k} blocks`);
    const d = new Float32Array(rows * cols);
    for (let b = 0; b < k; b++) d.set(orthogonalMatrix(rows / k, cols, rng, opts.gain), b * (rows / k) * cols);
    store(m).set(n, d);
  }
}

/** W = gain·I per gate block (square blocks only), e.g. an IRNN's weight_hh (Le et al. 2015). */
export function identity(m: HasParams, which: string | RegExp, gain = 1): void {
  for (const n of names(m, which)) {
    const [rows, cols] = shape2(m, n);
    if (rows % cols) throw new ShapeError(`parameter '${n}' [${rows}, ${cols}] is not made of square blocks`);
    const d = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) d[r * cols + (r % cols)] = gain;
    store(m).set(n, d);
  }
}

/**
 * LSTM forget-gate bias: bias_ih's forget slice (rows H…2H, gate order i, f, g, o) = value and
 * bias_hh's = 0, so the total forget bias is `value` in every layer and direction.
 */
export function forgetBias(m: HasParams, value = 1): void {
  const s = store(m);
  const ih = s.slices.filter((x) => x.name.startsWith('bias_ih_l'));
  if (!ih.length) throw new ShapeError('forgetBias: the model has no bias_ih parameters (bias: false?)');
  for (const b of ih) {
    // An LSTM's bias has 4H rows and its weight_hh (4H, R) with R = H, or P < H with a projection.
    const H = b.size / 4, whh = s.slices.find((x) => x.name === b.name.replace('bias_ih', 'weight_hh'));
    if (!Number.isInteger(H) || !whh || whh.shape[0] !== 4 * H || whh.shape[1] > H || !s.has(`weight_ih${b.name.slice('bias_ih'.length)}`)) {
      throw new ShapeError(`forgetBias: '${b.name}' is not the bias of an LSTM layer (size ${b.size}, weight_hh [${whh?.shape.join(', ') ?? 'missing'}])`);
    }
    const d = s.get(b.name).data;
    d.fill(value, H, 2 * H);
    s.set(b.name, d);
    const hh = b.name.replace('bias_ih', 'bias_hh');
    const e = s.get(hh).data;
    e.fill(0, H, 2 * H);
    s.set(hh, e);
  }
}
