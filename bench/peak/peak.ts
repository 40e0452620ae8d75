// Probes of one core's limits as V8 runs them, compiled by bench/lib/machine.mjs for the plain
// and the relaxed-SIMD build (where the library's `madd` is one fused multiply-add); not part of the
// library. The f32x4 peak is the best of peak_madd, peak_acc and peak_tile; stream_read gives
// the read bandwidth of a working set.
import { madd } from '../../assembly/kernels/simd';

/**
 * Six accumulators fed by products that do not depend on them (acc_i += x_i · y, y advancing by
 * one add), so only the adds chain; 14 registers in all.
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

/**
 * The peak as a GEMM reaches it: the library's 2-row × 16-column tile (8 accumulators, 4 weight
 * loads, 2 broadcasts per k) over 64 reductions that sit in L1 (p: 4 KB of weights, then 512
 * bytes of two rows), repeated. Multiply-adds through `madd` (one FMA in a relaxed-SIMD build).
 * V8 reaches more here than in the register-only loops above (the loads feed ports the
 * arithmetic leaves idle), so "the peak" is the best of all three.
 */
export function peak_tile(iters: i32, p: usize): f32 {
  let v00 = f32x4.splat(0), v01 = f32x4.splat(0), v02 = f32x4.splat(0), v03 = f32x4.splat(0);
  let v10 = f32x4.splat(0), v11 = f32x4.splat(0), v12 = f32x4.splat(0), v13 = f32x4.splat(0);
  const a0 = p + 4096, a1 = a0 + 256;
  for (let i = 0; i < iters; i++) {
    let w = p;
    for (let k = 0; k < 64; k++) {
      const o = <usize>k << 2;
      const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
      const x0 = v128.load32_splat(a0 + o), x1 = v128.load32_splat(a1 + o);
      v00 = madd(x0, w0, v00); v01 = madd(x0, w1, v01); v02 = madd(x0, w2, v02); v03 = madd(x0, w3, v03);
      v10 = madd(x1, w0, v10); v11 = madd(x1, w1, v11); v12 = madd(x1, w2, v12); v13 = madd(x1, w3, v13);
      w += 64;
    }
  }
  const s = f32x4.add(f32x4.add(f32x4.add(v00, v01), f32x4.add(v02, v03)), f32x4.add(f32x4.add(v10, v11), f32x4.add(v12, v13)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}

/**
 * 12 independent multiply-add chains through `madd` on values that never leave registers
 * (enough to hide the latency, few enough to stay in V8's registers).
 */
export function peak_madd(iters: i32, seed: f32): f32 {
  const m = f32x4.splat(0.999999), c = f32x4.splat(seed * 1e-7);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6), a7 = f32x4.splat(seed + 7);
  let a8 = f32x4.splat(seed + 8), a9 = f32x4.splat(seed + 9), a10 = f32x4.splat(seed + 10), a11 = f32x4.splat(seed + 11);
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, m, c); a1 = madd(a1, m, c); a2 = madd(a2, m, c); a3 = madd(a3, m, c);
    a4 = madd(a4, m, c); a5 = madd(a5, m, c); a6 = madd(a6, m, c); a7 = madd(a7, m, c);
    a8 = madd(a8, m, c); a9 = madd(a9, m, c); a10 = madd(a10, m, c); a11 = madd(a11, m, c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const t = f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 3);
}

/**
 * Read `bytes` (a multiple of 128) at p `reps` times with 16-byte loads, 8 independent xor
 * chains (integer logic runs on more ports than float adds, so the loads, not the arithmetic,
 * set the pace): the read bandwidth of whichever cache level holds that many bytes.
 */
export function stream_read(p: usize, bytes: i32, reps: i32): i32 {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
  const end = p + <usize>bytes;
  for (let r = 0; r < reps; r++) {
    for (let q = p; q < end; q += 128) {
      a0 = v128.xor(a0, v128.load(q)); a1 = v128.xor(a1, v128.load(q, 16));
      a2 = v128.xor(a2, v128.load(q, 32)); a3 = v128.xor(a3, v128.load(q, 48));
      a4 = v128.xor(a4, v128.load(q, 64)); a5 = v128.xor(a5, v128.load(q, 80));
      a6 = v128.xor(a6, v128.load(q, 96)); a7 = v128.xor(a7, v128.load(q, 112));
    }
  }
  const s = v128.xor(v128.xor(v128.xor(a0, a1), v128.xor(a2, a3)), v128.xor(v128.xor(a4, a5), v128.xor(a6, a7)));
  return i32x4.extract_lane(s, 0);
}
