// What every recurrent layer shares: the input projection before the time loop and the
// whole-sequence products after BPTT (as cuDNN does, not one outer product per step).
// Key: T time, B batch, I input width, G gate rows (4H LSTM, 3H GRU, H RNN), R recurrent
// width (H, or P with a projection). Pointers are byte addresses, strides count f32.
import { f32_gemm_nn } from '../kernels/gemm';
import { f32_gemm_pk, gemm_pk_bias } from '../kernels/gemm-packed';
import { colsum_into } from '../kernels/reduce';

/**
 * gates (T·B, G) = X (T·B, I) · W_ihᵀ (+ b_ih) (+ b_hh), the biases added as the GEMM stores;
 * pw_ih is W_ih packed by f32_pack_w; a bias pointer of 0 means none.
 */
export function input_projection(TB: i32, I: i32, G: i32, x: usize, ldx: i32, pw_ih: usize,
                                 b_ih: usize, b_hh: usize, gates: usize): void {
  gemm_pk_bias(TB, G, I, x, ldx, pw_ih, gates, G, 0, b_ih, b_hh);
}

/** Time index of sequence step s: forward runs t = 0…T-1, reverse runs t = T-1…0. */
// @ts-ignore: decorator
@inline export function time_at(s: i32, T: i32, reverse: i32): i32 {
  return reverse ? T - 1 - s : s;
}

/**
 * After BPTT, with dgx (T·B, G; row stride ldg) the gradients of the input-side
 * pre-activations: dX (T·B, I) += dgx · W_ih;  dW_ih (G, I) += dgxᵀ · X  (the bias:
 * bias_grads). pt_ih is W_ih packed by f32_pack_wt. dx = 0: ∂L/∂X is not wanted (no product).
 */
export function input_grads(TB: i32, I: i32, G: i32, dgx: usize, ldg: i32, x: usize, ldx: i32, pt_ih: usize,
                            dx: usize, lddx: i32, dw_ih: usize): void {
  if (dx) f32_gemm_pk(TB, I, G, dgx, ldg, pt_ih, dx, lddx, 1);
  f32_gemm_nn(G, I, TB, dgx, 1, ldg, x, ldx, dw_ih, I, 1);
}

/**
 * db_ih += Σ rows of dgx, db_hh += Σ rows of dgh (T·B rows of G, stride ldg; bias pointers 0:
 * no biases).
 * Their first `same` columns hold the same gradients (LSTM, RNN: all G, one buffer; GRU: r and
 * z, 2H), summed once for both.
 */
export function bias_grads(TB: i32, G: i32, same: i32, dgx: usize, dgh: usize, ldg: i32, db_ih: usize, db_hh: usize): void {
  if (!db_ih) return;
  colsum_into(TB, same, dgx, ldg, db_ih, db_hh);
  if (same < G) {
    const o = <usize>same << 2;
    colsum_into(TB, G - same, dgx + o, ldg, db_ih + o, 0);
    colsum_into(TB, G - same, dgh + o, ldg, db_hh + o, 0);
  }
}

/**
 * dW_hh (G, R) += Σ_t dgh_tᵀ · h_prev(t) (dgh rows of stride ldg), as two products: the T-1 steps whose h_prev is the
 * output row of the neighbouring step (out rows share one stride ldo), and the first step,
 * whose h_prev is h0.
 */
export function recurrent_grads(T: i32, B: i32, G: i32, R: i32, reverse: i32, dgh: usize, ldg: i32,
                                h0: usize, out: usize, ldo: i32, dw_hh: usize): void {
  const rowB = (<usize>B * <usize>ldg) << 2;    // bytes of one time step of dgh
  const outB = (<usize>B * <usize>ldo) << 2;    // bytes of one time step of out
  const K = (T - 1) * B;
  if (K > 0) {
    if (reverse) f32_gemm_nn(G, R, K, dgh, 1, ldg, out + outB, ldo, dw_hh, R, 1);
    else f32_gemm_nn(G, R, K, dgh + rowB, 1, ldg, out, ldo, dw_hh, R, 1);
  }
  const first = reverse ? dgh + <usize>(T - 1) * rowB : dgh;
  f32_gemm_nn(G, R, B, first, 1, ldg, h0, R, dw_hh, R, 1);
}

// ---- Variable-length batches (PyTorch's pack_padded_sequence semantics) ----
// lens (B i32, 0 = every row has length T). A row b is padded at step t when t ≥ lens[b]:
// its state passes through unchanged (forward direction: it keeps h at its own end, so hN is
// taken there; reverse direction: it keeps h0 until its own last step), and backward gives it
// no gate gradients, so padded steps add nothing to any weight or input gradient.

/** True if any row is padded at step t. */
export function any_padded(B: i32, lens: usize, t: i32): bool {
  if (!lens) return false;
  for (let b = 0; b < B; b++) if (t >= load<i32>(lens + (<usize>b << 2))) return true;
  return false;
}

/** For padded rows at step t: dst row (N wide) = src row. */
export function copy_padded_rows(B: i32, N: i32, lens: usize, t: i32, src: usize, lds: i32, dst: usize, ldd: i32): void {
  for (let b = 0; b < B; b++) {
    if (t < load<i32>(lens + (<usize>b << 2))) continue;
    memory.copy(dst + ((<usize>b * <usize>ldd) << 2), src + ((<usize>b * <usize>lds) << 2), <usize>N << 2);
  }
}

/** For padded rows at step t: dst row (N wide) = 0. */
export function zero_padded_rows(B: i32, N: i32, lens: usize, t: i32, dst: usize, ldd: i32): void {
  for (let b = 0; b < B; b++) {
    if (t < load<i32>(lens + (<usize>b << 2))) continue;
    memory.fill(dst + ((<usize>b * <usize>ldd) << 2), 0, <usize>N << 2);
  }
}
