// Nonlinearities on four lanes and on one, shared by the vector and the fused gate kernels.
//
// tanh: the odd rational minimax approximation p(x)/q(x) of degrees 13/6 with x clamped to
// ±7.90531110763549805 (where it reaches ±1 in f32), coefficients as published in Eigen's
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

const K: usize = memory.data<f32>([
  7.90531110763549805,                        // 0: clamp
  -2.76076847742355e-16, 2.00018790482477e-13, // 1, 2: alpha 13, 11
  -8.60467152213735e-11, 5.12229709037114e-08, // 3, 4: alpha 9, 7
  1.48572235717979e-05, 6.37261928875436e-04,  // 5, 6: alpha 5, 3
  4.89352455891786e-03,                        // 7: alpha 1
  1.19825839466702e-06, 1.18534705686654e-04,  // 8, 9: beta 6, 4
  2.26843463243900e-03, 4.89352518554385e-03,  // 10, 11: beta 2, 0
  0.5, 1.0,                                    // 12, 13
  -7.90531110763549805, -1.0,                  // 14, 15: the lower clamps (a load, not a negation)
], 16);

@inline function c4(i: usize): v128 { return v128.load32_splat(K + (i << 2)); }
@inline function c1(i: usize): f32 { return load<f32>(K + (i << 2)); }

/** tanh of four lanes. */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, c4(14)), c4(0));
  const x2 = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(x2, c4(1)), c4(2));
  p = f32x4.add(f32x4.mul(p, x2), c4(3));
  p = f32x4.add(f32x4.mul(p, x2), c4(4));
  p = f32x4.add(f32x4.mul(p, x2), c4(5));
  p = f32x4.add(f32x4.mul(p, x2), c4(6));
  p = f32x4.add(f32x4.mul(p, x2), c4(7));
  p = f32x4.mul(p, x);
  let q = f32x4.add(f32x4.mul(x2, c4(8)), c4(9));
  q = f32x4.add(f32x4.mul(q, x2), c4(10));
  q = f32x4.add(f32x4.mul(q, x2), c4(11));
  const t = f32x4.div(p, q);
  return f32x4.pmin(f32x4.pmax(t, c4(15)), c4(13));
}

/** sigmoid of four lanes: 0.5 + 0.5·tanh(0.5·x). */
// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  const h = c4(12);
  return f32x4.add(h, f32x4.mul(h, tanh4(f32x4.mul(h, x))));
}

/** Scalar tanh with exactly the SIMD lanes' arithmetic (used for the < 4 leftovers). */
// @ts-ignore: decorator
@inline export function tanh1(x: f32): f32 {
  const lim = c1(0);
  x = min(max(x, -lim), lim);
  const x2 = x * x;
  let p = x2 * c1(1) + c1(2);
  p = p * x2 + c1(3);
  p = p * x2 + c1(4);
  p = p * x2 + c1(5);
  p = p * x2 + c1(6);
  p = p * x2 + c1(7);
  p = p * x;
  let q = x2 * c1(8) + c1(9);
  q = q * x2 + c1(10);
  q = q * x2 + c1(11);
  return min(max(p / q, <f32>-1), <f32>1);
}

// @ts-ignore: decorator
@inline export function sigmoid1(x: f32): f32 {
  return <f32>0.5 + <f32>0.5 * tanh1(<f32>0.5 * x);
}

