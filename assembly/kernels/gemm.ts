// f32 matrix products. Pure: pointers (bytes) and dimensions in, nothing allocated.
//
// Key: M rows of C, N columns of C, K the reduction. Strides (lda, ldb, ldc, ars, acs) count
// f32 elements. `acc` = 0 overwrites C, 1 adds into C (backward accumulates with +=).
//
// Register budget: V8's TurboFan has ~15 usable xmm registers and loads every operand of an
// unrolled iteration before the arithmetic, so a tile keeps accumulators + loads + broadcasts
// ≤ 14 (measured when this project started: 8/16-accumulator tiles spilled and ran 1.3-2x slower).
// Products accumulate through simd.ts `madd`: mul + add here, one fused multiply-add in the
// relaxed-SIMD build.

import { madd } from './simd';

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
         (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline function put(p: usize, v: f32, acc: i32): void {
  store<f32>(p, acc ? load<f32>(p) + v : v);
}

/**
 * C (M×N) (+)= A (M×K) · Bᵀ, B stored N×K: every output is a dot product of two contiguous rows.
 * For weights that are not packed (Linear; the recurrent layers use f32_gemm_pk on packed
 * panels). Tiles: 2 rows × 4 rows (8 accumulators + 6 loads), then tails.
 */
export function f32_gemm_nt(M: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32,
                            C: usize, ldc: i32, acc: i32): void {
  const K4 = K & ~3;
  const sa = <usize>lda << 2, sb = <usize>ldb << 2, sc = <usize>ldc << 2;
  let i = 0;
  for (; i + 2 <= M; i += 2) {
    const a0 = A + <usize>i * sa, a1 = a0 + sa;
    const c0 = C + <usize>i * sc, c1 = c0 + sc;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = B + <usize>j * sb, b1 = b0 + sb, b2 = b1 + sb, b3 = b2 + sb;
      let v00 = f32x4.splat(0), v01 = f32x4.splat(0), v02 = f32x4.splat(0), v03 = f32x4.splat(0);
      let v10 = f32x4.splat(0), v11 = f32x4.splat(0), v12 = f32x4.splat(0), v13 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const va0 = v128.load(a0 + o), va1 = v128.load(a1 + o);
        const vb0 = v128.load(b0 + o), vb1 = v128.load(b1 + o);
        const vb2 = v128.load(b2 + o), vb3 = v128.load(b3 + o);
        v00 = madd(va0, vb0, v00); v01 = madd(va0, vb1, v01);
        v02 = madd(va0, vb2, v02); v03 = madd(va0, vb3, v03);
        v10 = madd(va1, vb0, v10); v11 = madd(va1, vb1, v11);
        v12 = madd(va1, vb2, v12); v13 = madd(va1, vb3, v13);
      }
      let s00 = hsum(v00), s01 = hsum(v01), s02 = hsum(v02), s03 = hsum(v03);
      let s10 = hsum(v10), s11 = hsum(v11), s12 = hsum(v12), s13 = hsum(v13);
      for (let k = K4; k < K; k++) {
        const o = <usize>k << 2;
        const x0 = load<f32>(a0 + o), x1 = load<f32>(a1 + o);
        const y0 = load<f32>(b0 + o), y1 = load<f32>(b1 + o);
        const y2 = load<f32>(b2 + o), y3 = load<f32>(b3 + o);
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
      }
      const o = <usize>j << 2;
      put(c0 + o, s00, acc); put(c0 + o + 4, s01, acc); put(c0 + o + 8, s02, acc); put(c0 + o + 12, s03, acc);
      put(c1 + o, s10, acc); put(c1 + o + 4, s11, acc); put(c1 + o + 8, s12, acc); put(c1 + o + 12, s13, acc);
    }
    for (; j < N; j++) {
      const b0 = B + <usize>j * sb;
      let v0 = f32x4.splat(0), v1 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const vb = v128.load(b0 + o);
        v0 = madd(v128.load(a0 + o), vb, v0);
        v1 = madd(v128.load(a1 + o), vb, v1);
      }
      let s0 = hsum(v0), s1 = hsum(v1);
      for (let k = K4; k < K; k++) {
        const o = <usize>k << 2;
        const y = load<f32>(b0 + o);
        s0 += load<f32>(a0 + o) * y; s1 += load<f32>(a1 + o) * y;
      }
      put(c0 + (<usize>j << 2), s0, acc); put(c1 + (<usize>j << 2), s1, acc);
    }
  }
  if (i < M) {
    // Last odd row (and the whole of a batch-1 matrix–vector product): 1 row × 4 rows of B.
    const a0 = A + <usize>i * sa, c0 = C + <usize>i * sc;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = B + <usize>j * sb, b1 = b0 + sb, b2 = b1 + sb, b3 = b2 + sb;
      let v0 = f32x4.splat(0), v1 = f32x4.splat(0), v2 = f32x4.splat(0), v3 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const va = v128.load(a0 + o);
        v0 = madd(va, v128.load(b0 + o), v0);
        v1 = madd(va, v128.load(b1 + o), v1);
        v2 = madd(va, v128.load(b2 + o), v2);
        v3 = madd(va, v128.load(b3 + o), v3);
      }
      let s0 = hsum(v0), s1 = hsum(v1), s2 = hsum(v2), s3 = hsum(v3);
      for (let k = K4; k < K; k++) {
        const o = <usize>k << 2;
        const x = load<f32>(a0 + o);
        s0 += x * load<f32>(b0 + o); s1 += x * load<f32>(b1 + o);
        s2 += x * load<f32>(b2 + o); s3 += x * load<f32>(b3 + o);
      }
      const o = <usize>j << 2;
      put(c0 + o, s0, acc); put(c0 + o + 4, s1, acc); put(c0 + o + 8, s2, acc); put(c0 + o + 12, s3, acc);
    }
    for (; j < N; j++) {
      const b0 = B + <usize>j * sb;
      let v = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        v = madd(v128.load(a0 + o), v128.load(b0 + o), v);
      }
      let s = hsum(v);
      for (let k = K4; k < K; k++) s += load<f32>(a0 + (<usize>k << 2)) * load<f32>(b0 + (<usize>k << 2));
      put(c0 + (<usize>j << 2), s, acc);
    }
  }
}

