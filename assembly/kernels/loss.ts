// Loss kernels: fused softmax cross-entropy, mean squared error, binary cross-entropy with
// logits. Each returns its (weighted) loss SUM as f64 and writes the unnormalised gradient; the
// host divides by the reduction's denominator (which for weighted CE is only known afterwards).
// Sums run in f64 (two f64x2 accumulators per vector), so they do not drift with n.
//
// Key: N rows, C classes (columns), n elements; strides count f32 elements.
//
// exp (only for x ≤ 0 here): Cody–Waite reduction x = k·ln2 + r, |r| ≤ ln2/2, e^r by its
// degree-7 Taylor polynomial (truncation ≤ (ln2/2)^8/8! · e^(ln2/2) / e^(−ln2/2) < 1.1e-8 relative), times 2^k
// put together in the exponent bits. Below -87.3 (where 2^k would leave the normal range) the
// result is exactly 0 (the true value is < 1.2e-38 there); NaN stays NaN. Measured in test/loss.test.ts:
// softmax probabilities within 3e-7 relative (+1e-30 absolute) of float64.
// log1p(e) for e ∈ [0, 1]: 2·atanh(s) with s = e/(2+e) ∈ [0, 1/3], odd series through s^13
// (truncation < 2·(1/3)^15/15 · 9/8 < 1.1e-8).
//
// Tails (< 4 elements) go through the same vector arithmetic: the leftover lanes are filled with
// values that contribute exactly nothing (−∞ to a max; 0, 0 to MSE; x = 1e30, y = 1 to BCE, whose
// loss max(x,0) − x·y + log1p(e^−|x|) is then 1e30 − 1e30 + 0 = 0 exactly), and only the real
// lanes are stored.

import { load_lanes, store_lanes } from './simd';

const K: usize = memory.data<f32>([
  -87.33654475,                               // 0: lowest x with a normal 2^k
  1.44269504088896341,                        // 1: log2(e)
  0.693359375, -2.12194440e-4,                // 2, 3: ln2 = hi + lo, hi with 9 bits (k·hi exact)
  1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, // 4..7: Taylor coefficients 1/7! … 1/4!
  1.0 / 6, 0.5, 1.0,                          // 8..10: 1/3!, 1/2!, 1/1! (= 1/0!)
  1.0 / 13, 1.0 / 11, 1.0 / 9, 1.0 / 7,       // 11..14: atanh series 1/13 … 1/7
  1.0 / 5, 1.0 / 3, 2.0, 0.0,                 // 15..18
], 16);

@inline function c4(i: usize): v128 { return v128.load32_splat(K + (i << 2)); }

/** e^x on four lanes, x ≤ 0 (see the top of the file). */
// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  const lo = c4(0);
  const keep = v128.not(f32x4.lt(x, lo)); // all but x < lo: a NaN is kept, and comes out NaN
  x = f32x4.pmax(x, lo); // one maxps (see math.ts); NaN, as the first operand, stays NaN
  const kf = f32x4.nearest(f32x4.mul(x, c4(1)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(kf, c4(2))), f32x4.mul(kf, c4(3)));
  let p = f32x4.add(f32x4.mul(c4(4), r), c4(5));
  p = f32x4.add(f32x4.mul(p, r), c4(6));
  p = f32x4.add(f32x4.mul(p, r), c4(7));
  p = f32x4.add(f32x4.mul(p, r), c4(8));
  p = f32x4.add(f32x4.mul(p, r), c4(9));
  p = f32x4.add(f32x4.mul(p, r), c4(10));
  p = f32x4.add(f32x4.mul(p, r), c4(10));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(kf), i32x4.splat(127)), 23);
  return v128.and(f32x4.mul(p, scale), keep);
}

/** log(1 + e) on four lanes, e ∈ [0, 1]. */
// @ts-ignore: decorator
@inline function log1p4(e: v128): v128 {
  const s = f32x4.div(e, f32x4.add(e, c4(17)));
  const s2 = f32x4.mul(s, s);
  let q = f32x4.add(f32x4.mul(c4(11), s2), c4(12));
  q = f32x4.add(f32x4.mul(q, s2), c4(13));
  q = f32x4.add(f32x4.mul(q, s2), c4(14));
  q = f32x4.add(f32x4.mul(q, s2), c4(15));
  q = f32x4.add(f32x4.mul(q, s2), c4(16));
  q = f32x4.add(f32x4.mul(q, s2), c4(10));
  return f32x4.mul(f32x4.mul(c4(17), s), q);
}

