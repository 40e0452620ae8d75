// Shared SIMD helpers. `madd` is a fused multiply-add in the relaxed-SIMD build
// (f32x4.relaxed_madd, chosen at compile time by ASC_FEATURE_RELAXED_SIMD) and mul + add in
// the plain SIMD build; both builds come from the same sources.

// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Store the first n (0…4) lanes of v at p. */
// @ts-ignore: decorator
@inline export function store_lanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(p, v); return; }
  if (n > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Load the first n (0…4) lanes at p, `fill` (default 0) in the others. */
// @ts-ignore: decorator
@inline export function load_lanes(p: usize, n: i32, fill: f32 = 0): v128 {
  if (n >= 4) return v128.load(p);
  let v = f32x4.splat(fill);
  if (n > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}