/**
 * C (M×N) (+)= op(A) (M×K) · B (K×N), with op(A)[i,k] at A[i·ars + k·acs] (so ars=K, acs=1 is
 * A itself and ars=1, acs=M is Aᵀ). Vectorised along the rows of B: no horizontal sums.
 * Used for the whole-sequence weight gradients dW += dGatesᵀ · X (Aᵀ form, K = T·B, blocked
 * below) and Linear's backward. Tiles: 4 rows × 8 columns (8 accumulators, 2 loads, 4 broadcasts).
 */
export function f32_gemm_nn(M: i32, N: i32, K: i32, A: usize, ars: i32, acs: i32, B: usize, ldb: i32,
                            C: usize, ldc: i32, acc: i32): void {
  // Blocks of KC reductions: the rows of A and B a block touches stay in cache while every tile
  // of C passes over them (the whole-sequence weight gradients reduce over K = T·B ≫ cache).
  if (K <= KC) { gemm_nn_block(M, N, K, A, ars, acs, B, ldb, C, ldc, acc); return; }
  for (let k0 = 0; k0 < K; k0 += KC) {
    gemm_nn_block(M, N, min(KC, K - k0), A + ((<usize>k0 * <usize>acs) << 2), ars, acs,
                  B + ((<usize>k0 * <usize>ldb) << 2), ldb, C, ldc, k0 > 0 ? 1 : acc);
  }
}

const KC = 128;

