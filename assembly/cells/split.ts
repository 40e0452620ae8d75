// One layer's forward (LSTM, GRU, Elman) with the gate rows of every step split across threads:
// for batches too small to split by sequences (batch 1 above all), where each step is one
// matrix-vector product that no single core finishes fast enough. Every thread runs the same call with its
// own range of hidden units [j0, j1): it computes the input projection and the recurrent
// product for the gate rows of those units (rows q·H + j of each gate block q), finishes the
// gate step for them, writes its part of h_t and c_t, and meets the others at a barrier before
// the next step, which reads all of h_t. Each thread streams only its share of W_hh, so twice
// the cores also hold twice as much of it in their caches.
//
// The outputs and saved gates are the same bits as lstm / gru / rnn_seq_forward: every
// element is computed by the same kernels in the same order, only by another thread.
//
// Each thread keeps its units' gates (and the GRU's h_n and per-step recurrent products, the
// Elman RNN's pre-activations) in its own part of `priv`, laid out [t][b][block][unit], not in
// the shared (T, B, G·H) rows: there, the two threads' units alternate every few cache lines,
// and writing them every step made each core fetch lines the other's prefetcher had pulled in,
// a round trip the per-step barrier then waited for (W1 on 2 threads: 340 → 305 µs of kernel
// time without those writes). The parts are copied into the shared layout only if a backward
// needs them (lstm_split_saved / gru_split_saved below, called by Recurrent.backward; the sizes
// per unit are mirrored by privPerUnit in src/nn/recurrent.ts); h_t and c_t are still written
// where the others read them.
// Restrictions (the caller checks them): H and j0, j1 multiples of 16 (the packed panels of
// W_ih, W_hh hold 16 rows, and a thread's rows of each gate block must be whole panels); no
// projection (LSTMP), no per-row lengths: the arguments of lstm / gru / rnn_seq_forward come
// first, the same list (P, pw_hr, hpre, lens, and the shared gates / hn / hg / pre, unused; P and
// lens 0), then priv and the thread's share.
// Key as in lstm.ts; priv: the layer's private region (its size per unit is given with each
// kernel), the part of units [j0, j1) starting at that size × j0; bar: the barrier's i32 (see
// split_barrier), zeroed by the caller before each call and shared by the n threads of the
// call; abort: the pool's abort word (a call whose partner failed returns early, its outputs
// undefined).
import { f32_gemm_pk, gemm_pk_bias } from '../kernels/gemm-packed';
import { lstm_units_forward, gru_units_forward, rnn_units_forward } from '../kernels/gate-units';
import { f32_copy_rows } from '../kernels/elementwise';
import { time_at } from './common';

/**
 * Wait until all n threads have arrived: a ticket barrier on the i32 at bar, which counts the
 * arrivals of the whole call (the caller zeroes it before each call, when no thread is in it).
 * Each thread adds itself and spins until the count reaches the next multiple of n, or until
 * the i32 at abort is set (another thread's kernel failed: the pool sets it, see
 * src/engine/pool.ts), when it returns false and the call gives up. One atomic read-modify-write
 * per thread and barrier, nothing to reset (with a generation-counting barrier, whose last
 * thread also stored the count and the generation back, a GRU 32→128 forward at batch 1, T 100
 * on 2 threads took 3–5% longer; an LSTM of that size about the same). Only
 * spinning, never memory.atomic.wait: in V8 11.3 (Node 20) a thread that blocked there in its
 * first calls sometimes left the barrier before the others had arrived (outputs wrong from one
 * step on; found under CPU contention, 5–8 in 20 fresh processes with a 10-spin threshold, none
 * with spinning alone). A step takes microseconds; a stalled partner costs its spinner that
 * stall's time. Single-threaded builds have no atomics and never run with n > 1.
 */
function split_barrier(bar: usize, n: i32, abort: usize): bool {
  if (!ASC_FEATURE_THREADS || n <= 1) return true;
  const ticket = <u32>atomic.add<i32>(bar, 1), target = ticket - ticket % <u32>n + <u32>n;
  while (<u32>atomic.load<i32>(bar) < target) {
    if (atomic.load<i32>(abort)) return false;
  }
  return true;
}

/**
 * Read one value from every cache line of rows h (B rows of H floats, stride ldh), all loads
 * independent, and return their xor: right after the barrier, the other threads' parts of h_t
 * sit in their cores' caches, and these loads bring them over at once instead of one miss at a
 * time inside the next product (W1 and W4 on 2 threads 1.5–2% faster). The caller stores the
 * result where it is overwritten later (its own columns of hN), so that the loads stay.
 */
