// SIMD kernels against their scalar twins, in the style of XNNPACK's size-class tests.
//
// Every dimension that has a SIMD tail (M, N, K of the GEMMs, B and H of the gate kernels, n of
// the vector kernels) runs over SIZES, with dense and with padded row strides. One case places
// each buffer separately in WASM memory as
//     [PRE guard floats][rows × ld floats, the last ld - cols of each row padding][POST guard floats]
// runs the SIMD kernel on one copy and its `_ref` twin (assembly/ref, f64 reductions and exact
// nonlinearities) on an identical copy, then requires
//   - every element of an output buffer within the kernel's tolerance of the twin's, and
//   - every other float (guards, row padding, all of every input-only buffer) bit-for-bit
//     unchanged, in both runs.
// Guards and padding of input-only buffers hold NaN, so reading one poisons an output; those of
// outputs hold SENTINEL. Pure outputs start as NaN, so an element the kernel reads before writing
// (or never writes) shows up too.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../src/index.js';
import { KERNEL_NAMES, type Kernels, type RefKernels } from '../src/engine/kernels.js';
import { engine, randomArray } from './helpers/engine.js';

const SIZES = [1, 3, 4, 5, 8, 13, 37];
const BATCHES = [1, 3, 5];
const PRE = 4;          // guard floats before every buffer (keeps the data 16-byte aligned)
const POST = 8;         // guard floats after every buffer
const SENTINEL = 12345;

// Accuracy bounds stated in assembly/kernels/math.ts, against float64 tanh / logistic.
const TANH_BOUND = 4.2e-7;
const SIGMOID_BOUND = 3e-7;
// The twins round the exact value to f32: at most half an ulp of a number below 1 more.
const HALF_ULP = 2 ** -25;
// Fused gate kernels: rational tanh (SIMD) vs exact f64 (twin), through a few products.
const GATE_TOL = 2e-6;
// f32 dot products / column sums of K (or M) terms in [-1, 1] vs the twin's f64 sum.
const sumTol = (terms: number) => 1e-5 * terms + 1e-6;

let e: Engine;
let k: Kernels;
let ref: Required<RefKernels>;
let bytesAtStart = 0;
const worst = new Map<string, number>(); // kernel → largest |SIMD - twin| seen on any output

// The module exports no `_ref` twins for these three; plain JS over the same memory stands in
// (an exported twin, if one appears, takes precedence).
const jsTwins = {
  f32_add_bias(M: number, N: number, b: number, C: number, ldc: number): void {
    const f = e.f32, pb = b >>> 2, pc = C >>> 2;
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) f[pc + i * ldc + j] += f[pb + j];
  },
  f32_copy_rows(M: number, N: number, X: number, ldx: number, Y: number, ldy: number): void {
    const f = e.f32, px = X >>> 2, py = Y >>> 2;
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) f[py + i * ldy + j] = f[px + i * ldx + j];
  },
  f32_fill(n: number, p: number, v: number): void {
    e.f32.fill(v, p >>> 2, (p >>> 2) + n);
  },
  // Packing is a layout change, not arithmetic: its twin is the layout written out in JS.
  f32_packed_size: (N: number, K: number): number => Math.ceil(N / 16) * K * 16,
  f32_pack_w(N: number, K: number, W: number, ldw: number, Wp: number): void {
    e.f32.set(packW(N, K, ldw, e.f32.subarray(W >>> 2)), Wp >>> 2);
  },
  f32_pack_wt(N: number, K: number, S: number, lds: number, Wp: number): void {
    const s = e.f32.subarray(S >>> 2), t = new Float32Array(N * K); // Sᵀ, dense
    for (let kk = 0; kk < K; kk++) for (let n = 0; n < N; n++) t[n * K + kk] = s[kk * lds + n];
    e.f32.set(packW(N, K, K, t), Wp >>> 2);
  },
};

/** W (N×K, row stride ldw) as panels of 16 columns of Wᵀ: Wp[p][k][c] = W[16p + c][k], zero past N. */
function packW(N: number, K: number, ldw: number, w: ArrayLike<number>): Float32Array {
  const out = new Float32Array(Math.ceil(N / 16) * K * 16);
  for (let n = 0; n < N; n++) for (let kk = 0; kk < K; kk++) out[((n >> 4) * K + kk) * 16 + (n & 15)] = w[n * ldw + kk];
  return out;
}

beforeAll(async () => {
  e = await engine();
  k = e.kernels;
  const exported = e.kernels as unknown as Record<string, unknown>;
  const twins: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const name of KERNEL_NAMES) {
    if (!name.startsWith('f32_')) continue;
    const twin = exported[`${name}_ref`] ?? (jsTwins as Record<string, unknown>)[name];
    if (typeof twin === 'function') twins[`${name}_ref`] = twin;
    else missing.push(name);
  }
  expect(missing, 'SIMD kernels without a scalar twin').toEqual([]);
  ref = twins as Required<RefKernels>;
  bytesAtStart = e.heap.bytesInUse;
});

afterAll(() => {
  const rows = [...worst].map(([name, err]) => `  ${name.padEnd(24)} ${err.toExponential(2)}`);
  console.log(`max |SIMD - twin| per kernel:\n${rows.join('\n')}`);
});

