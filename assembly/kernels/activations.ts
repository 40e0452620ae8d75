// Vectorised nonlinearities over arrays (bounds and method in ./math.ts).
import { tanh4, sigmoid4, tanh1, sigmoid1 } from './math';

/** y[0..n) = tanh(x[0..n)); y may alias x. */
export function f32_vtanh(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), tanh4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), tanh1(load<f32>(x + (<usize>i << 2))));
}

/** y[0..n) = sigmoid(x[0..n)); y may alias x. */
export function f32_vsigmoid(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), sigmoid4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), sigmoid1(load<f32>(x + (<usize>i << 2))));
}

/** y[0..n) = max(x, 0); y may alias x. */
export function f32_vrelu(n: i32, x: usize, y: usize): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4.pmax(v128.load(x + (<usize>i << 2)), z)); // NaN stays NaN
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), max(load<f32>(x + (<usize>i << 2)), <f32>0));
}
