// One typed interface listing every WASM export (the TypeScript side mirrors assembly/index.ts).
// Pointers are byte addresses into the engine's memory; strides count f32 elements.

type Ptr = number;

export interface Kernels {
  heap_base(): Ptr;
  // kernels/gemm
  f32_gemm_nt(M: number, N: number, K: number, A: Ptr, lda: number, B: Ptr, ldb: number, C: Ptr, ldc: number, acc: number): void;
  f32_gemm_nn(M: number, N: number, K: number, A: Ptr, ars: number, acs: number, B: Ptr, ldb: number, C: Ptr, ldc: number, acc: number): void;
  // kernels/gemm-packed
  f32_packed_size(N: number, K: number): number;
  f32_pack_w(N: number, K: number, W: Ptr, ldw: number, Wp: Ptr): void;
  f32_pack_wt(N: number, K: number, S: Ptr, lds: number, Wp: Ptr): void;
  f32_gemm_pk(M: number, N: number, K: number, A: Ptr, lda: number, Wp: Ptr, C: Ptr, ldc: number, acc: number): void;
  // f32_gemm_pk adding b1 (N) then b2 (N) to every row as it stores (0: none)
  gemm_pk_bias(M: number, N: number, K: number, A: Ptr, lda: number, Wp: Ptr, C: Ptr, ldc: number, acc: number, b1: Ptr, b2: Ptr): void;
  // kernels/activations
  f32_vtanh(n: number, x: Ptr, y: Ptr): void;
  f32_vsigmoid(n: number, x: Ptr, y: Ptr): void;
  f32_vrelu(n: number, x: Ptr, y: Ptr): void;
  // kernels/elementwise
  f32_add_rows(M: number, N: number, X: Ptr, ldx: number, Y: Ptr, ldy: number): void;
  f32_add_bias(M: number, N: number, b: Ptr, C: Ptr, ldc: number): void;
  f32_colsum(M: number, N: number, A: Ptr, lda: number, y: Ptr): void;
  // the index of the first NaN or ±Infinity among n floats, or -1
  f32_nonfinite(n: number, x: Ptr): number;
  f32_copy_rows(M: number, N: number, X: Ptr, ldx: number, Y: Ptr, ldy: number): void;
  f32_fill(n: number, p: Ptr, v: number): void;
  f32_vmul(n: number, x: Ptr, y: Ptr, z: Ptr): void;
  // kernels/optim (one pass over a flat store of n floats; scalars from the TS side)
  f32_sgd_step(n: number, p: Ptr, g: Ptr, buf: Ptr, lr: number, momentum: number, dampening: number,
    wd: number, nesterov: number, first: number): void;
  f32_rmsprop_step(n: number, p: Ptr, g: Ptr, sq: Ptr, gavg: Ptr, buf: Ptr, lr: number, alpha: number,
    eps: number, wd: number, momentum: number, centered: number): void;
  f32_adam_step(n: number, p: Ptr, g: Ptr, m: Ptr, v: Ptr, vmax: Ptr, beta1: number, beta2: number,
    eps: number, wd: number, decay: number, stepSize: number, bc2Sqrt: number, amsgrad: number): void;
  f32_adagrad_step(n: number, p: Ptr, g: Ptr, sum: Ptr, clr: number, wd: number, eps: number): void;
  f32_sumsq(n: number, x: Ptr): number;
  f32_absmax(n: number, x: Ptr): number;
  f32_scale(n: number, x: Ptr, s: number): void;
  f32_clamp(n: number, x: Ptr, lo: number, hi: number): void;
  // kernels/loss (return the loss sum; gradients unnormalised, the TS side scales by the reduction)
  f32_softmax_xent(N: number, C: number, x: Ptr, ldx: number, t: Ptr, w: Ptr, ignore: number,
    dx: Ptr, lddx: number, wsum: Ptr): number;
  f32_mse(n: number, x: Ptr, y: Ptr, dx: Ptr): number;
  f32_bce_logits(n: number, x: Ptr, y: Ptr, dx: Ptr): number;
  // kernels/layers
  f32_vtanh_backward(n: number, y: Ptr, dy: Ptr, dx: Ptr): void;
  f32_vsigmoid_backward(n: number, y: Ptr, dy: Ptr, dx: Ptr): void;
  f32_vrelu_backward(n: number, y: Ptr, dy: Ptr, dx: Ptr): void;
  f32_gather_rows(N: number, D: number, ids: Ptr, W: Ptr, ldw: number, Y: Ptr, ldy: number): void;
  f32_scatter_add_rows(N: number, D: number, ids: Ptr, dY: Ptr, lddy: number, dW: Ptr, ldw: number): void;
  // kernels/gates
  f32_lstm_step_forward(B: number, H: number, gates: Ptr, cp: Ptr, ldcp: number, c: Ptr, h: Ptr, ldh: number): void;
  f32_lstm_step_backward(B: number, H: number, gates: Ptr, c: Ptr, cp: Ptr, ldcp: number, dh: Ptr, ldd: number, dc: Ptr, dgates: Ptr, lddg: number): void;
  f32_gru_step_forward(B: number, H: number, gates: Ptr, hg: Ptr, hp: Ptr, ldhp: number, h: Ptr, ldh: number, hn: Ptr): void;
  f32_gru_step_backward(B: number, H: number, gates: Ptr, hn: Ptr, hp: Ptr, ldhp: number, dh: Ptr, dgx: Ptr, dgh: Ptr, lddg: number): void;
  f32_rnn_step_forward(B: number, H: number, a: Ptr, h: Ptr, ldh: number, relu: number): void;
  f32_rnn_step_backward(B: number, H: number, h: Ptr, ldh: number, dh: Ptr, da: Ptr, ldda: number, relu: number): void;
  // cells
  lstm_seq_forward(T: number, B: number, I: number, H: number, P: number, reverse: number,
    x: Ptr, ldx: number, pw_ih: Ptr, pw_hh: Ptr, b_ih: Ptr, b_hh: Ptr, pw_hr: Ptr, h0: Ptr, c0: Ptr,
    out: Ptr, ldo: number, hN: Ptr, cN: Ptr, gates: Ptr, cs: Ptr, hpre: Ptr, lens: Ptr): void;
  lstm_seq_backward(T: number, B: number, I: number, H: number, P: number, reverse: number,
    x: Ptr, ldx: number, pt_ih: Ptr, pt_hh: Ptr, pt_hr: Ptr, h0: Ptr, c0: Ptr, out: Ptr, ldo: number,
    gates: Ptr, cs: Ptr, hpre: Ptr, dout: Ptr, lddo: number, dhN: Ptr, dcN: Ptr,
    dx: Ptr, lddx: number, dh0: Ptr, dc0: Ptr,
    dw_ih: Ptr, dw_hh: Ptr, db_ih: Ptr, db_hh: Ptr, dw_hr: Ptr, dgates: Ptr, ldg: number, dhs: Ptr, dhpre: Ptr,
    lens: Ptr, stash: Ptr): void;
  gru_seq_forward(T: number, B: number, I: number, H: number, reverse: number,
    x: Ptr, ldx: number, pw_ih: Ptr, pw_hh: Ptr, b_ih: Ptr, b_hh: Ptr, h0: Ptr,
    out: Ptr, ldo: number, hN: Ptr, gates: Ptr, hn: Ptr, hg: Ptr, lens: Ptr): void;
  gru_seq_backward(T: number, B: number, I: number, H: number, reverse: number,
    x: Ptr, ldx: number, pt_ih: Ptr, pt_hh: Ptr, h0: Ptr, out: Ptr, ldo: number, gates: Ptr, hn: Ptr,
    dout: Ptr, lddo: number, dhN: Ptr, dx: Ptr, lddx: number, dh0: Ptr,
    dw_ih: Ptr, dw_hh: Ptr, db_ih: Ptr, db_hh: Ptr, dgx: Ptr, dgh: Ptr, ldg: number, lens: Ptr, stash: Ptr): void;
  rnn_seq_forward(T: number, B: number, I: number, H: number, reverse: number, relu: number,
    x: Ptr, ldx: number, pw_ih: Ptr, pw_hh: Ptr, b_ih: Ptr, b_hh: Ptr, h0: Ptr,
    out: Ptr, ldo: number, hN: Ptr, pre: Ptr, lens: Ptr): void;
  rnn_seq_backward(T: number, B: number, I: number, H: number, reverse: number, relu: number,
    x: Ptr, ldx: number, pt_ih: Ptr, pt_hh: Ptr, h0: Ptr, out: Ptr, ldo: number,
    dout: Ptr, lddo: number, dhN: Ptr, dx: Ptr, lddx: number, dh0: Ptr,
    dw_ih: Ptr, dw_hh: Ptr, db_ih: Ptr, db_hh: Ptr, da: Ptr, ldg: number, lens: Ptr, stash: Ptr): void;
  // cells/split: one thread's hidden units [j0, j1) of a forward split by gate rows, after the
  // arguments of the whole-layer forward (P, pw_hr, hpre, lens and the shared gates / hn / hg /
  // pre unused), with the layer's thread-private region priv
  lstm_seq_forward_split(T: number, B: number, I: number, H: number, P: number, reverse: number,
    x: Ptr, ldx: number, pw_ih: Ptr, pw_hh: Ptr, b_ih: Ptr, b_hh: Ptr, pw_hr: Ptr, h0: Ptr, c0: Ptr,
    out: Ptr, ldo: number, hN: Ptr, cN: Ptr, gates: Ptr, cs: Ptr, hpre: Ptr, lens: Ptr, priv: Ptr, j0: number, j1: number,
    bar: Ptr, n: number, abort: Ptr): void;
  gru_seq_forward_split(T: number, B: number, I: number, H: number, reverse: number,
    x: Ptr, ldx: number, pw_ih: Ptr, pw_hh: Ptr, b_ih: Ptr, b_hh: Ptr, h0: Ptr,
    out: Ptr, ldo: number, hN: Ptr, gates: Ptr, hn: Ptr, hg: Ptr, lens: Ptr, priv: Ptr, j0: number, j1: number,
    bar: Ptr, n: number, abort: Ptr): void;
  rnn_seq_forward_split(T: number, B: number, I: number, H: number, reverse: number, relu: number,
    x: Ptr, ldx: number, pw_ih: Ptr, pw_hh: Ptr, b_ih: Ptr, b_hh: Ptr, h0: Ptr,
    out: Ptr, ldo: number, hN: Ptr, pre: Ptr, lens: Ptr, priv: Ptr, j0: number, j1: number,
    bar: Ptr, n: number, abort: Ptr): void;
  // the saved activations of units [j0, j1) from priv into the shared layout backward reads
  lstm_split_saved(T: number, B: number, H: number, priv: Ptr, j0: number, j1: number, gates: Ptr): void;
  gru_split_saved(T: number, B: number, H: number, priv: Ptr, j0: number, j1: number, gates: Ptr, hn: Ptr): void;
}