// @ts-ignore: decorator
@inline function pull_rows(B: i32, H: i32, h: usize, ldh: i32): v128 {
  let v = v128.splat<i32>(0);
  for (let b = 0; b < B; b++) {
    const p = h + ((<usize>b * <usize>ldh) << 2);
    for (let j = 0; j < H; j += 16) v = v128.xor(v, v128.load(p + (<usize>j << 2)));
  }
  return v;
}

/** Bytes from the start of a packed matrix (K reductions) to the panel holding row r (r % 16 = 0). */
// @ts-ignore: decorator
@inline function panel_at(r: i32, K: i32): usize {
  return <usize>(r >> 4) * <usize>K << 6;
}

/**
 * lstm_seq_forward (P = 0, no lengths) for hidden units [j0, j1); see above. Private part:
 * gates [T][B][4][w], 4·T·B floats per unit. cs (T,B,H), out rows (ldo), hN (B,H), cN (B,H):
 * each thread writes its columns.
 */
export function lstm_seq_forward_split(T: i32, B: i32, I: i32, H: i32, P: i32, reverse: i32,
                                       x: usize, ldx: i32, pw_ih: usize, pw_hh: usize, b_ih: usize, b_hh: usize,
                                       pw_hr: usize, h0: usize, c0: usize, out: usize, ldo: i32, hN: usize, cN: usize,
                                       gates: usize, cs: usize, hpre: usize, lens: usize, priv: usize, j0: i32, j1: i32,
                                       bar: usize, n: i32, abort: usize): void {
  const w = j1 - j0, wb = <usize>w << 2, o = <usize>j0 << 2;
  const pg = priv + ((<usize>T * <usize>B * 4 * <usize>j0) << 2);
  const pB = <usize>B * 4 * wb, cB = (<usize>B * <usize>H) << 2, oB = (<usize>B * <usize>ldo) << 2;
  for (let q = 0; q < 4; q++) {
    const r = q * H + j0, rb = <usize>r << 2;
    gemm_pk_bias(T * B, w, I, x, ldx, pw_ih + panel_at(r, I), pg + <usize>q * wb, 4 * w, 0, b_ih ? b_ih + rb : 0, b_hh ? b_hh + rb : 0);
  }
  let hp = h0, ldhp = H, cp = c0 + o;
  for (let s = 0; s < T; s++) {
    const t = <usize>time_at(s, T, reverse);
    const gt = pg + t * pB, ct = cs + t * cB + o, ot = out + t * oB;
    for (let q = 0; q < 4; q++) f32_gemm_pk(B, w, H, hp, ldhp, pw_hh + panel_at(q * H + j0, H), gt + <usize>q * wb, 4 * w, 1);
    lstm_units_forward(B, w, gt, w, cp, H, ct, H, ot + o, ldo);
    if (!split_barrier(bar, n, abort)) return;
    v128.store(hN + o, pull_rows(B, H, ot, ldo)); // see pull_rows
    hp = ot; ldhp = ldo; cp = ct;
  }
  f32_copy_rows(B, w, hp + o, ldhp, hN + o, H);
  f32_copy_rows(B, w, cp, H, cN + o, H);
}

/**
 * gru_seq_forward (no lengths) for hidden units [j0, j1); see above. Private part: gates
 * [T][B][3][w], then h_n [T][B][w], then the step's recurrent products [B][3][w]: 4·T·B + 3·B
 * floats per unit.
 */
