// Row-wise elementwise helpers. Key: M rows, N columns; strides in f32 elements.

/** Y (M×N) += X (M×N). */
export function f32_add_rows(M: i32, N: i32, X: usize, ldx: i32, Y: usize, ldy: i32): void {
  for (let i = 0; i < M; i++) {
    const x = X + ((<usize>i * <usize>ldx) << 2), y = Y + ((<usize>i * <usize>ldy) << 2);
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const o = <usize>j << 2;
      v128.store(y + o, f32x4.add(v128.load(y + o), v128.load(x + o)));
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      store<f32>(y + o, load<f32>(y + o) + load<f32>(x + o));
    }
  }
}

/** C (M×N) += b (N) on every row. */
export function f32_add_bias(M: i32, N: i32, b: usize, C: usize, ldc: i32): void {
  f32_add_rows(M, N, b, 0, C, ldc);
}

/** Y (M×N) = X (M×N). */
export function f32_copy_rows(M: i32, N: i32, X: usize, ldx: i32, Y: usize, ldy: i32): void {
  const n = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    memory.copy(Y + ((<usize>i * <usize>ldy) << 2), X + ((<usize>i * <usize>ldx) << 2), n);
  }
}

/** p[0..n) = v. */
export function f32_fill(n: i32, p: usize, v: f32): void {
  const s = f32x4.splat(v);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(p + (<usize>i << 2), s);
  for (; i < n; i++) store<f32>(p + (<usize>i << 2), v);
}

/** z[0..n) = x ⊙ y; z may alias x or y. */
export function f32_vmul(n: i32, x: usize, y: usize, z: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(z + o, f32x4.mul(v128.load(x + o), v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(z + o, load<f32>(x + o) * load<f32>(y + o));
  }
}