@inline function hi2(v: v128): v128 { return f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)); }
@inline function lo2(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
@inline function hsum2(a: v128, b: v128): f64 {
  const s = f64x2.add(a, b);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/**
 * Softmax cross-entropy over N rows of C logits, fused and stable (log-sum-exp after
 * subtracting the row max m):  ℓ_i = w_{t_i} · (log Σ_j e^{x_ij − m} + m − x_{i,t_i}),
 * dx_i = w_{t_i} · (softmax(x_i) − onehot(t_i)).
 * t: N i32 class ids, each in [0, C) or == ignore (that row: no loss, dx row = 0). w: C class
 * weights, or 0 for all ones. Returns Σ ℓ_i; writes Σ w_{t_i} over non-ignored rows (f64) at
 * wsum. dx may alias x (same stride).
 */
export function f32_softmax_xent(N: i32, C: i32, x: usize, ldx: i32, t: usize, w: usize, ignore: i32,
                                 dx: usize, lddx: i32, wsum: usize): f64 {
  const C4 = C & ~3, rem = C - C4, tail = <usize>C4 << 2;
  let loss: f64 = 0, wtot: f64 = 0;
  for (let i = 0; i < N; i++) {
    const px = x + ((<usize>i * <usize>ldx) << 2), pd = dx + ((<usize>i * <usize>lddx) << 2);
    const ti = load<i32>(t + (<usize>i << 2));
    if (ti == ignore) {
      memory.fill(pd, 0, <usize>C << 2);
      continue;
    }
    const xt = load<f32>(px + (<usize>ti << 2));                 // before dx (may alias x) is written
    // The row max through pmax (one maxps; f32x4.max is ~8 instructions in V8, see math.ts): a
    // NaN logit may be skipped here, but its own e^(x−m) is NaN (exp4 keeps NaN), so the sum,
    // the loss and the whole row of dx are NaN all the same.
    let vm = f32x4.splat(-Infinity);
    for (let j = 0; j < C4; j += 4) vm = f32x4.pmax(v128.load(px + (<usize>j << 2)), vm);
    if (rem) vm = f32x4.pmax(load_lanes(px + tail, rem, -Infinity), vm);
    const m = max(max(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)),
                  max(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)));
    const vmax = f32x4.splat(m);
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
    for (let j = 0; j < C4; j += 4) {
      const o = <usize>j << 2;
      const e = exp4(f32x4.sub(v128.load(px + o), vmax));
      v128.store(pd + o, e);
      s0 = f64x2.add(s0, lo2(e)); s1 = f64x2.add(s1, hi2(e));
    }
    let s = hsum2(s0, s1);
    if (rem) {
      const e = exp4(f32x4.sub(load_lanes(px + tail, rem, -Infinity), vmax));
      store_lanes(pd + tail, e, rem);
      s += <f64>f32x4.extract_lane(e, 0);
      if (rem > 1) s += <f64>f32x4.extract_lane(e, 1);
      if (rem > 2) s += <f64>f32x4.extract_lane(e, 2);
    }
    const wt: f32 = w ? load<f32>(w + (<usize>ti << 2)) : 1;
    const vscale = f32x4.splat(<f32>(<f64>wt / s));
    for (let j = 0; j < C4; j += 4) {
      const o = <usize>j << 2;
      v128.store(pd + o, f32x4.mul(v128.load(pd + o), vscale));
    }
    if (rem) store_lanes(pd + tail, f32x4.mul(load_lanes(pd + tail, rem), vscale), rem);
    const pt = pd + (<usize>ti << 2);
    store<f32>(pt, load<f32>(pt) - wt);
    loss += <f64>wt * (Math.log(s) + (<f64>m - <f64>xt));
    wtot += <f64>wt;
  }
  store<f64>(wsum, wtot);
  return loss;
}

/** (x − y)² on four lanes, summed pairwise in f64; stores 2(x − y) in the first `lanes` (4, or 1…3 at the tail). */
// @ts-ignore: decorator
@inline function mse4(vx: v128, vy: v128, pd: usize, lanes: i32): v128 {
  const g = f32x4.mul(c4(17), f32x4.sub(vx, vy));
  store_lanes(pd, g, lanes);
  const d0 = f64x2.sub(lo2(vx), lo2(vy)), d1 = f64x2.sub(hi2(vx), hi2(vy));
  return f64x2.add(f64x2.mul(d0, d0), f64x2.mul(d1, d1));
}

/** Σ (x − y)² over n elements (f64); dx = 2(x − y). dx may alias x or y. */
export function f32_mse(n: i32, x: usize, y: usize, dx: usize): f64 {
  const n4 = n & ~3, rem = n - n4, tail = <usize>n4 << 2;
  let s = f64x2.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    s = f64x2.add(s, mse4(v128.load(x + o), v128.load(y + o), dx + o, 4));
  }
  if (rem) s = f64x2.add(s, mse4(load_lanes(x + tail, rem), load_lanes(y + tail, rem), dx + tail, rem));
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** BCE-with-logits loss of four lanes, summed pairwise in f64; stores σ(x) − y in the first `lanes`. */
// @ts-ignore: decorator
@inline function bce4(vx: v128, vy: v128, pd: usize, lanes: i32): v128 {
  const one = c4(10);
  const e = exp4(f32x4.neg(f32x4.abs(vx)));
  const inv = f32x4.div(one, f32x4.add(one, e));
  const g = f32x4.sub(v128.bitselect(inv, f32x4.mul(e, inv), f32x4.ge(vx, c4(18))), vy);
  store_lanes(pd, g, lanes);
  const l = log1p4(e), zero = f64x2.splat(0);
  const x0 = lo2(vx), x1 = hi2(vx);
  const l0 = f64x2.add(f64x2.sub(f64x2.pmax(x0, zero), f64x2.mul(x0, lo2(vy))), lo2(l)); // pmax: NaN x stays NaN
  const l1 = f64x2.add(f64x2.sub(f64x2.pmax(x1, zero), f64x2.mul(x1, hi2(vy))), hi2(l));
  return f64x2.add(l0, l1);
}

/**
 * Binary cross-entropy with logits, in the stable form
 *   ℓ = max(x, 0) − x·y + log(1 + e^{−|x|}),   dℓ/dx = σ(x) − y,
 * with σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0, e = e^{−|x|} (one exp for both).
 * The linear part is computed in f64 (exact for f32 inputs). Returns Σ ℓ; dx may alias x or y.
 */
export function f32_bce_logits(n: i32, x: usize, y: usize, dx: usize): f64 {
  const n4 = n & ~3, rem = n - n4, tail = <usize>n4 << 2;
  let s = f64x2.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    s = f64x2.add(s, bce4(v128.load(x + o), v128.load(y + o), dx + o, 4));
  }
  if (rem) s = f64x2.add(s, bce4(load_lanes(x + tail, rem, 1e30), load_lanes(y + tail, rem, 1), dx + tail, rem));
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}
