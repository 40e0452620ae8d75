// GEMM against a weight matrix packed once, at load time, into panels of 16 columns.
//
// Key: M rows of A and C, N columns of C (rows of the weight W), K the reduction.
// C (M×N) (+)= A (M×K) · Wᵀ, W stored N×K (PyTorch's (out, in)). The packed form Wp holds
// panel p (columns 16p … 16p+15 of Wᵀ) as K consecutive groups of 16 floats: Wp[p][k][0..16),
// zero-padded past N. Every k step is then one sequential 64-byte read and the products need
// no horizontal sums (the layout of XNNPACK's packed f32-gemm weights, with NR = 16).
// Used for the input projection of all T·B rows, the recurrent product of every step (batch 1
// included: it keeps W_hh as one sequential stream) and the LSTM projection.
// Tiles: 2 rows × 16 columns = 8 accumulators + 4 weight loads + 2 broadcasts (≤ 14 registers
// for V8, see gemm.ts), and 1 row × 16 for the last odd row; the panels in blocks of ≤ 16 KB
// that every row passes over while they sit in L1 (a batch's step reads W_hh from L2 once).
import { madd, store_lanes, load_lanes } from './simd';

/** Floats the packed form of an N×K matrix needs. */
export function f32_packed_size(N: i32, K: i32): i32 {
  return ((N + 15) >> 4) * K * 16;
}

/** Pack W (N×K, row stride ldw) into panels of 16 columns of Wᵀ. */
export function f32_pack_w(N: i32, K: i32, W: usize, ldw: i32, Wp: usize): void {
  const panels = (N + 15) >> 4;
  let q = Wp;
  for (let p = 0; p < panels; p++) {
    for (let k = 0; k < K; k++) {
      for (let c = 0; c < 16; c++) {
        const n = (p << 4) + c;
        store<f32>(q, n < N ? load<f32>(W + ((<usize>n * <usize>ldw + <usize>k) << 2)) : 0);
        q += 4;
      }
    }
  }
}

/**
 * Pack for C = A · S where S (K×N, row stride lds) is used as it is (e.g. dX = dGates · W_ih):
 * the same panels as f32_pack_w of Sᵀ, read straight from S (16 contiguous floats per k).
 */
export function f32_pack_wt(N: i32, K: i32, S: usize, lds: i32, Wp: usize): void {
  const panels = (N + 15) >> 4;
  let q = Wp;
  for (let p = 0; p < panels; p++) {
    const n0 = p << 4, n = min(16, N - n0);
    for (let k = 0; k < K; k++) {
      const src = S + ((<usize>k * <usize>lds + <usize>n0) << 2);
      if (n == 16) {
        v128.store(q, v128.load(src)); v128.store(q, v128.load(src, 16), 16);
        v128.store(q, v128.load(src, 32), 32); v128.store(q, v128.load(src, 48), 48);
      } else {
        for (let c = 0; c < 16; c++) store<f32>(q + (<usize>c << 2), c < n ? load<f32>(src + (<usize>c << 2)) : 0);
      }
      q += 64;
    }
  }
}

/** C (M×N) (+)= A (M×K, row stride lda) · Wᵀ with W packed by f32_pack_w (or f32_pack_wt). */
export function f32_gemm_pk(M: i32, N: i32, K: i32, A: usize, lda: i32, Wp: usize, C: usize, ldc: i32, acc: i32): void {
  gemm_pk_bias(M, N, K, A, lda, Wp, C, ldc, acc, 0, 0);
}

/**
 * f32_gemm_pk that also adds b1 (N), then b2 (N), to every row as it stores it (a pointer of 0:
 * none): ((A·Wᵀ)[i,j] (+ C[i,j]) + b1[j]) + b2[j], the sums a separate pass would make, without
 * the pass. Used by the recurrent cells (input projections, GRU's recurrent product) and by
 * Linear's forward (its bias).
 */
