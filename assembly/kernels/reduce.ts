// Column sums: f32_colsum (exported) and its two-output form for the recurrent cells (not).
import { f32_add_rows } from './elementwise';

/** y (N) += column sums of A (M×N). Four rows at a time so each y chunk is loaded once per 4. */
export function f32_colsum(M: i32, N: i32, A: usize, lda: i32, y: usize): void {
  colsum_into(M, N, A, lda, y, 0);
}

/**
 * f32_colsum into y and also into y2 (0: none), each getting the same additions in the same
 * order as from its own f32_colsum, for one pass over A (the recurrent cells' two bias
 * gradients, whose gate gradients are the same). Not exported from the module (assembly/index.ts
 * exports f32_colsum only).
 */
export function colsum_into(M: i32, N: i32, A: usize, lda: i32, y: usize, y2: usize): void {
  const sa = <usize>lda << 2;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = A + <usize>i * sa, a1 = a0 + sa, a2 = a1 + sa, a3 = a2 + sa;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const o = <usize>j << 2;
      const s = f32x4.add(f32x4.add(v128.load(a0 + o), v128.load(a1 + o)),
                          f32x4.add(v128.load(a2 + o), v128.load(a3 + o)));
      v128.store(y + o, f32x4.add(v128.load(y + o), s));
      if (y2) v128.store(y2 + o, f32x4.add(v128.load(y2 + o), s));
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      const s = (load<f32>(a0 + o) + load<f32>(a1 + o)) + (load<f32>(a2 + o) + load<f32>(a3 + o));
      store<f32>(y + o, load<f32>(y + o) + s);
      if (y2) store<f32>(y2 + o, load<f32>(y2 + o) + s);
    }
  }
  if (i < M) {
    f32_add_rows(M - i, N, A + <usize>i * sa, lda, y, 0);
    if (y2) f32_add_rows(M - i, N, A + <usize>i * sa, lda, y2, 0);
  }
}

/**
 * The index of the first NaN or ±Infinity among x (n), or -1 when all are finite: the check
 * every tensor crossing a module edge gets (src/engine/engine.ts, Engine.assertFinite), here
 * because a JS loop over a Float32Array runs at ~1 ns per value. Blocks of 1024 values are
 * scanned with integer ops (exponent bits all ones ⇔ not finite) and only a block that has one
 * is searched value by value.
 */
export function f32_nonfinite(n: i32, x: usize): i32 {
  const E = i32x4.splat(0x7f800000);
  for (let i0 = 0; i0 < n; i0 += 1024) {
    const i1 = min(n, i0 + 1024), i4 = i1 - ((i1 - i0) & 3);
    let bad = i32x4.splat(0);
    let p = x + (<usize>i0 << 2);
    const e4 = x + (<usize>i4 << 2);
    for (; p != e4; p += 16) bad = v128.or(bad, i32x4.eq(v128.and(v128.load(p), E), E));
    for (let i = i4; i < i1; i++) bad = v128.or(bad, i32x4.eq(v128.and(v128.load32_splat(x + (<usize>i << 2)), E), E));
    if (v128.any_true(bad)) {
      for (let i = i0; i < i1; i++) if ((load<u32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
    }
  }
  return -1;
}
