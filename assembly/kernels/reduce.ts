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