export function gemm_pk_bias(M: i32, N: i32, K: i32, A: usize, lda: i32, Wp: usize, C: usize, ldc: i32, acc: i32,
                             b1: usize, b2: usize): void {
  const sa = <usize>lda << 2, sc = <usize>ldc << 2, panel = (<usize>K) << 6;
  const panels = (N + 15) >> 4;
  // Blocks of panels (≤ 16 KB, at least one) that stay in L1 while every row passes over them:
  // each panel comes from L2 once per call instead of once per pair of rows. Only the order of
  // the tiles changes; every element is summed the same way.
  const nb = max(1, 256 / max(K, 1)); // panels of K·64 bytes in 16 KB
  for (let p0 = 0; p0 < panels; p0 += nb) {
    const p1 = min(panels, p0 + nb);
    let i = 0;
    for (; i + 2 <= M; i += 2) {
      const a0 = A + <usize>i * sa;
      const c0 = C + <usize>i * sc, c1 = c0 + sc;
      for (let p = p0; p < p1; p++) {
        let w = Wp + <usize>p * panel;
        let v00 = f32x4.splat(0), v01 = f32x4.splat(0), v02 = f32x4.splat(0), v03 = f32x4.splat(0);
        let v10 = f32x4.splat(0), v11 = f32x4.splat(0), v12 = f32x4.splat(0), v13 = f32x4.splat(0);
        // Running pointers, the loop bound one of them (see the one-row path below).
        let pa = a0;
        const wEnd = w + ((<usize>K) << 6);
        // Four k per iteration, unrolled by hand as the one-row loop below (see there).
        while (w != wEnd) { // != : exact even if the sum wraps at the top of a 4 GB memory
          { const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
            const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa + sa);
            v00 = madd(x0, w0, v00); v01 = madd(x0, w1, v01); v02 = madd(x0, w2, v02); v03 = madd(x0, w3, v03);
            v10 = madd(x1, w0, v10); v11 = madd(x1, w1, v11); v12 = madd(x1, w2, v12); v13 = madd(x1, w3, v13);
            w += 64; pa += 4; }
          if (w == wEnd) break;
          { const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
            const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa + sa);
            v00 = madd(x0, w0, v00); v01 = madd(x0, w1, v01); v02 = madd(x0, w2, v02); v03 = madd(x0, w3, v03);
            v10 = madd(x1, w0, v10); v11 = madd(x1, w1, v11); v12 = madd(x1, w2, v12); v13 = madd(x1, w3, v13);
            w += 64; pa += 4; }
          if (w == wEnd) break;
          { const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
            const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa + sa);
            v00 = madd(x0, w0, v00); v01 = madd(x0, w1, v01); v02 = madd(x0, w2, v02); v03 = madd(x0, w3, v03);
            v10 = madd(x1, w0, v10); v11 = madd(x1, w1, v11); v12 = madd(x1, w2, v12); v13 = madd(x1, w3, v13);
            w += 64; pa += 4; }
          if (w == wEnd) break;
          { const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
            const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa + sa);
            v00 = madd(x0, w0, v00); v01 = madd(x0, w1, v01); v02 = madd(x0, w2, v02); v03 = madd(x0, w3, v03);
            v10 = madd(x1, w0, v10); v11 = madd(x1, w1, v11); v12 = madd(x1, w2, v12); v13 = madd(x1, w3, v13);
            w += 64; pa += 4; }
        }
        const n = N - (p << 4), oc = <usize>p << 6;
        finish(c0 + oc, v00, v01, v02, v03, n, acc, b1, b2, oc);
        finish(c1 + oc, v10, v11, v12, v13, n, acc, b1, b2, oc);
      }
    }
    if (i < M) {
      const a0 = A + <usize>i * sa, c0 = C + <usize>i * sc;
      for (let p = p0; p < p1; p++) {
        let w = Wp + <usize>p * panel;
        let v0 = f32x4.splat(0), v1 = f32x4.splat(0), v2 = f32x4.splat(0), v3 = f32x4.splat(0);
        // Two k per iteration, summed before they reach the accumulator: one dependent add per
        // two k instead of one per k (the add latency, not the loads, bounds a 4-accumulator loop).
        // Running pointers, the loop bound one of them: fewer live values for V8's registers.
        let pa = a0;
        const wEnd = w + ((<usize>(K & ~1)) << 6);
        // Unrolled by hand, four pairs of k per iteration with the exit test between them (what
        // V8 does itself, but for a shared memory, as the threads builds have, it unrolled this
        // loop less, and W_hh streamed from L2 ~8% slower: 78 against 85 GB/s). Same sums.
        while (w != wEnd) { // != : exact even if the sum wraps at the top of a 4 GB memory
          { const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa, 4);
            v0 = f32x4.add(v0, madd(x1, v128.load(w, 64), f32x4.mul(x0, v128.load(w))));
            v1 = f32x4.add(v1, madd(x1, v128.load(w, 80), f32x4.mul(x0, v128.load(w, 16))));
            v2 = f32x4.add(v2, madd(x1, v128.load(w, 96), f32x4.mul(x0, v128.load(w, 32))));
            v3 = f32x4.add(v3, madd(x1, v128.load(w, 112), f32x4.mul(x0, v128.load(w, 48))));
            w += 128; pa += 8; }
          if (w == wEnd) break;
          { const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa, 4);
            v0 = f32x4.add(v0, madd(x1, v128.load(w, 64), f32x4.mul(x0, v128.load(w))));
            v1 = f32x4.add(v1, madd(x1, v128.load(w, 80), f32x4.mul(x0, v128.load(w, 16))));
            v2 = f32x4.add(v2, madd(x1, v128.load(w, 96), f32x4.mul(x0, v128.load(w, 32))));
            v3 = f32x4.add(v3, madd(x1, v128.load(w, 112), f32x4.mul(x0, v128.load(w, 48))));
            w += 128; pa += 8; }
          if (w == wEnd) break;
          { const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa, 4);
            v0 = f32x4.add(v0, madd(x1, v128.load(w, 64), f32x4.mul(x0, v128.load(w))));
            v1 = f32x4.add(v1, madd(x1, v128.load(w, 80), f32x4.mul(x0, v128.load(w, 16))));
            v2 = f32x4.add(v2, madd(x1, v128.load(w, 96), f32x4.mul(x0, v128.load(w, 32))));
            v3 = f32x4.add(v3, madd(x1, v128.load(w, 112), f32x4.mul(x0, v128.load(w, 48))));
            w += 128; pa += 8; }
          if (w == wEnd) break;
          { const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa, 4);
            v0 = f32x4.add(v0, madd(x1, v128.load(w, 64), f32x4.mul(x0, v128.load(w))));
            v1 = f32x4.add(v1, madd(x1, v128.load(w, 80), f32x4.mul(x0, v128.load(w, 16))));
            v2 = f32x4.add(v2, madd(x1, v128.load(w, 96), f32x4.mul(x0, v128.load(w, 32))));
            v3 = f32x4.add(v3, madd(x1, v128.load(w, 112), f32x4.mul(x0, v128.load(w, 48))));
            w += 128; pa += 8; }
        }
        if (K & 1) {
          const x = v128.load32_splat(pa);
          v0 = madd(x, v128.load(w), v0); v1 = madd(x, v128.load(w, 16), v1);
          v2 = madd(x, v128.load(w, 32), v2); v3 = madd(x, v128.load(w, 48), v3);
        }
        finish(c0 + (<usize>p << 6), v0, v1, v2, v3, N - (p << 4), acc, b1, b2, <usize>p << 6);
      }
    }
  }
}