/** Scalar twins exported beside each SIMD kernel (suffix `_ref`), for tests. */
export type RefKernels = {
  [K in keyof Kernels as K extends `f32_${string}` ? `${K}_ref` : never]?: Kernels[K];
};

export const KERNEL_NAMES: readonly (keyof Kernels)[] = [
  'heap_base', 'f32_gemm_nt', 'f32_gemm_nn', 'f32_packed_size', 'f32_pack_w', 'f32_pack_wt', 'f32_gemm_pk', 'gemm_pk_bias', 'f32_vtanh', 'f32_vsigmoid', 'f32_vrelu',
  'f32_add_rows', 'f32_add_bias', 'f32_colsum', 'f32_nonfinite', 'f32_copy_rows', 'f32_fill', 'f32_vmul',
  'f32_lstm_step_forward', 'f32_lstm_step_backward', 'f32_gru_step_forward', 'f32_gru_step_backward',
  'f32_rnn_step_forward', 'f32_rnn_step_backward',
  'f32_sgd_step', 'f32_rmsprop_step', 'f32_adam_step', 'f32_adagrad_step',
  'f32_sumsq', 'f32_absmax', 'f32_scale', 'f32_clamp',
  'f32_softmax_xent', 'f32_mse', 'f32_bce_logits',
  'f32_vtanh_backward', 'f32_vsigmoid_backward', 'f32_vrelu_backward', 'f32_gather_rows', 'f32_scatter_add_rows',
  'lstm_seq_forward', 'lstm_seq_backward', 'gru_seq_forward', 'gru_seq_backward',
  'rnn_seq_forward', 'rnn_seq_backward', 'lstm_seq_forward_split', 'gru_seq_forward_split', 'rnn_seq_forward_split',
  'lstm_split_saved', 'gru_split_saved',
];