function gemm_nn_block(M: i32, N: i32, K: i32, A: usize, ars: i32, acs: i32, B: usize, ldb: i32,
                       C: usize, ldc: i32, acc: i32): void {
  const sr = <usize>ars << 2, sk = <usize>acs << 2, sb = <usize>ldb << 2, sc = <usize>ldc << 2;
  let i = 0;
  // Two inlined copies of one 4-row body (rows4), each with its form fixed at compile time.
  if (ars == 1) {
    for (; i + 4 <= M; i += 4) rows4(N, K, A + (<usize>i << 2), sr, sk, B, sb, C + <usize>i * sc, sc, acc, true);
  } else {
    for (; i + 4 <= M; i += 4) rows4(N, K, A + <usize>i * sr, sr, sk, B, sb, C + <usize>i * sc, sc, acc, false);
  }
  for (; i < M; i++) {
    // Leftover rows one at a time (and batch-1 products): 1 row × 16 columns.
    const a0 = A + <usize>i * sr, c0 = C + <usize>i * sc;
    let j = 0;
    for (; j + 16 <= N; j += 16) {
      const oj = <usize>j << 2;
      let v0 = f32x4.splat(0), v1 = f32x4.splat(0), v2 = f32x4.splat(0), v3 = f32x4.splat(0);
      let pb = B + oj, pk: usize = 0;
      for (let k = 0; k < K; k++) {
        const x = v128.load32_splat(a0 + pk);
        v0 = madd(x, v128.load(pb), v0);
        v1 = madd(x, v128.load(pb, 16), v1);
        v2 = madd(x, v128.load(pb, 32), v2);
        v3 = madd(x, v128.load(pb, 48), v3);
        pb += sb; pk += sk;
      }
      if (acc) {
        v0 = f32x4.add(v0, v128.load(c0 + oj)); v1 = f32x4.add(v1, v128.load(c0 + oj, 16));
        v2 = f32x4.add(v2, v128.load(c0 + oj, 32)); v3 = f32x4.add(v3, v128.load(c0 + oj, 48));
      }
      v128.store(c0 + oj, v0); v128.store(c0 + oj, v1, 16);
      v128.store(c0 + oj, v2, 32); v128.store(c0 + oj, v3, 48);
    }
    for (; j + 4 <= N; j += 4) {
      const oj = <usize>j << 2;
      let v = f32x4.splat(0);
      let pb = B + oj, pk: usize = 0;
      for (let k = 0; k < K; k++) {
        v = madd(v128.load32_splat(a0 + pk), v128.load(pb), v);
        pb += sb; pk += sk;
      }
      if (acc) v = f32x4.add(v, v128.load(c0 + oj));
      v128.store(c0 + oj, v);
    }
    for (; j < N; j++) {
      const oj = <usize>j << 2;
      let s: f32 = 0;
      let pb = B + oj, pk: usize = 0;
      for (let k = 0; k < K; k++) {
        s += load<f32>(a0 + pk) * load<f32>(pb);
        pb += sb; pk += sk;
      }
      put(c0 + oj, s, acc);
    }
  }
}

/**
 * Rows 0 … 3 of a gemm_nn_block product (every column): op(A)'s rows at a + r·sr, k advancing
 * by sk; C's at c0 + r·sc. Tiles of 4 × 8, then 4 × 4, then single columns. tn (a constant at
 * each call, so each inlined copy keeps one form): op(A) = Aᵀ with sr = 4, the four rows
 * consecutive floats read from one running pointer with immediate offsets (as in the weight
 * gradients dW = dGᵀ · X; 1.25× faster in V8 than four row pointers, since V8 cannot fold a
 * wrapping i32 add into the address); otherwise four row pointers.
 */