/**
 * Write (or add) 16 results at c, of which only the first n (≥ 1) are inside C; then add the
 * biases b1, b2 (0: none) at byte offset o.
 */
// @ts-ignore: decorator
@inline function finish(c: usize, v0: v128, v1: v128, v2: v128, v3: v128, n: i32, acc: i32, b1: usize, b2: usize, o: usize): void {
  if (n >= 16) {
    if (acc) {
      v0 = f32x4.add(v0, v128.load(c)); v1 = f32x4.add(v1, v128.load(c, 16));
      v2 = f32x4.add(v2, v128.load(c, 32)); v3 = f32x4.add(v3, v128.load(c, 48));
    }
    if (b1) {
      const p = b1 + o;
      v0 = f32x4.add(v0, v128.load(p)); v1 = f32x4.add(v1, v128.load(p, 16));
      v2 = f32x4.add(v2, v128.load(p, 32)); v3 = f32x4.add(v3, v128.load(p, 48));
    }
    if (b2) {
      const p = b2 + o;
      v0 = f32x4.add(v0, v128.load(p)); v1 = f32x4.add(v1, v128.load(p, 16));
      v2 = f32x4.add(v2, v128.load(p, 32)); v3 = f32x4.add(v3, v128.load(p, 48));
    }
    v128.store(c, v0); v128.store(c, v1, 16); v128.store(c, v2, 32); v128.store(c, v3, 48);
    return;
  }
  if (acc) {
    v0 = f32x4.add(v0, load_lanes(c, n)); v1 = f32x4.add(v1, load_lanes(c + 16, n - 4));
    v2 = f32x4.add(v2, load_lanes(c + 32, n - 8)); v3 = f32x4.add(v3, load_lanes(c + 48, n - 12));
  }
  if (b1) {
    const p = b1 + o;
    v0 = f32x4.add(v0, load_lanes(p, n)); v1 = f32x4.add(v1, load_lanes(p + 16, n - 4));
    v2 = f32x4.add(v2, load_lanes(p + 32, n - 8)); v3 = f32x4.add(v3, load_lanes(p + 48, n - 12));
  }
  if (b2) {
    const p = b2 + o;
    v0 = f32x4.add(v0, load_lanes(p, n)); v1 = f32x4.add(v1, load_lanes(p + 16, n - 4));
    v2 = f32x4.add(v2, load_lanes(p + 32, n - 8)); v3 = f32x4.add(v3, load_lanes(p + 48, n - 12));
  }
  store_lanes(c, v0, n); store_lanes(c + 16, v1, n - 4); store_lanes(c + 32, v2, n - 8); store_lanes(c + 48, v3, n - 12);
}
