// Fused per-step gate kernels: the elementwise part of one time step for B rows at once.
// They know the gate equations but not layers, weights or time; the cells call them.
// Key: B batch rows, H hidden units; gate blocks are laid out as in PyTorch, row b of a
// gate buffer holds [i | f | g | o] (LSTM) or [r | z | n] (GRU), each H wide.
import { tanh4, tanh1 } from './math';
import { lstm_units_forward, gru_units_forward, rnn_units_forward } from './gate-units';

/**
 * LSTM step, forward (Hochreiter & Schmidhuber 1997, forget gate per Gers et al. 2000):
 *   i, f, o = σ(·), g = tanh(·), c = f ⊙ c_prev + i ⊙ g, h = o ⊙ tanh(c).
 * gates (B,4H): pre-activations in, activations out. cp: c_prev rows, stride ldcp.
 * c (B,H) out. h rows out, stride ldh.
 */
export function f32_lstm_step_forward(B: i32, H: i32, gates: usize, cp: usize, ldcp: i32,
                                      c: usize, h: usize, ldh: i32): void {
  lstm_units_forward(B, H, gates, H, cp, ldcp, c, H, h, ldh);
}

/**
 * LSTM step, backward. gates (B,4H) activations, c (B,H) = c_t, cp = c_{t-1} rows (ldcp),
 * dh rows (ldd) = ∂L/∂h_t (before projection), dc (B,H): ∂L/∂c_t from step t+1 in, ∂L/∂c_{t-1}
 * out. dgates (B,4H) out: gradients of the gate pre-activations.
 */
export function f32_lstm_step_backward(B: i32, H: i32, gates: usize, c: usize, cp: usize, ldcp: i32,
                                       dh: usize, ldd: i32, dc: usize, dgates: usize, lddg: i32): void {
  const sh = <usize>H << 2;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const g0 = gates + (<usize>b * 4) * sh, g1 = g0 + sh, g2 = g1 + sh, g3 = g2 + sh;
    const d0 = dgates + ((<usize>b * <usize>lddg) << 2), d1 = d0 + sh, d2 = d1 + sh, d3 = d2 + sh;
    const pc = c + <usize>b * sh, pdc = dc + <usize>b * sh;
    const pcp = cp + ((<usize>b * <usize>ldcp) << 2), pdh = dh + ((<usize>b * <usize>ldd) << 2);
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      const vi = v128.load(g0 + o), vf = v128.load(g1 + o), vg = v128.load(g2 + o), vo = v128.load(g3 + o);
      const vdh = v128.load(pdh + o);
      const tc = tanh4(v128.load(pc + o));
      const dct = f32x4.add(v128.load(pdc + o),
                            f32x4.mul(f32x4.mul(vdh, vo), f32x4.sub(one, f32x4.mul(tc, tc))));
      v128.store(pdc + o, f32x4.mul(dct, vf));
      v128.store(d0 + o, f32x4.mul(f32x4.mul(dct, vg), f32x4.mul(vi, f32x4.sub(one, vi))));
      v128.store(d1 + o, f32x4.mul(f32x4.mul(dct, v128.load(pcp + o)), f32x4.mul(vf, f32x4.sub(one, vf))));
      v128.store(d2 + o, f32x4.mul(f32x4.mul(dct, vi), f32x4.sub(one, f32x4.mul(vg, vg))));
      v128.store(d3 + o, f32x4.mul(f32x4.mul(vdh, tc), f32x4.mul(vo, f32x4.sub(one, vo))));
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      const vi = load<f32>(g0 + o), vf = load<f32>(g1 + o), vg = load<f32>(g2 + o), vo = load<f32>(g3 + o);
      const vdh = load<f32>(pdh + o);
      const tc = tanh1(load<f32>(pc + o));
      const dct = load<f32>(pdc + o) + vdh * vo * (<f32>1 - tc * tc);
      store<f32>(pdc + o, dct * vf);
      store<f32>(d0 + o, dct * vg * (vi * (<f32>1 - vi)));
      store<f32>(d1 + o, dct * load<f32>(pcp + o) * (vf * (<f32>1 - vf)));
      store<f32>(d2 + o, dct * vi * (<f32>1 - vg * vg));
      store<f32>(d3 + o, vdh * tc * (vo * (<f32>1 - vo)));
    }
  }
}

/**
 * GRU step, forward (Cho et al. 2014, PyTorch's form with the reset gate applied after W_hn):
 *   r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r ⊙ h_n), h = (1 - z) ⊙ n + z ⊙ h_prev,
 * where x_* = W_i* x + b_i* (gates in, (B,3H)) and h_* = W_h* h_prev + b_h* (hg in, (B,3H)).
 * gates is overwritten with r, z, n; hn (B,H) saves h_n for backward; h rows out (ldh).
 */
