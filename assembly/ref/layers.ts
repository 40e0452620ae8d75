// Scalar twins of assembly/kernels/layers.ts: same signatures, plain loops, f64 arithmetic.

@inline function ld(p: usize, i: i32): f64 { return <f64>load<f32>(p + (<usize>i << 2)); }
@inline function st(p: usize, i: i32, v: f64): void { store<f32>(p + (<usize>i << 2), <f32>v); }
@inline function id(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }

export function f32_vtanh_backward_ref(n: i32, y: usize, dy: usize, dx: usize): void {
  for (let i = 0; i < n; i++) { const v = ld(y, i); st(dx, i, ld(dy, i) * (1 - v * v)); }
}
export function f32_vsigmoid_backward_ref(n: i32, y: usize, dy: usize, dx: usize): void {
  for (let i = 0; i < n; i++) { const v = ld(y, i); st(dx, i, ld(dy, i) * v * (1 - v)); }
}
export function f32_vrelu_backward_ref(n: i32, y: usize, dy: usize, dx: usize): void {
  for (let i = 0; i < n; i++) st(dx, i, ld(y, i) > 0 ? ld(dy, i) : 0);
}

export function f32_gather_rows_ref(N: i32, D: i32, ids: usize, W: usize, ldw: i32, Y: usize, ldy: i32): void {
  for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) st(Y, i * ldy + j, ld(W, id(ids, i) * ldw + j));
}
export function f32_scatter_add_rows_ref(N: i32, D: i32, ids: usize, dY: usize, lddy: i32, dW: usize, ldw: i32): void {
  for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) {
    const p = id(ids, i) * ldw + j;
    st(dW, p, ld(dW, p) + ld(dY, i * lddy + j));
  }
}
