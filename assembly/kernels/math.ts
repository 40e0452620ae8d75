// Nonlinearities on four lanes and on one, shared by the vector and the fused gate kernels.
//
// tanh: the odd rational minimax approximation p(x)/q(x) of degrees 13/6 with x clamped to
// ±LIM (below; where p/q reaches ±1 in f32), coefficients as published in Eigen's
// `generic_fast_tanh_float` (Eigen/src/Core/MathFunctionsImpl.h). Max abs error vs the exact
// tanh, measured over a dense grid in test/kernels.test.ts, is below the bound stated here.
// sigmoid(x) = 0.5 + 0.5·tanh(x/2), so its error is half of tanh's, plus rounding.
// The output is clamped to [-1, 1] so that sigmoid is never negative.
//
// V8 re-materialises f32x4.splat(constant) inside hot loops (measured: a ~1.5x slower peak), so the coefficients
// live in memory and are read with one load32_splat each, the lower clamps included (no negation).
// The clamps use the pseudo-min/max f32x4.pmin/pmax (b < a ? b : a and a < b ? b : a: one minps /
// maxps on x64) rather than f32x4.min/max, whose IEEE NaN and ±0 rules V8 emits as a sequence of
// about eight instructions: that made the LSTM gate kernel twice as slow (0.15 → 0.075 ms per
// 100 steps of 128 units). With x as the first operand a NaN input still comes out NaN.

// Stated bounds (tested): |tanh error| ≤ 4.2e-7, |sigmoid error| ≤ 3e-7.

import { madd } from './simd';

// The input clamp: where p/q reaches 1 in f32, 7.90531110763549805 with separate multiplies and
// adds (Eigen's value); with fused multiply-adds p/q is still 1 - 2.4e-7 there and reaches 1 at 9,
// so the relaxed build clamps at 9 (same maximum error, 2.7e-7 measured; tanh(±∞) = ±1 exactly).
const LIM: f32 = ASC_FEATURE_RELAXED_SIMD ? 9.0 : 7.90531110763549805;

const K: usize = memory.data<f32>([
  LIM,                                         // 0: clamp
  -2.76076847742355e-16, 2.00018790482477e-13, // 1, 2: alpha 13, 11
  -8.60467152213735e-11, 5.12229709037114e-08, // 3, 4: alpha 9, 7
  1.48572235717979e-05, 6.37261928875436e-04,  // 5, 6: alpha 5, 3
  4.89352455891786e-03,                        // 7: alpha 1
  1.19825839466702e-06, 1.18534705686654e-04,  // 8, 9: beta 6, 4
  2.26843463243900e-03, 4.89352518554385e-03,  // 10, 11: beta 2, 0
  0.5, 1.0,                                    // 12, 13
  -LIM, -1.0,                                  // 14, 15: the lower clamps (a load, not a negation)
], 16);

@inline function c4(i: usize): v128 { return v128.load32_splat(K + (i << 2)); }

/** tanh of four lanes. */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  return f32x4.pmin(f32x4.pmax(tanh4_open(x), c4(15)), c4(13));
}

/**
 * tanh4 without the clamp of its output to [-1, 1], which the rational form can pass by an ulp
 * near saturation: for values that stay inside a cell (the LSTM's i, f, g; the GRU's r), where
 * the two pmin/pmax of every call are ~12% of the gate step (FP ports are its bound). What
 * users see (h, the layer outputs) keeps the clamped forms.
 */
// @ts-ignore: decorator
@inline export function tanh4_open(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, c4(14)), c4(0));
  const x2 = f32x4.mul(x, x);
  let p = madd(x2, c4(1), c4(2));
  p = madd(p, x2, c4(3));
  p = madd(p, x2, c4(4));
  p = madd(p, x2, c4(5));
  p = madd(p, x2, c4(6));
  p = madd(p, x2, c4(7));
  p = f32x4.mul(p, x);
  let q = madd(x2, c4(8), c4(9));
  q = madd(q, x2, c4(10));
  q = madd(q, x2, c4(11));
  return f32x4.div(p, q);
}

/** sigmoid of four lanes: 0.5 + 0.5·tanh(0.5·x). */
// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  const h = c4(12);
  return madd(h, tanh4(f32x4.mul(h, x)), h);
}

/** sigmoid4 through tanh4_open: may leave [0, 1] by an ulp (see tanh4_open). */
// @ts-ignore: decorator
@inline export function sigmoid4_open(x: v128): v128 {
  const h = c4(12);
  return madd(h, tanh4_open(f32x4.mul(h, x)), h);
}

/**
 * Scalar forms (the < 4 leftovers): lane 0 of the vector code, so a tail element gets exactly
 * the bits it would get inside a vector, in both builds (the relaxed build fuses the lanes'
 * multiply-adds).
 */
// @ts-ignore: decorator
@inline export function tanh1(x: f32): f32 {
  return f32x4.extract_lane(tanh4(f32x4.splat(x)), 0);
}

// @ts-ignore: decorator
@inline export function sigmoid1(x: f32): f32 {
  return f32x4.extract_lane(sigmoid4(f32x4.splat(x)), 0);
}

// @ts-ignore: decorator
@inline export function tanh1_open(x: f32): f32 {
  return f32x4.extract_lane(tanh4_open(f32x4.splat(x)), 0);
}

// @ts-ignore: decorator
@inline export function sigmoid1_open(x: f32): f32 {
  return f32x4.extract_lane(sigmoid4_open(f32x4.splat(x)), 0);
}
