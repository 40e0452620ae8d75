// LSTM over a whole sequence, one layer and one direction per call (PyTorch's nn.LSTM:
// gates i, f, g, o; optional projection h = W_hr (o ⊙ tanh c), Sak et al. 2014).
// Key: T time, B batch, I input, H hidden, P projection (0 = none), R = P || H the width of h.
import { f32_gemm_nn } from '../kernels/gemm';
import { f32_gemm_pk } from '../kernels/gemm-packed';
import { f32_add_rows, f32_copy_rows } from '../kernels/elementwise';
import { f32_lstm_step_forward, f32_lstm_step_backward } from '../kernels/gates';
import { input_projection, input_grads, recurrent_grads, bias_grads, time_at, any_padded, copy_padded_rows, zero_padded_rows } from './common';

/**
 * Forward. The weights come packed by f32_pack_w (pw_ih, pw_hh, pw_hr); the biases as they are.
 * Saves for backward: gates (T,B,4H) activations, cs (T,B,H) cell states, and with a
 * projection hpre (T,B,H) = o ⊙ tanh(c). x rows (T·B, I) stride ldx; h0 (B,R), c0 (B,H);
 * out rows (T·B, R) stride ldo (a column slice of a (T,B,D·R) output); hN (B,R), cN (B,H).
 * lens (B i32) or 0: per-row lengths (see common.ts); padded rows carry their state through.
 */
export function lstm_seq_forward(T: i32, B: i32, I: i32, H: i32, P: i32, reverse: i32,
                                 x: usize, ldx: i32, pw_ih: usize, pw_hh: usize, b_ih: usize, b_hh: usize,
                                 pw_hr: usize, h0: usize, c0: usize, out: usize, ldo: i32,
                                 hN: usize, cN: usize, gates: usize, cs: usize, hpre: usize, lens: usize): void {
  const G = 4 * H, R = P ? P : H;
  const gB = (<usize>B * <usize>G) << 2, cB = (<usize>B * <usize>H) << 2, oB = (<usize>B * <usize>ldo) << 2;
  input_projection(T * B, I, G, x, ldx, pw_ih, b_ih, b_hh, gates);
  let hp = h0, ldhp = R, cp = c0;
  for (let s = 0; s < T; s++) {
    const t = <usize>time_at(s, T, reverse);
    const gt = gates + t * gB, ct = cs + t * cB, ot = out + t * oB;
    f32_gemm_pk(B, G, R, hp, ldhp, pw_hh, gt, G, 1);
    if (P) {
      const ht = hpre + t * cB;
      f32_lstm_step_forward(B, H, gt, cp, H, ct, ht, H);
      f32_gemm_pk(B, P, H, ht, H, pw_hr, ot, ldo, 0);
    } else {
      f32_lstm_step_forward(B, H, gt, cp, H, ct, ot, ldo);
    }
    if (any_padded(B, lens, <i32>t)) {
      copy_padded_rows(B, R, lens, <i32>t, hp, ldhp, ot, ldo);
      copy_padded_rows(B, H, lens, <i32>t, cp, H, ct, H);
    }
    hp = ot; ldhp = ldo; cp = ct;
  }
  f32_copy_rows(B, R, hp, ldhp, hN, R);
  f32_copy_rows(B, H, cp, H, cN, H);
}

/**
 * Backward through time. The weights come as f32_pack_wt panels of W_ih, W_hh, W_hr (pt_*).
 * dout rows (T·B, R) stride lddo; dhN (B,R), dcN (B,H) or 0 for none.
 * Writes dh0 (B,R), dc0 (B,H); adds into dx rows (stride lddx) and the parameter gradients
 * (a bias pointer of 0 means no bias; dw_hr only with a projection).
 * Scratch: dgates (T·B rows of 4H, row stride ldg ≥ 4H); with a projection dhs (T,B,P) and dhpre (B,H); with lens,
 * stash (B, R + H): padded rows' dh and dc are kept aside and passed through unchanged.
 */
export function lstm_seq_backward(T: i32, B: i32, I: i32, H: i32, P: i32, reverse: i32,
                                  x: usize, ldx: i32, pt_ih: usize, pt_hh: usize, pt_hr: usize,
                                  h0: usize, c0: usize, out: usize, ldo: i32,
                                  gates: usize, cs: usize, hpre: usize,
                                  dout: usize, lddo: i32, dhN: usize, dcN: usize,
                                  dx: usize, lddx: i32, dh0: usize, dc0: usize,
                                  dw_ih: usize, dw_hh: usize, db_ih: usize, db_hh: usize, dw_hr: usize,
                                  dgates: usize, ldg: i32, dhs: usize, dhpre: usize, lens: usize, stash: usize): void {
  const G = 4 * H, R = P ? P : H;
  const gB = (<usize>B * <usize>G) << 2, cB = (<usize>B * <usize>H) << 2, dgB = (<usize>B * <usize>ldg) << 2;
  const dB = (<usize>B * <usize>lddo) << 2, rB = (<usize>B * <usize>R) << 2;
  // dh0 / dc0 carry ∂L/∂h and ∂L/∂c backwards through time and end up holding their values at t0.
  const dh = dh0, dc = dc0;
  if (dhN) memory.copy(dh, dhN, rB); else memory.fill(dh, 0, rB);
  if (dcN) memory.copy(dc, dcN, cB); else memory.fill(dc, 0, cB);
  for (let s = T - 1; s >= 0; s--) {
    const t = <usize>time_at(s, T, reverse);
    const first = s == 0;
    const tp = <usize>time_at(s - 1, T, reverse);
    const cp = first ? c0 : cs + tp * cB;
    const padded = any_padded(B, lens, <i32>t);
    if (padded) {
      copy_padded_rows(B, R, lens, <i32>t, dh, R, stash, R + H);
      copy_padded_rows(B, H, lens, <i32>t, dc, H, stash + (<usize>R << 2), R + H);
    }
    f32_add_rows(B, R, dout + t * dB, lddo, dh, R);
    let dsrc = dh;
    if (P) {
      memory.copy(dhs + t * rB, dh, rB);
      if (padded) zero_padded_rows(B, P, lens, <i32>t, dhs + t * rB, P);
      f32_gemm_pk(B, H, P, dh, P, pt_hr, dhpre, H, 0);
      dsrc = dhpre;
    }
    const dgt = dgates + t * dgB;
    f32_lstm_step_backward(B, H, gates + t * gB, cs + t * cB, cp, H, dsrc, H, dc, dgt, ldg);
    if (padded) zero_padded_rows(B, G, lens, <i32>t, dgt, ldg);
    f32_gemm_pk(B, R, G, dgt, ldg, pt_hh, dh, R, 0);
    if (padded) {
      copy_padded_rows(B, R, lens, <i32>t, stash, R + H, dh, R);
      copy_padded_rows(B, H, lens, <i32>t, stash + (<usize>R << 2), R + H, dc, H);
    }
  }
  input_grads(T * B, I, G, dgates, ldg, x, ldx, pt_ih, dx, lddx, dw_ih);
  recurrent_grads(T, B, G, R, reverse, dgates, ldg, h0, out, ldo, dw_hh);
  bias_grads(T * B, G, G, dgates, dgates, ldg, db_ih, db_hh);
  if (P) f32_gemm_nn(P, H, T * B, dhs, 1, P, hpre, H, dw_hr, H, 1);
}
