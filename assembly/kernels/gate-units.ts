// The forward gate steps over n hidden units with explicit strides: the bodies of
// f32_lstm_step_forward, f32_gru_step_forward and f32_rnn_step_forward (gates.ts), which call
// them on the (B, G·H) gate rows of a whole step, and of the cells that split one step's gate
// rows across threads (cells/split.ts), which call them on their own units, kept in a
// thread-private layout. One body, so a unit gets the same bits whichever thread computes it and
// wherever its gates are stored. Not exported from the module (assembly/index.ts re-exports
// gates.ts, not this file).
// Strides count floats: gs, the distance between two gate blocks of a row (a row holds the
// blocks one after another, so row b starts at b·(blocks)·gs); ld*, row strides.
import { sigmoid4, tanh4, sigmoid1, tanh1, sigmoid4_open, tanh4_open, sigmoid1_open, tanh1_open } from './math';

/**
 * f32_lstm_step_forward on units 0 … units-1: gates rows of [i | f | g | o] blocks gs apart (in:
 * pre-activations, out: activations), cp (ldcp) in, c (ldc) and h (ldh) out.
 */
export function lstm_units_forward(B: i32, units: i32, gates: usize, gs: i32, cp: usize, ldcp: i32,
                                   c: usize, ldc: i32, h: usize, ldh: i32): void {
  const sg = <usize>gs << 2;
  for (let b = 0; b < B; b++) {
    const g0 = gates + (<usize>b * 4) * sg, g1 = g0 + sg, g2 = g1 + sg, g3 = g2 + sg;
    const pcp = cp + ((<usize>b * <usize>ldcp) << 2), pc = c + ((<usize>b * <usize>ldc) << 2);
    const ph = h + ((<usize>b * <usize>ldh) << 2);
    let j = 0;
    for (; j + 4 <= units; j += 4) {
      const o = <usize>j << 2;
      // i, f, g only feed c (the open forms, see math.ts); o and tanh(c) bound h to [-1, 1].
      const vi = sigmoid4_open(v128.load(g0 + o)), vf = sigmoid4_open(v128.load(g1 + o));
      const vg = tanh4_open(v128.load(g2 + o)), vo = sigmoid4(v128.load(g3 + o));
      v128.store(g0 + o, vi); v128.store(g1 + o, vf); v128.store(g2 + o, vg); v128.store(g3 + o, vo);
      const vc = f32x4.add(f32x4.mul(vf, v128.load(pcp + o)), f32x4.mul(vi, vg));
      v128.store(pc + o, vc);
      v128.store(ph + o, f32x4.mul(vo, tanh4(vc)));
    }
    for (; j < units; j++) {
      const o = <usize>j << 2;
      const vi = sigmoid1_open(load<f32>(g0 + o)), vf = sigmoid1_open(load<f32>(g1 + o));
      const vg = tanh1_open(load<f32>(g2 + o)), vo = sigmoid1(load<f32>(g3 + o));
      store<f32>(g0 + o, vi); store<f32>(g1 + o, vf); store<f32>(g2 + o, vg); store<f32>(g3 + o, vo);
      const vc = vf * load<f32>(pcp + o) + vi * vg;
      store<f32>(pc + o, vc);
      store<f32>(ph + o, vo * tanh1(vc));
    }
  }
}

/**
 * f32_gru_step_forward on units 0 … units-1: gates rows of [r | z | n] input projections gs apart (in;
 * activations out), hg rows of the recurrent products (+ b_hh) hgs apart, hp (ldhp) in, h (ldh)
 * out, hn (ldhn) out (W_hn h + b_hn, for backward).
 */
export function gru_units_forward(B: i32, units: i32, gates: usize, gs: i32, hg: usize, hgs: i32, hp: usize, ldhp: i32,
                                  h: usize, ldh: i32, hn: usize, ldhn: i32): void {
  const sg = <usize>gs << 2, sq = <usize>hgs << 2;
  for (let b = 0; b < B; b++) {
    const g0 = gates + (<usize>b * 3) * sg, g1 = g0 + sg, g2 = g1 + sg;
    const q0 = hg + (<usize>b * 3) * sq, q1 = q0 + sq, q2 = q1 + sq;
    const php = hp + ((<usize>b * <usize>ldhp) << 2), ph = h + ((<usize>b * <usize>ldh) << 2);
    const phn = hn + ((<usize>b * <usize>ldhn) << 2);
    let j = 0;
    for (; j + 4 <= units; j += 4) {
      const o = <usize>j << 2;
      const r = sigmoid4_open(f32x4.add(v128.load(g0 + o), v128.load(q0 + o))); // r only scales h_n
      const z = sigmoid4(f32x4.add(v128.load(g1 + o), v128.load(q1 + o)));
      const vhn = v128.load(q2 + o);
      const n = tanh4(f32x4.add(v128.load(g2 + o), f32x4.mul(r, vhn)));
      v128.store(g0 + o, r); v128.store(g1 + o, z); v128.store(g2 + o, n); v128.store(phn + o, vhn);
      v128.store(ph + o, f32x4.add(n, f32x4.mul(z, f32x4.sub(v128.load(php + o), n))));
    }
    for (; j < units; j++) {
      const o = <usize>j << 2;
      const r = sigmoid1_open(load<f32>(g0 + o) + load<f32>(q0 + o));
      const z = sigmoid1(load<f32>(g1 + o) + load<f32>(q1 + o));
      const vhn = load<f32>(q2 + o);
      const n = tanh1(load<f32>(g2 + o) + r * vhn);
      store<f32>(g0 + o, r); store<f32>(g1 + o, z); store<f32>(g2 + o, n); store<f32>(phn + o, vhn);
      store<f32>(ph + o, n + z * (load<f32>(php + o) - n));
    }
  }
}


/** f32_rnn_step_forward on units 0 … units-1: pre-activations a (lda) in, h (ldh) out. */
export function rnn_units_forward(B: i32, units: i32, a: usize, lda: i32, h: usize, ldh: i32, relu: i32): void {
  const z = f32x4.splat(0);
  for (let b = 0; b < B; b++) {
    const pa = a + ((<usize>b * <usize>lda) << 2), ph = h + ((<usize>b * <usize>ldh) << 2);
    let j = 0;
    for (; j + 4 <= units; j += 4) {
      const o = <usize>j << 2;
      const v = v128.load(pa + o);
      v128.store(ph + o, relu ? f32x4.pmax(v, z) : tanh4(v));
    }
    for (; j < units; j++) {
      const o = <usize>j << 2;
      const v = load<f32>(pa + o);
      store<f32>(ph + o, relu ? max(v, <f32>0) : tanh1(v));
    }
  }
}