// ---------------------------------------------------------------------------------------------
// Buffers and the "run both and compare" helper.

/** A rows×cols matrix stored with row stride ld (f32 elements); `data` is dense row-major. */
interface Buf { rows: number; cols: number; ld: number; data: Float32Array; out: boolean }

/** `init` is the logical contents, or one number for all of them (NaN for pure outputs). */
function mat(rows: number, cols: number, ld: number, init: Float32Array | number, out = false): Buf {
  if (ld < cols) throw new Error(`ld ${ld} < cols ${cols}`);
  const data = typeof init === 'number' ? new Float32Array(rows * cols).fill(init) : init;
  if (data.length !== rows * cols) throw new Error(`data ${data.length} != ${rows}×${cols}`);
  return { rows, cols, ld, data, out };
}
const vec = (init: Float32Array | number, n: number, out = false) => mat(1, n, n, init, out);
const outMat = (rows: number, cols: number, ld: number, init: Float32Array | number = NaN) => mat(rows, cols, ld, init, true);

/** The memory image of a buffer: guards, rows with their padding, guards. */
function image(b: Buf): Float32Array {
  const img = new Float32Array(PRE + b.rows * b.ld + POST).fill(b.out ? SENTINEL : NaN);
  for (let r = 0; r < b.rows; r++) img.set(b.data.subarray(r * b.cols, (r + 1) * b.cols), PRE + r * b.ld);
  return img;
}

/** Where image index i lies, for messages; null for an element of the matrix. */
function padding(b: Buf, i: number): string | null {
  const o = i - PRE;
  if (o < 0) return `guard[${o}]`;
  if (o >= b.rows * b.ld) return `guard[+${o - b.rows * b.ld}]`;
  const r = Math.floor(o / b.ld), c = o - r * b.ld;
  return c < b.cols ? null : `padding (row ${r}, col ${c})`;
}

/** Deterministic data per case and buffer (FNV-1a of the key seeds the helper's LCG). */
function rand(key: string, n: number, lo = -1, hi = 1): Float32Array {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return randomArray(n, h >>> 0, lo, hi);
}

/** Overwrite every `every`-th element (from `from`) with the next of `values`, cyclically. */
function sprinkle(a: Float32Array, values: number[], every = 5, from = 2): Float32Array {
  for (let i = from, v = 0; i < a.length; i += every, v++) a[i] = values[v % values.length];
  return a;
}

type Ptrs = Record<string, number>;

/**
 * Run `simd` and `twin` on identical copies of `bufs` and compare (see the top of the file).
 * `tol` bounds |SIMD - twin| on outputs, one number or per buffer. Returns the largest difference.
 */
function check(kernel: string, label: string, bufs: Record<string, Buf>,
               simd: (p: Ptrs) => void, twin: (p: Ptrs) => void,
               tol: number | Record<string, number>): number {
  const names = Object.keys(bufs);
  const images = names.map((n) => image(bufs[n]));
  const blocks: number[] = [];
  const run = (fn: (p: Ptrs) => void): Float32Array[] => {
    const p: Ptrs = {};
    const bases = names.map((n, i) => {
      const base = e.alloc(images[i].length);
      blocks.push(base);
      e.write(base, images[i]);
      p[n] = base + PRE * 4;
      return base;
    });
    fn(p);
    return bases.map((base, i) => e.read(base, images[i].length));
  };
  const problems: string[] = [];
  let maxErr = 0;
  try {
    const got = run(simd), want = run(twin);
    names.forEach((name, bi) => {
      const b = bufs[name], init = images[bi], s = got[bi], t = want[bi];
      const bound = typeof tol === 'number' ? tol : tol[name] ?? 0;
      for (let i = 0; i < init.length; i++) {
        const where = padding(b, i);
        if (!b.out || where !== null) {
          const what = where ?? `[${Math.floor((i - PRE) / b.ld)}, ${(i - PRE) % b.ld}] (input)`;
          if (!Object.is(s[i], init[i])) problems.push(`${name} ${what}: SIMD wrote ${s[i]} over ${init[i]}`);
          if (!Object.is(t[i], init[i])) problems.push(`${name} ${what}: twin wrote ${t[i]} over ${init[i]}`);
          continue;
        }
        if (Number.isNaN(s[i]) && Number.isNaN(t[i])) continue;
        const d = Math.abs(s[i] - t[i]);
        if (d > maxErr || Number.isNaN(d)) maxErr = Number.isNaN(d) ? Infinity : d;
        if (!(d <= bound)) {
          const r = Math.floor((i - PRE) / b.ld), c = (i - PRE) - r * b.ld;
          problems.push(`${name}[${r}, ${c}]: SIMD ${s[i]} vs twin ${t[i]} (|diff| ${d.toExponential(2)} > ${bound})`);
        }
      }
    });
  } finally {
    for (const base of blocks) e.release(base);
  }
  worst.set(kernel, Math.max(worst.get(kernel) ?? 0, maxErr));
  expect(problems.slice(0, 8), `${kernel} ${label}: ${problems.length} problem(s)`).toEqual([]);
  return maxErr;
}

// ---------------------------------------------------------------------------------------------
// GEMMs: all 7³ (M, N, K), each with acc = 0 / 1 and every layout below.

