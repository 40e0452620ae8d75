// Kernels under the feed-forward layers: activation derivatives from the saved output (Linear)
// and row gather / scatter-add by index (Embedding). Pure: pointers and sizes in, nothing
// allocated. Key: n elements; N rows of D floats; strides count f32 elements.
import { f32_add_rows } from './elementwise';

/** dx = dy ⊙ (1 − y²), y = tanh(z) saved by forward (d tanh/dz = 1 − tanh²). dx may alias dy. */
export function f32_vtanh_backward(n: i32, y: usize, dy: usize, dx: usize): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2, vy = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.sub(one, f32x4.mul(vy, vy))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2, v = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (<f32>1 - v * v));
  }
}

/** dx = dy ⊙ y(1 − y), y = σ(z) saved by forward (dσ/dz = σ(1 − σ)). dx may alias dy. */
export function f32_vsigmoid_backward(n: i32, y: usize, dy: usize, dx: usize): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2, vy = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.mul(vy, f32x4.sub(one, vy))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2, v = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (v * (<f32>1 - v)));
  }
}

/** dx = y > 0 ? dy : 0, y = relu(z) saved by forward (torch's threshold_backward). dx may alias dy. */
export function f32_vrelu_backward(n: i32, y: usize, dy: usize, dx: usize): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(y + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

/** Y row i = W row ids[i], i < N (D floats each). ids: N i32, each a valid row of W. */
export function f32_gather_rows(N: i32, D: i32, ids: usize, W: usize, ldw: i32, Y: usize, ldy: i32): void {
  const n = <usize>D << 2;
  for (let i = 0; i < N; i++) {
    const r = <usize>load<i32>(ids + (<usize>i << 2));
    memory.copy(Y + ((<usize>i * <usize>ldy) << 2), W + ((r * <usize>ldw) << 2), n);
  }
}

/**
 * dW row ids[i] += dY row i, i < N, in order (repeated ids accumulate): the transpose of the
 * gather, i.e. the embedding's weight gradient. SIMD along the row (f32_add_rows).
 */
export function f32_scatter_add_rows(N: i32, D: i32, ids: usize, dY: usize, lddy: i32, dW: usize, ldw: i32): void {
  for (let i = 0; i < N; i++) {
    const r = <usize>load<i32>(ids + (<usize>i << 2));
    f32_add_rows(1, D, dY + ((<usize>i * <usize>lddy) << 2), 0, dW + ((r * <usize>ldw) << 2), 0);
  }
}