export function gru_seq_forward_split(T: i32, B: i32, I: i32, H: i32, reverse: i32,
                                      x: usize, ldx: i32, pw_ih: usize, pw_hh: usize, b_ih: usize, b_hh: usize,
                                      h0: usize, out: usize, ldo: i32, hN: usize,
                                      gates: usize, hn: usize, hg: usize, lens: usize, priv: usize, j0: i32, j1: i32,
                                      bar: usize, n: i32, abort: usize): void {
  const w = j1 - j0, wb = <usize>w << 2, o = <usize>j0 << 2, TB = <usize>T * <usize>B;
  const pg = priv + (((4 * TB + 3 * <usize>B) * <usize>j0) << 2), phn = pg + TB * 3 * wb, phg = phn + TB * wb;
  const pB = <usize>B * 3 * wb, nB = <usize>B * wb, oB = (<usize>B * <usize>ldo) << 2;
  for (let q = 0; q < 3; q++) {
    const r = q * H + j0, rb = <usize>r << 2;
    gemm_pk_bias(T * B, w, I, x, ldx, pw_ih + panel_at(r, I), pg + <usize>q * wb, 3 * w, 0, b_ih ? b_ih + rb : 0, 0);
  }
  let hp = h0, ldhp = H;
  for (let s = 0; s < T; s++) {
    const t = <usize>time_at(s, T, reverse);
    const ot = out + t * oB;
    for (let q = 0; q < 3; q++) {
      const r = q * H + j0, rb = <usize>r << 2;
      gemm_pk_bias(B, w, H, hp, ldhp, pw_hh + panel_at(r, H), phg + <usize>q * wb, 3 * w, 0, b_hh ? b_hh + rb : 0, 0);
    }
    gru_units_forward(B, w, pg + t * pB, w, phg, w, hp + o, ldhp, ot + o, ldo, phn + t * nB, w);
    if (!split_barrier(bar, n, abort)) return;
    v128.store(hN + o, pull_rows(B, H, ot, ldo)); // see pull_rows
    hp = ot; ldhp = ldo;
  }
  f32_copy_rows(B, w, hp + o, ldhp, hN + o, H);
}

/** rnn_seq_forward (no lengths) for hidden units [j0, j1); see above. Private part: pre [T][B][w], T·B floats per unit. */
export function rnn_seq_forward_split(T: i32, B: i32, I: i32, H: i32, reverse: i32, relu: i32,
                                      x: usize, ldx: i32, pw_ih: usize, pw_hh: usize, b_ih: usize, b_hh: usize,
                                      h0: usize, out: usize, ldo: i32, hN: usize, pre: usize, lens: usize, priv: usize, j0: i32, j1: i32,
                                      bar: usize, n: i32, abort: usize): void {
  const w = j1 - j0, wb = <usize>w << 2, jb = <usize>j0 << 2;
  const pp = priv + ((<usize>T * <usize>B * <usize>j0) << 2), pB = <usize>B * wb, oB = (<usize>B * <usize>ldo) << 2;
  gemm_pk_bias(T * B, w, I, x, ldx, pw_ih + panel_at(j0, I), pp, w, 0, b_ih ? b_ih + jb : 0, b_hh ? b_hh + jb : 0);
  let hp = h0, ldhp = H;
  for (let s = 0; s < T; s++) {
    const t = <usize>time_at(s, T, reverse);
    const at = pp + t * pB, ot = out + t * oB;
    f32_gemm_pk(B, w, H, hp, ldhp, pw_hh + panel_at(j0, H), at, w, 1);
    rnn_units_forward(B, w, at, w, ot + jb, ldo, relu);
    if (!split_barrier(bar, n, abort)) return;
    v128.store(hN + jb, pull_rows(B, H, ot, ldo)); // see pull_rows
    hp = ot; ldhp = ldo;
  }
  f32_copy_rows(B, w, hp + jb, ldhp, hN + jb, H);
}

/**
 * After lstm_seq_forward_split: copy the activations of units [j0, j1) from their private part
 * into gates (T,B,4H), the layout lstm_seq_backward reads.
 */
export function lstm_split_saved(T: i32, B: i32, H: i32, priv: usize, j0: i32, j1: i32, gates: usize): void {
  const w = j1 - j0, pg = priv + ((<usize>T * <usize>B * 4 * <usize>j0) << 2);
  for (let q = 0; q < 4; q++) f32_copy_rows(T * B, w, pg + ((<usize>(q * w)) << 2), 4 * w, gates + (<usize>(q * H + j0) << 2), 4 * H);
}

/**
 * After gru_seq_forward_split: copy the activations and h_n of units [j0, j1) from their
 * private part into gates (T,B,3H) and hn (T,B,H), the layout gru_seq_backward reads.
 */
export function gru_split_saved(T: i32, B: i32, H: i32, priv: usize, j0: i32, j1: i32, gates: usize, hn: usize): void {
  const w = j1 - j0, TB = <usize>T * <usize>B, pg = priv + (((4 * TB + 3 * <usize>B) * <usize>j0) << 2);
  for (let q = 0; q < 3; q++) f32_copy_rows(T * B, w, pg + ((<usize>(q * w)) << 2), 3 * w, gates + (<usize>(q * H + j0) << 2), 3 * H);
  f32_copy_rows(T * B, w, pg + ((TB * 3 * <usize>w) << 2), w, hn + (<usize>j0 << 2), H);
}