export function f32_gru_step_forward(B: i32, H: i32, gates: usize, hg: usize, hp: usize, ldhp: i32,
                                     h: usize, ldh: i32, hn: usize): void {
  gru_units_forward(B, H, gates, H, hg, H, hp, ldhp, h, ldh, hn, H);
}

/**
 * GRU step, backward. gates (B,3H) = r, z, n; hn (B,H); hp = h_prev rows (ldhp).
 * dh (B,H): ∂L/∂h_t in, the direct part z ⊙ dh out (the caller adds dGh · W_hh).
 * dgx (B,3H) out: gradients of x_r, x_z, x_n; dgh (B,3H) out: of h_r, h_z, h_n.
 */
export function f32_gru_step_backward(B: i32, H: i32, gates: usize, hn: usize, hp: usize, ldhp: i32,
                                      dh: usize, dgx: usize, dgh: usize, lddg: i32): void {
  const sh = <usize>H << 2;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const g0 = gates + (<usize>b * 3) * sh, g1 = g0 + sh, g2 = g1 + sh;
    const x0 = dgx + ((<usize>b * <usize>lddg) << 2), x1 = x0 + sh, x2 = x1 + sh;
    const y0 = dgh + ((<usize>b * <usize>lddg) << 2), y1 = y0 + sh, y2 = y1 + sh;
    const php = hp + ((<usize>b * <usize>ldhp) << 2), phn = hn + <usize>b * sh, pdh = dh + <usize>b * sh;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      const r = v128.load(g0 + o), z = v128.load(g1 + o), n = v128.load(g2 + o);
      const d = v128.load(pdh + o);
      const dn = f32x4.mul(f32x4.mul(d, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
      const dz = f32x4.mul(f32x4.mul(d, f32x4.sub(v128.load(php + o), n)), f32x4.mul(z, f32x4.sub(one, z)));
      const dr = f32x4.mul(f32x4.mul(dn, v128.load(phn + o)), f32x4.mul(r, f32x4.sub(one, r)));
      v128.store(x0 + o, dr); v128.store(x1 + o, dz); v128.store(x2 + o, dn);
      v128.store(y0 + o, dr); v128.store(y1 + o, dz); v128.store(y2 + o, f32x4.mul(dn, r));
      v128.store(pdh + o, f32x4.mul(d, z));
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      const r = load<f32>(g0 + o), z = load<f32>(g1 + o), n = load<f32>(g2 + o);
      const d = load<f32>(pdh + o);
      const dn = d * (<f32>1 - z) * (<f32>1 - n * n);
      const dz = d * (load<f32>(php + o) - n) * (z * (<f32>1 - z));
      const dr = dn * load<f32>(phn + o) * (r * (<f32>1 - r));
      store<f32>(x0 + o, dr); store<f32>(x1 + o, dz); store<f32>(x2 + o, dn);
      store<f32>(y0 + o, dr); store<f32>(y1 + o, dz); store<f32>(y2 + o, dn * r);
      store<f32>(pdh + o, d * z);
    }
  }
}

/** Elman step, forward: h = act(a) for B rows; a (B,H) pre-activations, h rows out (ldh). */
export function f32_rnn_step_forward(B: i32, H: i32, a: usize, h: usize, ldh: i32, relu: i32): void {
  rnn_units_forward(B, H, a, H, h, ldh, relu);
}

/** Elman step, backward: da = dh ⊙ act'(·) from the saved output h: 1 - h² (tanh), [h > 0] (relu). */
export function f32_rnn_step_backward(B: i32, H: i32, h: usize, ldh: i32, dh: usize, da: usize, ldda: i32, relu: i32): void {
  const sh = <usize>H << 2;
  const one = f32x4.splat(1), z = f32x4.splat(0);
  for (let b = 0; b < B; b++) {
    const ph = h + ((<usize>b * <usize>ldh) << 2), pd = dh + <usize>b * sh, pa = da + ((<usize>b * <usize>ldda) << 2);
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      const v = v128.load(ph + o), d = v128.load(pd + o);
      v128.store(pa + o, relu ? v128.and(d, f32x4.gt(v, z)) : f32x4.mul(d, f32x4.sub(one, f32x4.mul(v, v))));
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      const v = load<f32>(ph + o), d = load<f32>(pd + o);
      store<f32>(pa + o, relu ? (v > 0 ? d : <f32>0) : d * (<f32>1 - v * v));
    }
  }
}
