// One typed interface listing every WASM export (the TypeScript side mirrors assembly/index.ts).
// Pointers are byte addresses into the engine's memory; strides count f32 elements.

type Ptr = number;

export interface Kernels {
  heap_base(): Ptr;
  // kernels/gemm
  f32_gemm_nt(M: number, N: number, K: number, A: Ptr, lda: number, B: Ptr, ldb: number, C: Ptr, ldc: number, acc: number): void;
  f32_gemm_nn(M: number, N: number, K: number, A: Ptr, ars: number, acs: number, B: Ptr, ldb: number, C: Ptr, ldc: number, acc: number): void;
  // kernels/activations
  f32_vtanh(n: number, x: Ptr, y: Ptr): void;
  f32_vsigmoid(n: number, x: Ptr, y: Ptr): void;
  f32_vrelu(n: number, x: Ptr, y: Ptr): void;
  // kernels/elementwise
  f32_add_rows(M: number, N: number, X: Ptr, ldx: number, Y: Ptr, ldy: number): void;
  f32_add_bias(M: number, N: number, b: Ptr, C: Ptr, ldc: number): void;
  f32_colsum(M: number, N: number, A: Ptr, lda: number, y: Ptr): void;
  f32_copy_rows(M: number, N: number, X: Ptr, ldx: number, Y: Ptr, ldy: number): void;
  f32_fill(n: number, p: Ptr, v: number): void;
  f32_vmul(n: number, x: Ptr, y: Ptr, z: Ptr): void;
  // kernels/gates
  f32_lstm_step_forward(B: number, H: number, gates: Ptr, cp: Ptr, ldcp: number, c: Ptr, h: Ptr, ldh: number): void;
  f32_lstm_step_backward(B: number, H: number, gates: Ptr, c: Ptr, cp: Ptr, ldcp: number, dh: Ptr, ldd: number, dc: Ptr, dgates: Ptr): void;
  f32_gru_step_forward(B: number, H: number, gates: Ptr, hg: Ptr, hp: Ptr, ldhp: number, h: Ptr, ldh: number, hn: Ptr): void;
  f32_gru_step_backward(B: number, H: number, gates: Ptr, hn: Ptr, hp: Ptr, ldhp: number, dh: Ptr, dgx: Ptr, dgh: Ptr): void;
  f32_rnn_step_forward(B: number, H: number, a: Ptr, h: Ptr, ldh: number, relu: number): void;
  f32_rnn_step_backward(B: number, H: number, h: Ptr, ldh: number, dh: Ptr, da: Ptr, relu: number): void;
  // cells
  lstm_seq_forward(T: number, B: number, I: number, H: number, P: number, reverse: number,
    x: Ptr, ldx: number, w_ih: Ptr, w_hh: Ptr, b_ih: Ptr, b_hh: Ptr, w_hr: Ptr, h0: Ptr, c0: Ptr,
    out: Ptr, ldo: number, hN: Ptr, cN: Ptr, gates: Ptr, cs: Ptr, hpre: Ptr, lens: Ptr): void;
  lstm_seq_backward(T: number, B: number, I: number, H: number, P: number, reverse: number,
    x: Ptr, ldx: number, w_ih: Ptr, w_hh: Ptr, w_hr: Ptr, h0: Ptr, c0: Ptr, out: Ptr, ldo: number,
    gates: Ptr, cs: Ptr, hpre: Ptr, dout: Ptr, lddo: number, dhN: Ptr, dcN: Ptr,
    dx: Ptr, lddx: number, dh0: Ptr, dc0: Ptr,
    dw_ih: Ptr, dw_hh: Ptr, db_ih: Ptr, db_hh: Ptr, dw_hr: Ptr, dgates: Ptr, dhs: Ptr, dhpre: Ptr,
    lens: Ptr, stash: Ptr): void;
  gru_seq_forward(T: number, B: number, I: number, H: number, reverse: number,
    x: Ptr, ldx: number, w_ih: Ptr, w_hh: Ptr, b_ih: Ptr, b_hh: Ptr, h0: Ptr,
    out: Ptr, ldo: number, hN: Ptr, gates: Ptr, hn: Ptr, hg: Ptr, lens: Ptr): void;
  gru_seq_backward(T: number, B: number, I: number, H: number, reverse: number,
    x: Ptr, ldx: number, w_ih: Ptr, w_hh: Ptr, h0: Ptr, out: Ptr, ldo: number, gates: Ptr, hn: Ptr,
    dout: Ptr, lddo: number, dhN: Ptr, dx: Ptr, lddx: number, dh0: Ptr,
    dw_ih: Ptr, dw_hh: Ptr, db_ih: Ptr, db_hh: Ptr, dgx: Ptr, dgh: Ptr, lens: Ptr, stash: Ptr): void;
  rnn_seq_forward(T: number, B: number, I: number, H: number, reverse: number, relu: number,
    x: Ptr, ldx: number, w_ih: Ptr, w_hh: Ptr, b_ih: Ptr, b_hh: Ptr, h0: Ptr,
    out: Ptr, ldo: number, hN: Ptr, pre: Ptr, lens: Ptr): void;
  rnn_seq_backward(T: number, B: number, I: number, H: number, reverse: number, relu: number,
    x: Ptr, ldx: number, w_ih: Ptr, w_hh: Ptr, h0: Ptr, out: Ptr, ldo: number,
    dout: Ptr, lddo: number, dhN: Ptr, dx: Ptr, lddx: number, dh0: Ptr,
    dw_ih: Ptr, dw_hh: Ptr, db_ih: Ptr, db_hh: Ptr, da: Ptr, lens: Ptr, stash: Ptr): void;
}

/** Scalar twins exported beside each SIMD kernel (suffix `_ref`), for tests. */
export type RefKernels = {
  [K in keyof Kernels as K extends `f32_${string}` ? `${K}_ref` : never]?: Kernels[K];
};

export const KERNEL_NAMES: readonly (keyof Kernels)[] = [
  'heap_base', 'f32_gemm_nt', 'f32_gemm_nn', 'f32_vtanh', 'f32_vsigmoid', 'f32_vrelu',
  'f32_add_rows', 'f32_add_bias', 'f32_colsum', 'f32_copy_rows', 'f32_fill', 'f32_vmul',
  'f32_lstm_step_forward', 'f32_lstm_step_backward', 'f32_gru_step_forward', 'f32_gru_step_backward',
  'f32_rnn_step_forward', 'f32_rnn_step_backward',
  'lstm_seq_forward', 'lstm_seq_backward', 'gru_seq_forward', 'gru_seq_backward',
  'rnn_seq_forward', 'rnn_seq_backward',
];
