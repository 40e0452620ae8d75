// The f32x4 arithmetic peak of one core, as V8 runs it: 12 independent accumulators (enough to
// hide the add latency, few enough to stay in registers), multiply + add on values that never
// leave registers. Compiled by bench/gemm.mjs; not part of the library.

export function peak_mul_add(iters: i32, seed: f32): f32 {
  const m = f32x4.splat(0.999999), c = f32x4.splat(seed * 1e-7);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6), a7 = f32x4.splat(seed + 7);
  let a8 = f32x4.splat(seed + 8), a9 = f32x4.splat(seed + 9), a10 = f32x4.splat(seed + 10), a11 = f32x4.splat(seed + 11);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.add(f32x4.mul(a0, m), c); a1 = f32x4.add(f32x4.mul(a1, m), c);
    a2 = f32x4.add(f32x4.mul(a2, m), c); a3 = f32x4.add(f32x4.mul(a3, m), c);
    a4 = f32x4.add(f32x4.mul(a4, m), c); a5 = f32x4.add(f32x4.mul(a5, m), c);
    a6 = f32x4.add(f32x4.mul(a6, m), c); a7 = f32x4.add(f32x4.mul(a7, m), c);
    a8 = f32x4.add(f32x4.mul(a8, m), c); a9 = f32x4.add(f32x4.mul(a9, m), c);
    a10 = f32x4.add(f32x4.mul(a10, m), c); a11 = f32x4.add(f32x4.mul(a11, m), c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const t = f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 3);
}

/**
 * Another form of the same peak: six accumulators fed by products that do not depend on them
 * (acc_i += x_i · y, y advancing by one add), so only the adds chain; 14 registers in all.
 */
export function peak_acc(iters: i32, seed: f32): f32 {
  const x0 = f32x4.splat(seed + 0.5), x1 = f32x4.splat(seed + 1.5), x2 = f32x4.splat(seed + 2.5);
  const x3 = f32x4.splat(seed + 3.5), x4 = f32x4.splat(seed + 4.5), x5 = f32x4.splat(seed + 5.5);
  const c = f32x4.splat(1e-7);
  let y = f32x4.splat(seed), a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0), a4 = f32x4.splat(0), a5 = f32x4.splat(0);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.add(a0, f32x4.mul(x0, y)); a1 = f32x4.add(a1, f32x4.mul(x1, y));
    a2 = f32x4.add(a2, f32x4.mul(x2, y)); a3 = f32x4.add(a3, f32x4.mul(x3, y));
    a4 = f32x4.add(a4, f32x4.mul(x4, y)); a5 = f32x4.add(a5, f32x4.mul(x5, y));
    y = f32x4.add(y, c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(a4, a5));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}
