// GRU over a whole sequence, one layer and one direction per call (Cho et al. 2014, in
// PyTorch's nn.GRU form: gates r, z, n and n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))).
// Key: T time, B batch, I input, H hidden.
import { f32_gemm_pk, gemm_pk_bias } from '../kernels/gemm-packed';
import { f32_add_rows, f32_copy_rows } from '../kernels/elementwise';
import { f32_gru_step_forward, f32_gru_step_backward } from '../kernels/gates';
import { input_projection, input_grads, recurrent_grads, bias_grads, time_at, any_padded, copy_padded_rows, zero_padded_rows } from './common';

/**
 * Forward, with the weights packed by f32_pack_w (pw_ih, pw_hh).
 * Saves gates (T,B,3H) = r, z, n and hn (T,B,H) = W_hn h_prev + b_hn.
 * x rows stride ldx; h0 (B,H); out rows stride ldo; hN (B,H). Scratch hg (B,3H).
 * lens (B i32) or 0: per-row lengths (see common.ts).
 */
export function gru_seq_forward(T: i32, B: i32, I: i32, H: i32, reverse: i32,
                                x: usize, ldx: i32, pw_ih: usize, pw_hh: usize, b_ih: usize, b_hh: usize,
                                h0: usize, out: usize, ldo: i32, hN: usize,
                                gates: usize, hn: usize, hg: usize, lens: usize): void {
  const G = 3 * H;
  const gB = (<usize>B * <usize>G) << 2, hB = (<usize>B * <usize>H) << 2, oB = (<usize>B * <usize>ldo) << 2;
  input_projection(T * B, I, G, x, ldx, pw_ih, b_ih, 0, gates);
  let hp = h0, ldhp = H;
  for (let s = 0; s < T; s++) {
    const t = <usize>time_at(s, T, reverse);
    const ot = out + t * oB;
    gemm_pk_bias(B, G, H, hp, ldhp, pw_hh, hg, G, 0, b_hh, 0);
    f32_gru_step_forward(B, H, gates + t * gB, hg, hp, ldhp, ot, ldo, hn + t * hB);
    if (any_padded(B, lens, <i32>t)) copy_padded_rows(B, H, lens, <i32>t, hp, ldhp, ot, ldo);
    hp = ot; ldhp = ldo;
  }
  f32_copy_rows(B, H, hp, ldhp, hN, H);
}

/**
 * Backward through time, with W_ih, W_hh as f32_pack_wt panels (pt_*). dout rows stride lddo; dhN (B,H) or 0. Writes dh0 (B,H); adds into dx
 * rows (stride lddx) and the parameter gradients. Scratch dgx, dgh (T·B rows of 3H, row stride
 * ldg ≥ 3H); with lens,
 * stash (B,H) keeps padded rows' dh aside.
 */
export function gru_seq_backward(T: i32, B: i32, I: i32, H: i32, reverse: i32,
                                 x: usize, ldx: i32, pt_ih: usize, pt_hh: usize,
                                 h0: usize, out: usize, ldo: i32, gates: usize, hn: usize,
                                 dout: usize, lddo: i32, dhN: usize,
                                 dx: usize, lddx: i32, dh0: usize,
                                 dw_ih: usize, dw_hh: usize, db_ih: usize, db_hh: usize,
                                 dgx: usize, dgh: usize, ldg: i32, lens: usize, stash: usize): void {
  const G = 3 * H;
  const gB = (<usize>B * <usize>G) << 2, hB = (<usize>B * <usize>H) << 2, dgB = (<usize>B * <usize>ldg) << 2;
  const oB = (<usize>B * <usize>ldo) << 2, dB = (<usize>B * <usize>lddo) << 2;
  const dh = dh0;
  if (dhN) memory.copy(dh, dhN, hB); else memory.fill(dh, 0, hB);
  for (let s = T - 1; s >= 0; s--) {
    const t = <usize>time_at(s, T, reverse);
    const tp = <usize>time_at(s - 1, T, reverse);
    const hp = s == 0 ? h0 : out + tp * oB, ldhp = s == 0 ? H : ldo;
    const padded = any_padded(B, lens, <i32>t);
    if (padded) copy_padded_rows(B, H, lens, <i32>t, dh, H, stash, H);
    f32_add_rows(B, H, dout + t * dB, lddo, dh, H);
    f32_gru_step_backward(B, H, gates + t * gB, hn + t * hB, hp, ldhp, dh, dgx + t * dgB, dgh + t * dgB, ldg);
    if (padded) {
      zero_padded_rows(B, G, lens, <i32>t, dgx + t * dgB, ldg);
      zero_padded_rows(B, G, lens, <i32>t, dgh + t * dgB, ldg);
    }
    f32_gemm_pk(B, H, G, dgh + t * dgB, ldg, pt_hh, dh, H, 1);
    if (padded) copy_padded_rows(B, H, lens, <i32>t, stash, H, dh, H);
  }
  input_grads(T * B, I, G, dgx, ldg, x, ldx, pt_ih, dx, lddx, dw_ih);
  recurrent_grads(T, B, G, H, reverse, dgh, ldg, h0, out, ldo, dw_hh);
  bias_grads(T * B, G, 2 * H, dgx, dgh, ldg, db_ih, db_hh);
}
