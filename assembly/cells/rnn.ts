// Elman RNN over a whole sequence, one layer and one direction per call:
//   h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = tanh or relu (PyTorch's nn.RNN).
// Key: T time, B batch, I input, H hidden.
import { f32_gemm_pk } from '../kernels/gemm-packed';
import { f32_add_rows, f32_copy_rows } from '../kernels/elementwise';
import { f32_rnn_step_forward, f32_rnn_step_backward } from '../kernels/gates';
import { input_projection, input_grads, recurrent_grads, bias_grads, time_at, any_padded, copy_padded_rows, zero_padded_rows } from './common';

/** Forward (weights packed by f32_pack_w). x rows stride ldx; h0 (B,H); out rows stride ldo; hN (B,H). Scratch pre (T,B,H). lens: see common.ts. */
export function rnn_seq_forward(T: i32, B: i32, I: i32, H: i32, reverse: i32, relu: i32,
                                x: usize, ldx: i32, pw_ih: usize, pw_hh: usize, b_ih: usize, b_hh: usize,
                                h0: usize, out: usize, ldo: i32, hN: usize, pre: usize, lens: usize): void {
  const hB = (<usize>B * <usize>H) << 2, oB = (<usize>B * <usize>ldo) << 2;
  input_projection(T * B, I, H, x, ldx, pw_ih, b_ih, b_hh, pre);
  let hp = h0, ldhp = H;
  for (let s = 0; s < T; s++) {
    const t = <usize>time_at(s, T, reverse);
    const at = pre + t * hB, ot = out + t * oB;
    f32_gemm_pk(B, H, H, hp, ldhp, pw_hh, at, H, 1);
    f32_rnn_step_forward(B, H, at, ot, ldo, relu);
    if (any_padded(B, lens, <i32>t)) copy_padded_rows(B, H, lens, <i32>t, hp, ldhp, ot, ldo);
    hp = ot; ldhp = ldo;
  }
  f32_copy_rows(B, H, hp, ldhp, hN, H);
}

/** Backward through time (W_ih, W_hh as f32_pack_wt panels); the saved state is the output itself. Scratch da (T·B rows of H, row stride ldg ≥ H); stash (B,H) with lens. */
export function rnn_seq_backward(T: i32, B: i32, I: i32, H: i32, reverse: i32, relu: i32,
                                 x: usize, ldx: i32, pt_ih: usize, pt_hh: usize,
                                 h0: usize, out: usize, ldo: i32,
                                 dout: usize, lddo: i32, dhN: usize,
                                 dx: usize, lddx: i32, dh0: usize,
                                 dw_ih: usize, dw_hh: usize, db_ih: usize, db_hh: usize, da: usize, ldg: i32,
                                 lens: usize, stash: usize): void {
  const hB = (<usize>B * <usize>H) << 2, oB = (<usize>B * <usize>ldo) << 2, dB = (<usize>B * <usize>lddo) << 2;
  const aB = (<usize>B * <usize>ldg) << 2;
  const dh = dh0;
  if (dhN) memory.copy(dh, dhN, hB); else memory.fill(dh, 0, hB);
  for (let s = T - 1; s >= 0; s--) {
    const t = <usize>time_at(s, T, reverse);
    const padded = any_padded(B, lens, <i32>t);
    if (padded) copy_padded_rows(B, H, lens, <i32>t, dh, H, stash, H);
    f32_add_rows(B, H, dout + t * dB, lddo, dh, H);
    f32_rnn_step_backward(B, H, out + t * oB, ldo, dh, da + t * aB, ldg, relu);
    if (padded) zero_padded_rows(B, H, lens, <i32>t, da + t * aB, ldg);
    f32_gemm_pk(B, H, H, da + t * aB, ldg, pt_hh, dh, H, 0);
    if (padded) copy_padded_rows(B, H, lens, <i32>t, stash, H, dh, H);
  }
  input_grads(T * B, I, H, da, ldg, x, ldx, pt_ih, dx, lddx, dw_ih);
  recurrent_grads(T, B, H, H, reverse, da, ldg, h0, out, ldo, dw_hh);
  bias_grads(T * B, H, H, da, da, ldg, db_ih, db_hh);
}