/** Row-stride paddings (added to the row length) of A, B, C; `aT`: A given transposed (gemm_nn). */
interface Layout { name: string; pa: number; pb: number; pc: number; aT?: boolean }
const NT_LAYOUTS: Layout[] = [
  { name: 'dense', pa: 0, pb: 0, pc: 0 },
  { name: 'padded', pa: 3, pb: 5, pc: 2 },
];
const NN_LAYOUTS: Layout[] = [
  ...NT_LAYOUTS,
  { name: 'A^T dense', pa: 0, pb: 0, pc: 0, aT: true },
  { name: 'A^T padded', pa: 3, pb: 1, pc: 6, aT: true },
];

function gemmNt(M: number, N: number, K: number, lay: Layout, acc: number): void {
  const lda = K + lay.pa, ldb = K + lay.pb, ldc = N + lay.pc;
  const id = `M=${M} N=${N} K=${K} ${lay.name} acc=${acc}`;
  check('f32_gemm_nt', id, {
    A: mat(M, K, lda, rand(`nt A ${id}`, M * K)),
    B: mat(N, K, ldb, rand(`nt B ${id}`, N * K)),
    C: outMat(M, N, ldc, acc ? rand(`nt C ${id}`, M * N) : NaN),
  },
  (p) => k.f32_gemm_nt(M, N, K, p.A, lda, p.B, ldb, p.C, ldc, acc),
  (p) => ref.f32_gemm_nt_ref(M, N, K, p.A, lda, p.B, ldb, p.C, ldc, acc),
  sumTol(K));
}

function gemmNn(M: number, N: number, K: number, lay: Layout, acc: number): void {
  // op(A)[i, k] = A[i·ars + k·acs]: A itself (M×K, ars = lda, acs = 1) or Aᵀ stored K×M (ars = 1, acs = lda).
  const lda = (lay.aT ? M : K) + lay.pa, ldb = N + lay.pb, ldc = N + lay.pc;
  const [ars, acs] = lay.aT ? [1, lda] : [lda, 1];
  const id = `M=${M} N=${N} K=${K} ${lay.name} acc=${acc}`;
  const a = rand(`nn A ${id}`, M * K);
  check('f32_gemm_nn', id, {
    A: lay.aT ? mat(K, M, lda, a) : mat(M, K, lda, a),
    B: mat(K, N, ldb, rand(`nn B ${id}`, K * N)),
    C: outMat(M, N, ldc, acc ? rand(`nn C ${id}`, M * N) : NaN),
  },
  (p) => k.f32_gemm_nn(M, N, K, p.A, ars, acs, p.B, ldb, p.C, ldc, acc),
  (p) => ref.f32_gemm_nn_ref(M, N, K, p.A, ars, acs, p.B, ldb, p.C, ldc, acc),
  sumTol(K));
}

function gemmPk(M: number, N: number, K: number, lay: Layout, acc: number): void {
  const lda = K + lay.pa, ldw = K + lay.pb, ldc = N + lay.pc;
  const id = `M=${M} N=${N} K=${K} ${lay.name} acc=${acc}`;
  const w = rand(`pk W ${id}`, N * K), size = Math.ceil(N / 16) * K * 16;
  expect(k.f32_packed_size(N, K)).toBe(size);
  // The packing itself, against the layout written out in JS.
  check('f32_pack_w', id, { W: mat(N, K, ldw, w), Wp: outMat(1, size, size) },
    (p) => k.f32_pack_w(N, K, p.W, ldw, p.Wp), (p) => ref.f32_pack_w_ref(N, K, p.W, ldw, p.Wp), 0);
  // The transposed packing: the same panels, read from S = Wᵀ (K×N, row stride K + pad).
  const lds = N + lay.pb, wt = new Float32Array(K * N);
  for (let n = 0; n < N; n++) for (let kk = 0; kk < K; kk++) wt[kk * N + n] = w[n * K + kk];
  check('f32_pack_wt', id, { S: mat(K, N, lds, wt), Wp: outMat(1, size, size) },
    (p) => k.f32_pack_wt(N, K, p.S, lds, p.Wp), (p) => ref.f32_pack_wt_ref(N, K, p.S, lds, p.Wp), 0);
  const wPadded = new Float32Array(N * ldw);
  for (let n = 0; n < N; n++) wPadded.set(w.subarray(n * K, (n + 1) * K), n * ldw);
  check('f32_gemm_pk', id, {
    A: mat(M, K, lda, rand(`pk A ${id}`, M * K)),
    Wp: vec(packW(N, K, ldw, wPadded), size),
    C: outMat(M, N, ldc, acc ? rand(`pk C ${id}`, M * N) : NaN),
  },
  (p) => k.f32_gemm_pk(M, N, K, p.A, lda, p.Wp, p.C, ldc, acc),
  (p) => ref.f32_gemm_pk_ref(M, N, K, p.A, lda, p.Wp, p.C, ldc, acc),
  sumTol(K));
  // With the biases added as it stores (Linear's forward, the cells' projections): ((A·Wᵀ (+ C)) + b1) + b2.
  check('gemm_pk_bias', id, {
    A: mat(M, K, lda, rand(`pkb A ${id}`, M * K)),
    Wp: vec(packW(N, K, ldw, wPadded), size),
    b1: vec(rand(`pkb b1 ${id}`, N), N),
    b2: vec(rand(`pkb b2 ${id}`, N), N),
    C: outMat(M, N, ldc, acc ? rand(`pkb C ${id}`, M * N) : NaN),
  },
  (p) => k.gemm_pk_bias(M, N, K, p.A, lda, p.Wp, p.C, ldc, acc, p.b1, p.b2),
  (p) => {
    ref.f32_gemm_pk_ref(M, N, K, p.A, lda, p.Wp, p.C, ldc, acc);
    ref.f32_add_bias_ref(M, N, p.b1, p.C, ldc);
    ref.f32_add_bias_ref(M, N, p.b2, p.C, ldc);
  },
  sumTol(K));
}

