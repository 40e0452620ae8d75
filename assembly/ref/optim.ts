// Scalar twins of assembly/kernels/optim.ts: same signatures, one element at a time, every
// update computed in f64 from the stored f32 values and rounded once when stored. The tests
// compare the SIMD kernels against them; nothing calls them in production.

@inline function ld(p: usize, i: i32): f64 { return <f64>load<f32>(p + (<usize>i << 2)); }
@inline function st(p: usize, i: i32, v: f64): void { store<f32>(p + (<usize>i << 2), <f32>v); }

export function f32_sgd_step_ref(n: i32, p: usize, g: usize, buf: usize, lr: f64, momentum: f64,
                                 dampening: f64, wd: f64, nesterov: i32, first: i32): void {
  for (let i = 0; i < n; i++) {
    const x = ld(p, i);
    let d = ld(g, i);
    if (wd != 0) d += wd * x;
    if (momentum != 0) {
      const b = first ? d : momentum * ld(buf, i) + (1 - dampening) * d;
      st(buf, i, b);
      d = nesterov ? d + momentum * b : b;
    }
    st(p, i, x - lr * d);
  }
}

export function f32_rmsprop_step_ref(n: i32, p: usize, g: usize, sq: usize, gavg: usize, buf: usize,
                                     lr: f64, alpha: f64, eps: f64, wd: f64, momentum: f64, centered: i32): void {
  for (let i = 0; i < n; i++) {
    const x = ld(p, i);
    let d = ld(g, i);
    if (wd != 0) d += wd * x;
    const s = alpha * ld(sq, i) + (1 - alpha) * d * d;
    st(sq, i, s);
    let avg: f64;
    if (centered) {
      const ga = alpha * ld(gavg, i) + (1 - alpha) * d;
      st(gavg, i, ga);
      avg = Math.sqrt(s - ga * ga) + eps;
    } else {
      avg = Math.sqrt(s) + eps;
    }
    if (momentum > 0) {
      const b = momentum * ld(buf, i) + d / avg;
      st(buf, i, b);
      st(p, i, x - lr * b);
    } else {
      st(p, i, x - lr * d / avg);
    }
  }
}

export function f32_adam_step_ref(n: i32, p: usize, g: usize, m: usize, v: usize, vmax: usize,
                                  beta1: f64, beta2: f64, eps: f64, wd: f64, decay: f64,
                                  step_size: f64, bc2_sqrt: f64, amsgrad: i32): void {
  for (let i = 0; i < n; i++) {
    let x = ld(p, i);
    let d = ld(g, i);
    if (wd != 0) d += wd * x;
    x *= decay;
    const mm = beta1 * ld(m, i) + (1 - beta1) * d;
    let vv = beta2 * ld(v, i) + (1 - beta2) * d * d;
    st(m, i, mm);
    st(v, i, vv);
    if (amsgrad) {
      vv = Math.max(ld(vmax, i), vv);
      st(vmax, i, vv);
    }
    st(p, i, x - step_size * mm / (Math.sqrt(vv) / bc2_sqrt + eps));
  }
}

export function f32_adagrad_step_ref(n: i32, p: usize, g: usize, sum: usize, clr: f64, wd: f64, eps: f64): void {
  for (let i = 0; i < n; i++) {
    const x = ld(p, i);
    let d = ld(g, i);
    if (wd != 0) d += wd * x;
    const s = ld(sum, i) + d * d;
    st(sum, i, s);
    st(p, i, x - clr * d / (Math.sqrt(s) + eps));
  }
}

export function f32_sumsq_ref(n: i32, x: usize): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += ld(x, i) * ld(x, i);
  return s;
}

export function f32_absmax_ref(n: i32, x: usize): f32 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s = Math.max(s, Math.abs(ld(x, i)));
  return <f32>s;
}

export function f32_scale_ref(n: i32, x: usize, s: f32): void {
  for (let i = 0; i < n; i++) st(x, i, ld(x, i) * <f64>s);
}

export function f32_clamp_ref(n: i32, x: usize, lo: f32, hi: f32): void {
  for (let i = 0; i < n; i++) st(x, i, Math.min(Math.max(ld(x, i), <f64>lo), <f64>hi));
}
