// Scalar twins of the loss kernels (assembly/kernels/loss.ts): same signatures, plain loops,
// everything in f64 with the exact Math.exp / Math.log / Math.log1p. The oracle the tests compare
// the SIMD kernels against; nothing calls them in production.

@inline function ld(p: usize, i: i32): f64 { return <f64>load<f32>(p + (<usize>i << 2)); }
@inline function st(p: usize, i: i32, v: f64): void { store<f32>(p + (<usize>i << 2), <f32>v); }

export function f32_softmax_xent_ref(N: i32, C: i32, x: usize, ldx: i32, t: usize, w: usize, ignore: i32,
                                     dx: usize, lddx: i32, wsum: usize): f64 {
  let loss: f64 = 0, wtot: f64 = 0;
  for (let i = 0; i < N; i++) {
    const ti = load<i32>(t + (<usize>i << 2)), rx = i * ldx, rd = i * lddx;
    if (ti == ignore) {
      for (let j = 0; j < C; j++) st(dx, rd + j, 0);
      continue;
    }
    const xt = ld(x, rx + ti);
    let m = -Infinity;
    for (let j = 0; j < C; j++) m = Math.max(m, ld(x, rx + j));
    let s: f64 = 0;
    for (let j = 0; j < C; j++) s += Math.exp(ld(x, rx + j) - m);
    const wt = w ? ld(w, ti) : 1.0;
    for (let j = 0; j < C; j++) st(dx, rd + j, wt * (Math.exp(ld(x, rx + j) - m) / s - (j == ti ? 1.0 : 0.0)));
    loss += wt * (Math.log(s) + m - xt);
    wtot += wt;
  }
  store<f64>(wsum, wtot);
  return loss;
}

export function f32_mse_ref(n: i32, x: usize, y: usize, dx: usize): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const d = ld(x, i) - ld(y, i);
    s += d * d;
    st(dx, i, 2 * d);
  }
  return s;
}

export function f32_bce_logits_ref(n: i32, x: usize, y: usize, dx: usize): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = ld(x, i), u = ld(y, i);
    s += Math.max(v, 0) - v * u + Math.log1p(Math.exp(-Math.abs(v)));
    st(dx, i, 1 / (1 + Math.exp(-v)) - u);
  }
  return s;
}