const GEMMS = [['f32_gemm_nt', gemmNt, NT_LAYOUTS], ['f32_gemm_nn', gemmNn, NN_LAYOUTS], ['f32_gemm_pk', gemmPk, NT_LAYOUTS]] as const;

for (const [name, run, layouts] of GEMMS) {
  describe(`${name} (tol 1e-5·K + 1e-6)`, () => {
    for (const M of SIZES) for (const N of SIZES) for (const K of SIZES) {
      it(`M=${M} N=${N} K=${K}`, () => {
        for (const lay of layouts) for (const acc of [0, 1]) run(M, N, K, lay, acc);
      });
    }
    if (name === 'f32_gemm_nn') {
      // K beyond one block of 128 reductions: the blocked path and its accumulate hand-over.
      it('K across block boundaries (127, 128, 129, 300)', () => {
        for (const K of [127, 128, 129, 300]) for (const [M, N] of [[5, 13], [37, 3]]) {
          for (const lay of layouts) for (const acc of [0, 1]) run(M, N, K, lay, acc);
        }
      });
    }
    if (name === 'f32_gemm_pk') {
      // More panels than one 16 KB block holds (256 / K of them): rows pass over each block in
      // turn, the last block partial and ending in a partial panel; odd M for the 1-row tile.
      it('panels across L1 blocks (K 37: 6 panels a block; K 129, 300: one)', () => {
        for (const [M, N, K] of [[5, 213, 37], [4, 101, 37], [3, 37, 129], [1, 53, 300], [7, 20, 300]]) {
          for (const lay of layouts) for (const acc of [0, 1]) run(M, N, K, lay, acc);
        }
      });
      // The k loops are unrolled by hand, four steps (2-row tile) or four pairs of k (one row) an
      // iteration with the exit test between them: K = 1 … 17 ends them after every copy.
      it('every K from 1 to 17 (the unrolled k loops leave after each of their copies)', () => {
        for (let K = 1; K <= 17; K++) for (const [M, N] of [[1, 16], [2, 19], [3, 33]]) {
          for (const lay of layouts) for (const acc of [0, 1]) run(M, N, K, lay, acc);
        }
      });
    }
    it('zero-sized M, N or K (K = 0: C = 0, or unchanged with acc)', () => {
      for (const [M, N, K] of [[0, 5, 5], [5, 0, 5], [5, 5, 0], [0, 0, 0]]) {
        for (const lay of layouts) for (const acc of [0, 1]) run(M, N, K, lay, acc);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Vector nonlinearities.

type Unary = 'f32_vtanh' | 'f32_vsigmoid' | 'f32_vrelu';
const UNARY: { name: Unary; tol: number }[] = [
  { name: 'f32_vtanh', tol: TANH_BOUND + HALF_ULP },
  { name: 'f32_vsigmoid', tol: SIGMOID_BOUND + HALF_ULP },
  { name: 'f32_vrelu', tol: 0 },
];
// Zeros of both signs, the tanh clamp (±7.905), saturation, and tiny values.
const UNARY_SPECIALS = [0, -0, 7.9, -7.9, 8, -8, 20, -20, 1e-8, -1e-8, 1e-40, -1e-40];

function unary(name: Unary, tol: number, n: number, inPlace: boolean): void {
  const id = `n=${n}${inPlace ? ' in place' : ''}`;
  const x = sprinkle(rand(`${name} ${id}`, n, -10, 10), UNARY_SPECIALS, 3, 1);
  const simd = k[name], twin = ref[`${name}_ref`];
  if (inPlace) {
    check(name, id, { x: vec(x, n, true) }, (p) => simd(n, p.x, p.x), (p) => twin(n, p.x, p.x), tol);
  } else {
    check(name, id, { x: vec(x, n), y: vec(NaN, n, true) }, (p) => simd(n, p.x, p.y), (p) => twin(n, p.x, p.y), tol);
  }
}

describe('vector nonlinearities vs twins', () => {
  for (const { name, tol } of UNARY) {
    describe(`${name} (tol ${tol.toExponential(2)})`, () => {
      for (const n of [...SIZES, 0]) {
        it(`n=${n}`, () => unary(name, tol, n, false));
        it(`n=${n} in place`, () => unary(name, tol, n, true));
      }
    });
  }
});

describe('vtanh / vsigmoid accuracy (float64 oracle)', () => {
  /** Run one vector kernel on all of x in WASM memory. */
  function apply(name: Unary, x: Float32Array): Float32Array {
    const px = e.alloc(x.length), py = e.alloc(x.length);
    try {
      e.write(px, x);
      k[name](x.length, px, py);
      return e.read(py, x.length);
    } finally {
      e.release(py);
      e.release(px);
    }
  }

  // An exhaustive sweep of every f32 with 2^-12 <= |x| < 64 (below, the error is < 1e-10; above,
  // the input is clamped) found the worst tanh error at x = ±5.827876091003418 (0x40ba7df6):
  // 4.10e-7, from the f32 evaluation of p/q (the rational itself is within 7e-9 there). It is
  // among SPECIALS so the stated 4.2e-7 bound is tested at its worst point.
  const GRID = 2_000_000;
  const SPECIALS = [0, -0, 1e-8, -1e-8, 7.9, -7.9, 7.90531110763549805, -7.90531110763549805, 8, -8,
    30, -30, 1e30, -1e30, Infinity, -Infinity, 1e-45, -1e-45, 0.5, -0.5, 1, -1, 15.8, -15.8, 16, -16,
    5.827876091003418, -5.827876091003418];
  let x: Float32Array;
  let tanh: Float32Array;
  let sigmoid: Float32Array;

  beforeAll(() => {
    x = new Float32Array(GRID + SPECIALS.length);
    for (let i = 0; i < GRID; i++) x[i] = -20 + (40 * i) / (GRID - 1);
    x.set(SPECIALS, GRID);
    tanh = apply('f32_vtanh', x);
    sigmoid = apply('f32_vsigmoid', x);
  });

  it(`max abs error over ${GRID} points in [-20, 20] and special points`, () => {
    let et = 0, xt = 0, es = 0, xs = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      const dt = Math.abs(tanh[i] - Math.tanh(v));
      const ds = Math.abs(sigmoid[i] - 1 / (1 + Math.exp(-v)));
      if (!(dt <= et)) { et = dt; xt = v; }
      if (!(ds <= es)) { es = ds; xs = v; }
    }
    console.log(`f32_vtanh    max abs error ${et.toExponential(3)} at x = ${xt} (bound ${TANH_BOUND})`);
    console.log(`f32_vsigmoid max abs error ${es.toExponential(3)} at x = ${xs} (bound ${SIGMOID_BOUND})`);
    expect(et).toBeLessThanOrEqual(TANH_BOUND);
    expect(es).toBeLessThanOrEqual(SIGMOID_BOUND);
  });

  it('outputs stay in [-1, 1] (tanh) and [0, 1] (sigmoid); exact at 0 and ±∞', () => {
    let badT = -1, badS = -1;
    for (let i = 0; i < x.length; i++) {
      if (badT < 0 && !(tanh[i] >= -1 && tanh[i] <= 1)) badT = i;
      if (badS < 0 && !(sigmoid[i] >= 0 && sigmoid[i] <= 1)) badS = i;
    }
    expect(badT < 0 ? null : `tanh(${x[badT]}) = ${tanh[badT]}`).toBeNull();
    expect(badS < 0 ? null : `sigmoid(${x[badS]}) = ${sigmoid[badS]}`).toBeNull();
    const at = (v: number) => GRID + SPECIALS.indexOf(v);
    expect([tanh[at(0)], tanh[at(Infinity)], tanh[at(-Infinity)]]).toEqual([0, 1, -1]);
    expect([sigmoid[at(0)], sigmoid[at(Infinity)], sigmoid[at(-Infinity)]]).toEqual([0.5, 1, 0]);
  });

  it('tanh is odd: tanh(-x) == -tanh(x) bit for bit', () => {
    const neg = apply('f32_vtanh', x.map((v) => -v));
    let bad = -1;
    for (let i = 0; i < x.length && bad < 0; i++) if (!Object.is(neg[i], -tanh[i])) bad = i;
    expect(bad < 0 ? null : `tanh(${-x[bad]}) = ${neg[bad]}, tanh(${x[bad]}) = ${tanh[bad]}`).toBeNull();
  });

  it('the scalar tail computes exactly what the SIMD lanes do', () => {
    // Every 997th grid point and the specials, each alone (n = 1: tail) vs in the bulk run above.
    const idx = [...Array(Math.ceil(GRID / 997)).keys()].map((i) => i * 997).concat(SPECIALS.map((_, j) => GRID + j));
    const px = e.alloc(4), py = e.alloc(4);
    const bad: string[] = [];
    try {
      for (const [name, bulk] of [['f32_vtanh', tanh], ['f32_vsigmoid', sigmoid]] as const) {
        for (const i of idx) {
          e.write(px, [x[i]]);
          k[name](1, px, py);
          const one = e.read(py, 1)[0];
          if (!Object.is(one, bulk[i])) bad.push(`${name}(${x[i]}): tail ${one}, lanes ${bulk[i]}`);
        }
      }
    } finally {
      e.release(py);
      e.release(px);
    }
    expect(bad.slice(0, 8), `${bad.length} mismatches`).toEqual([]);
  });

  it('NaN in → NaN out, in the SIMD body and in the tail (relu too, as torch.relu)', () => {
    for (const n of SIZES) {
      const v = sprinkle(rand(`nan ${n}`, n, -3, 3), [NaN], 3, 0);
      for (const name of ['f32_vtanh', 'f32_vsigmoid', 'f32_vrelu'] as const) {
        const y = apply(name, v);
        for (let i = 0; i < n; i++) {
          expect(Number.isNaN(y[i]), `${name} n=${n}: f(${v[i]}) = ${y[i]} at ${i}`).toBe(Number.isNaN(v[i]));
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Row-wise elementwise kernels (strided). Padded strides per M×N case: dense, then padded.

const PADS = [0, 3];

describe('elementwise vs twins', () => {
  describe('f32_add_rows (exact)', () => {
    for (const M of SIZES) for (const N of SIZES) {
      it(`M=${M} N=${N}`, () => {
        for (const pad of PADS) {
          const ldx = N + pad, ldy = N + 2 * pad, id = `M=${M} N=${N} pad=${pad}`;
          check('f32_add_rows', id, {
            X: mat(M, N, ldx, rand(`addr X ${id}`, M * N)),
            Y: outMat(M, N, ldy, rand(`addr Y ${id}`, M * N)),
          },
          (p) => k.f32_add_rows(M, N, p.X, ldx, p.Y, ldy),
          (p) => ref.f32_add_rows_ref(M, N, p.X, ldx, p.Y, ldy), 0);
        }
      });
    }
  });

  describe('f32_add_bias (exact)', () => {
    for (const M of SIZES) for (const N of SIZES) {
      it(`M=${M} N=${N}`, () => {
        for (const pad of PADS) {
          const ldc = N + pad, id = `M=${M} N=${N} pad=${pad}`;
          check('f32_add_bias', id, {
            b: vec(rand(`bias b ${id}`, N), N),
            C: outMat(M, N, ldc, rand(`bias C ${id}`, M * N)),
          },
          (p) => k.f32_add_bias(M, N, p.b, p.C, ldc),
          (p) => ref.f32_add_bias_ref(M, N, p.b, p.C, ldc), 0);
        }
      });
    }
  });

  describe('f32_colsum (tol 1e-5·M + 1e-6)', () => {
    for (const M of [...SIZES, 2, 6, 7, 9]) for (const N of SIZES) {
      it(`M=${M} N=${N}`, () => {
        for (const pad of PADS) {
          const lda = N + pad, id = `M=${M} N=${N} pad=${pad}`;
          check('f32_colsum', id, {
            A: mat(M, N, lda, rand(`colsum A ${id}`, M * N)),
            y: vec(rand(`colsum y ${id}`, N), N, true),
          },
          (p) => k.f32_colsum(M, N, p.A, lda, p.y),
          (p) => ref.f32_colsum_ref(M, N, p.A, lda, p.y), sumTol(M));
        }
      });
    }
  });

  describe('f32_copy_rows (exact)', () => {
    for (const M of SIZES) for (const N of SIZES) {
      it(`M=${M} N=${N}`, () => {
        for (const pad of PADS) {
          const ldx = N + 2 * pad, ldy = N + pad, id = `M=${M} N=${N} pad=${pad}`;
          check('f32_copy_rows', id, {
            X: mat(M, N, ldx, rand(`copy X ${id}`, M * N)),
            Y: outMat(M, N, ldy),
          },
          (p) => k.f32_copy_rows(M, N, p.X, ldx, p.Y, ldy),
          (p) => ref.f32_copy_rows_ref(M, N, p.X, ldx, p.Y, ldy), 0);
        }
      });
    }
  });

  describe('f32_vmul (exact; z separate, z = x, z = y)', () => {
    for (const n of [...SIZES, 0]) {
      it(`n=${n}`, () => {
        const x = rand(`vmul x ${n}`, n, -4, 4), y = rand(`vmul y ${n}`, n, -4, 4);
        check('f32_vmul', `n=${n}`, { x: vec(x, n), y: vec(y, n), z: vec(NaN, n, true) },
          (p) => k.f32_vmul(n, p.x, p.y, p.z), (p) => ref.f32_vmul_ref(n, p.x, p.y, p.z), 0);
        check('f32_vmul', `n=${n} z=x`, { x: vec(x, n, true), y: vec(y, n) },
          (p) => k.f32_vmul(n, p.x, p.y, p.x), (p) => ref.f32_vmul_ref(n, p.x, p.y, p.x), 0);
        check('f32_vmul', `n=${n} z=y`, { x: vec(x, n), y: vec(y, n, true) },
          (p) => k.f32_vmul(n, p.x, p.y, p.y), (p) => ref.f32_vmul_ref(n, p.x, p.y, p.y), 0);
      });
    }
  });

  describe('f32_fill (exact)', () => {
    for (const n of [...SIZES, 0]) {
      it(`n=${n}`, () => {
        for (const v of [0, -0, 1.5, -3.25e-7, NaN]) {
          check('f32_fill', `n=${n} v=${v}`, { p: vec(NaN, n, true) },
            (p) => k.f32_fill(n, p.p, v), (p) => ref.f32_fill_ref(n, p.p, v), 0);
        }
      });
    }
  });
});

describe('f32_nonfinite: the first NaN / ±Infinity, or -1 (exact, against its twin and JS)', () => {
  // Lengths around the SIMD tail and the 1024-value blocks; bad values at the start, inside,
  // at block edges and at the end; finite extremes (max, subnormal, -0) never count.
  const LENGTHS = [...SIZES, 0, 1023, 1024, 1025, 2048 + 37];
  const BAD = [NaN, Infinity, -Infinity];
  const finite = (n: number, key: string) =>
    sprinkle(rand(key, n, -2, 2), [3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -0, 0], 7, 1);
  const run = (data: Float32Array, label: string) => {
    const p = e.alloc(Math.max(data.length, 1)), q = p >>> 2;
    e.f32.set(data, q);
    const want = data.findIndex((v) => !Number.isFinite(v));
    expect(k.f32_nonfinite(data.length, p), label).toBe(want);
    expect(ref.f32_nonfinite_ref(data.length, p), `${label} (twin)`).toBe(want);
    expect([...e.f32.subarray(q, q + data.length)], `${label}: input unchanged`).toEqual([...data]);
    e.release(p);
  };
  for (const n of LENGTHS) {
    it(`n=${n}`, () => {
      run(finite(n, `nf ${n}`), `n=${n} all finite`);
      const at = [...new Set([0, 1, n >> 1, 1023, 1024, n - 4, n - 3, n - 1].filter((i) => i >= 0 && i < n))];
      for (const i of at) for (const v of BAD) {
        const d = finite(n, `nf ${n}`);
        d[i] = v;
        if (i + 5 < n) d[i + 5] = NaN; // a later one does not hide the first
        run(d, `n=${n} ${v} at ${i}`);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Fused gate kernels: B ∈ BATCHES × H ∈ SIZES, dense strides and padded ones (H + 3, H + 5, …).

const GATE_PADS = [0, 3];
// Pre-activation specials: zero, the tanh clamp, saturation of tanh(x) and of sigmoid(x) = tanh(x/2).
const PRE_SPECIALS = [0, 9, -9, 20, -20, 7.9, -16];

function lstmForward(B: number, H: number, pad: number): void {
  const ldcp = H + pad, ldh = H + 2 * pad, id = `B=${B} H=${H} pad=${pad}`;
  check('f32_lstm_step_forward', id, {
    gates: outMat(B, 4 * H, 4 * H, sprinkle(rand(`lstmf g ${id}`, B * 4 * H, -5, 5), PRE_SPECIALS)),
    cp: mat(B, H, ldcp, rand(`lstmf cp ${id}`, B * H, -2, 2)),
    c: outMat(B, H, H),
    h: outMat(B, H, ldh),
  },
  (p) => k.f32_lstm_step_forward(B, H, p.gates, p.cp, ldcp, p.c, p.h, ldh),
  (p) => ref.f32_lstm_step_forward_ref(B, H, p.gates, p.cp, ldcp, p.c, p.h, ldh), GATE_TOL);
}

function lstmBackward(B: number, H: number, pad: number): void {
  const ldcp = H + pad, ldd = H + 2 * pad, lddg = 4 * H + 3 * pad, id = `B=${B} H=${H} pad=${pad}`;
  check('f32_lstm_step_backward', id, {
    gates: mat(B, 4 * H, 4 * H, rand(`lstmb g ${id}`, B * 4 * H, -1, 1)),
    c: mat(B, H, H, sprinkle(rand(`lstmb c ${id}`, B * H, -3, 3), PRE_SPECIALS)),
    cp: mat(B, H, ldcp, rand(`lstmb cp ${id}`, B * H, -2, 2)),
    dh: mat(B, H, ldd, rand(`lstmb dh ${id}`, B * H)),
    dc: outMat(B, H, H, rand(`lstmb dc ${id}`, B * H)),
    dgates: outMat(B, 4 * H, lddg),
  },
  (p) => k.f32_lstm_step_backward(B, H, p.gates, p.c, p.cp, ldcp, p.dh, ldd, p.dc, p.dgates, lddg),
  (p) => ref.f32_lstm_step_backward_ref(B, H, p.gates, p.c, p.cp, ldcp, p.dh, ldd, p.dc, p.dgates, lddg), GATE_TOL);
}

function gruForward(B: number, H: number, pad: number): void {
  const ldhp = H + pad, ldh = H + 2 * pad, id = `B=${B} H=${H} pad=${pad}`;
  check('f32_gru_step_forward', id, {
    gates: outMat(B, 3 * H, 3 * H, sprinkle(rand(`gruf g ${id}`, B * 3 * H, -5, 5), PRE_SPECIALS)),
    hg: mat(B, 3 * H, 3 * H, rand(`gruf hg ${id}`, B * 3 * H, -3, 3)),
    hp: mat(B, H, ldhp, rand(`gruf hp ${id}`, B * H)),
    h: outMat(B, H, ldh),
    hn: outMat(B, H, H),
  },
  (p) => k.f32_gru_step_forward(B, H, p.gates, p.hg, p.hp, ldhp, p.h, ldh, p.hn),
  (p) => ref.f32_gru_step_forward_ref(B, H, p.gates, p.hg, p.hp, ldhp, p.h, ldh, p.hn), GATE_TOL);
}

function gruBackward(B: number, H: number, pad: number): void {
  const ldhp = H + pad, lddg = 3 * H + 2 * pad, id = `B=${B} H=${H} pad=${pad}`;
  check('f32_gru_step_backward', id, {
    gates: mat(B, 3 * H, 3 * H, rand(`grub g ${id}`, B * 3 * H, -1, 1)),
    hn: mat(B, H, H, rand(`grub hn ${id}`, B * H, -2, 2)),
    hp: mat(B, H, ldhp, rand(`grub hp ${id}`, B * H)),
    dh: outMat(B, H, H, rand(`grub dh ${id}`, B * H)),
    dgx: outMat(B, 3 * H, lddg),
    dgh: outMat(B, 3 * H, lddg),
  },
  (p) => k.f32_gru_step_backward(B, H, p.gates, p.hn, p.hp, ldhp, p.dh, p.dgx, p.dgh, lddg),
  (p) => ref.f32_gru_step_backward_ref(B, H, p.gates, p.hn, p.hp, ldhp, p.dh, p.dgx, p.dgh, lddg), GATE_TOL);
}

// relu: exact, on data with exact zeros of both signs and negatives; tanh: GATE_TOL.
const RELU_SPECIALS = [0, -0, -1e-30, 1e-30, -2, 0];

function rnnForward(B: number, H: number, pad: number, relu: number): void {
  const ldh = H + pad, id = `B=${B} H=${H} pad=${pad} relu=${relu}`;
  check('f32_rnn_step_forward', id, {
    a: mat(B, H, H, sprinkle(rand(`rnnf a ${id}`, B * H, -5, 5), relu ? RELU_SPECIALS : PRE_SPECIALS, 3, 0)),
    h: outMat(B, H, ldh),
  },
  (p) => k.f32_rnn_step_forward(B, H, p.a, p.h, ldh, relu),
  (p) => ref.f32_rnn_step_forward_ref(B, H, p.a, p.h, ldh, relu), relu ? 0 : GATE_TOL);
}

function rnnBackward(B: number, H: number, pad: number, relu: number): void {
  const ldh = H + pad, ldda = H + 2 * pad, id = `B=${B} H=${H} pad=${pad} relu=${relu}`;
  const h = relu ? sprinkle(rand(`rnnb h ${id}`, B * H, -1, 2), RELU_SPECIALS, 3, 0) : rand(`rnnb h ${id}`, B * H);
  check('f32_rnn_step_backward', id, {
    h: mat(B, H, ldh, h),
    dh: mat(B, H, H, rand(`rnnb dh ${id}`, B * H)),
    da: outMat(B, H, ldda),
  },
  (p) => k.f32_rnn_step_backward(B, H, p.h, ldh, p.dh, p.da, ldda, relu),
  (p) => ref.f32_rnn_step_backward_ref(B, H, p.h, ldh, p.dh, p.da, ldda, relu), relu ? 0 : GATE_TOL);
}

const GATES: [string, (B: number, H: number, pad: number) => void][] = [
  ['f32_lstm_step_forward', lstmForward],
  ['f32_lstm_step_backward', lstmBackward],
  ['f32_gru_step_forward', gruForward],
  ['f32_gru_step_backward', gruBackward],
  ['f32_rnn_step_forward', (B, H, pad) => { rnnForward(B, H, pad, 0); rnnForward(B, H, pad, 1); }],
  ['f32_rnn_step_backward', (B, H, pad) => { rnnBackward(B, H, pad, 0); rnnBackward(B, H, pad, 1); }],
];

describe(`fused gate kernels vs twins (tol ${GATE_TOL}; relu exact)`, () => {
  for (const [name, run] of GATES) {
    describe(name, () => {
      for (const B of BATCHES) for (const H of SIZES) {
        it(`B=${B} H=${H}`, () => { for (const pad of GATE_PADS) run(B, H, pad); });
      }
      it('B = 0 or H = 0 writes nothing', () => {
        for (const [B, H] of [[0, 5], [3, 0]]) run(B, H, 2);
      });
    });
  }
});

describe('coverage and memory', () => {
  it('every f32_* kernel the module exports is tested here', () => {
    const tested = new Set<string>(['f32_gemm_nt', 'f32_gemm_nn', 'f32_gemm_pk', 'f32_pack_w', 'f32_pack_wt', 'f32_packed_size', ...UNARY.map((u) => u.name), 'f32_add_rows',
      'f32_add_bias', 'f32_colsum', 'f32_nonfinite', 'f32_copy_rows', 'f32_fill', 'f32_vmul', ...GATES.map(([name]) => name)]);
    // Kernels of the training side are compared with their twins beside their layers' tests.
    const elsewhere = ['optim.test.ts', 'loss.test.ts', 'layers.test.ts']
      .map((f) => readFileSync(new URL(`./${f}`, import.meta.url), 'utf8')).join('\n');
    const kernels = Object.keys(e.instance.exports).filter((n) => n.startsWith('f32_') && !n.endsWith('_ref'));
    expect(kernels.filter((n) => !tested.has(n) && !new RegExp(`\\b${n}\\b`).test(elsewhere)), 'exported kernels with no test').toEqual([]);
  });

  it('every case released its buffers', () => {
    expect(e.heap.bytesInUse).toBe(bytesAtStart);
  });
});