// @ts-ignore: decorator
@inline function rows4(N: i32, K: i32, a: usize, sr: usize, sk: usize, B: usize, sb: usize,
                       c0: usize, sc: usize, acc: i32, tn: bool): void {
  const a1 = a + sr, a2 = a1 + sr, a3 = a2 + sr;
  const c1 = c0 + sc, c2 = c1 + sc, c3 = c2 + sc;
  let j = 0;
  for (; j + 8 <= N; j += 8) {
    const oj = <usize>j << 2;
    let v00 = f32x4.splat(0), v01 = f32x4.splat(0), v10 = f32x4.splat(0), v11 = f32x4.splat(0);
    let v20 = f32x4.splat(0), v21 = f32x4.splat(0), v30 = f32x4.splat(0), v31 = f32x4.splat(0);
    let pb = B + oj, pa = a, pk: usize = 0;
    // The loop bound is the B pointer (!=: exact even where the sum wraps): fewer live values.
    const pbEnd = pb + <usize>K * sb;
    while (pb != pbEnd) {
      const vb0 = v128.load(pb), vb1 = v128.load(pb, 16);
      const x0 = v128.load32_splat(pa);
      const x1 = tn ? v128.load32_splat(pa, 4) : v128.load32_splat(a1 + pk);
      const x2 = tn ? v128.load32_splat(pa, 8) : v128.load32_splat(a2 + pk);
      const x3 = tn ? v128.load32_splat(pa, 12) : v128.load32_splat(a3 + pk);
      v00 = madd(x0, vb0, v00); v01 = madd(x0, vb1, v01);
      v10 = madd(x1, vb0, v10); v11 = madd(x1, vb1, v11);
      v20 = madd(x2, vb0, v20); v21 = madd(x2, vb1, v21);
      v30 = madd(x3, vb0, v30); v31 = madd(x3, vb1, v31);
      pb += sb; pa += sk; pk += sk;
    }
    if (acc) {
      v00 = f32x4.add(v00, v128.load(c0 + oj)); v01 = f32x4.add(v01, v128.load(c0 + oj, 16));
      v10 = f32x4.add(v10, v128.load(c1 + oj)); v11 = f32x4.add(v11, v128.load(c1 + oj, 16));
      v20 = f32x4.add(v20, v128.load(c2 + oj)); v21 = f32x4.add(v21, v128.load(c2 + oj, 16));
      v30 = f32x4.add(v30, v128.load(c3 + oj)); v31 = f32x4.add(v31, v128.load(c3 + oj, 16));
    }
    v128.store(c0 + oj, v00); v128.store(c0 + oj, v01, 16);
    v128.store(c1 + oj, v10); v128.store(c1 + oj, v11, 16);
    v128.store(c2 + oj, v20); v128.store(c2 + oj, v21, 16);
    v128.store(c3 + oj, v30); v128.store(c3 + oj, v31, 16);
  }
  for (; j + 4 <= N; j += 4) {
    const oj = <usize>j << 2;
    let v0 = f32x4.splat(0), v1 = f32x4.splat(0), v2 = f32x4.splat(0), v3 = f32x4.splat(0);
    let pb = B + oj, pa = a, pk: usize = 0;
    for (let k = 0; k < K; k++) {
      const vb = v128.load(pb);
      v0 = madd(v128.load32_splat(pa), vb, v0);
      v1 = madd(tn ? v128.load32_splat(pa, 4) : v128.load32_splat(a1 + pk), vb, v1);
      v2 = madd(tn ? v128.load32_splat(pa, 8) : v128.load32_splat(a2 + pk), vb, v2);
      v3 = madd(tn ? v128.load32_splat(pa, 12) : v128.load32_splat(a3 + pk), vb, v3);
      pb += sb; pa += sk; pk += sk;
    }
    if (acc) {
      v0 = f32x4.add(v0, v128.load(c0 + oj)); v1 = f32x4.add(v1, v128.load(c1 + oj));
      v2 = f32x4.add(v2, v128.load(c2 + oj)); v3 = f32x4.add(v3, v128.load(c3 + oj));
    }
    v128.store(c0 + oj, v0); v128.store(c1 + oj, v1); v128.store(c2 + oj, v2); v128.store(c3 + oj, v3);
  }
  for (; j < N; j++) {
    const oj = <usize>j << 2;
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    let pb = B + oj, pa = a, pk: usize = 0;
    for (let k = 0; k < K; k++) {
      const y = load<f32>(pb);
      s0 += load<f32>(pa) * y;
      s1 += (tn ? load<f32>(pa, 4) : load<f32>(a1 + pk)) * y;
      s2 += (tn ? load<f32>(pa, 8) : load<f32>(a2 + pk)) * y;
      s3 += (tn ? load<f32>(pa, 12) : load<f32>(a3 + pk)) * y;
      pb += sb; pa += sk; pk += sk;
    }
    put(c0 + oj, s0, acc); put(c1 + oj, s1, acc); put(c2 + oj, s2, acc); put(c3 + oj, s3, acc);
  }
}
