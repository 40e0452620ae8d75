// Optimizer updates and gradient-norm helpers. Each is ONE pass over a flat buffer of n floats
// (a whole ParameterStore: p parameters, g gradients, state buffers in the same layout), four
// lanes at a time; the last 1…3 floats go through the same vector code with partial loads and
// stores (simd.ts), so there is one expression per rule and every float gets the same bits: each
// rule is an inlined body taking the lane count k, called with k = 4 in the loop (its partial
// forms fold away; Adam 2.2× faster than one loop testing k every vector) and once for the tail.
// Pure: pointers and scalars in, nothing allocated. Everything that depends only on the step
// number (bias corrections, the decayed Adagrad rate, AdamW's decay factor) is computed by the
// caller in f64 and passed in.
//
// Update rules, as torch.optim 1.13 writes them (single-tensor path; d is the gradient, with
// L2 weight decay folded in when wd ≠ 0: d = g + wd·p):
//   SGD (momentum; Sutskever et al. 2013 for Nesterov):
//       b = d on the first step, else b = μ·b + (1 − dampening)·d
//       d = nesterov ? d + μ·b : b;                     p −= lr·d
//   RMSprop (Tieleman & Hinton 2012, lecture 6.5; centered form Graves 2013):
//       s = α·s + (1 − α)·d²;  centered: a = α·a + (1 − α)·d, avg = √(s − a²) + ε, else √s + ε
//       momentum > 0: b = μ·b + d / avg, p −= lr·b;     else p −= lr·d / avg
//   Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019, decoupled decay):
//       p *= decay (AdamW: 1 − lr·wd; Adam: 1)
//       m = β1·m + (1 − β1)·d;  v = β2·v + (1 − β2)·d²;  amsgrad: v̂ = max(v̂, v) else v̂ = v
//       p −= (lr / (1 − β1ᵗ)) · m / (√v̂ / √(1 − β2ᵗ) + ε)
//   Adagrad (Duchi et al. 2011):
//       s += d²;  p −= clr · d / (√s + ε),  clr = lr / (1 + (t − 1)·lr_decay)
// The branches on flags (wd ≠ 0, momentum, centered, amsgrad) are uniform across the loop.
//
// Scalars arrive as f64 and complements such as 1 − β2 are formed in f64 BEFORE rounding to f32,
// as torch does (Python floats, cast to float inside its kernels): f32(0.999) is off by 1.3e-8,
// and 1 − f32(0.999) would then be off by 1.3e-5 relative.

import { load_lanes, store_lanes } from './simd';

// ---- SGD ------------------------------------------------------------------------------------

/** p (n) −= lr · update; buf (n) is the momentum buffer (unused when momentum = 0). */
export function f32_sgd_step(n: i32, p: usize, g: usize, buf: usize, lr_: f64, momentum_: f64,
                             dampening: f64, wd_: f64, nesterov: i32, first: i32): void {
  const lr = <f32>lr_, momentum = <f32>momentum_, keep = <f32>(1 - dampening), wd = <f32>wd_;
  const vlr = f32x4.splat(lr), vmu = f32x4.splat(momentum), vkeep = f32x4.splat(keep);
  const vwd = f32x4.splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) sgd4(<usize>i << 2, 4, p, g, buf, vlr, vmu, vkeep, vwd, wd, momentum, nesterov, first);
  if (i < n) sgd4(<usize>i << 2, n - i, p, g, buf, vlr, vmu, vkeep, vwd, wd, momentum, nesterov, first);
}

/** One vector of f32_sgd_step at byte offset o: k (1…4) lanes (see the top of the file). */
// @ts-ignore: decorator
@inline function sgd4(o: usize, k: i32, p: usize, g: usize, buf: usize, vlr: v128, vmu: v128, vkeep: v128, vwd: v128,
                      wd: f32, momentum: f32, nesterov: i32, first: i32): void {
  const vp = load_lanes(p + o, k);
  let vd = load_lanes(g + o, k);
  if (wd != 0) vd = f32x4.add(vd, f32x4.mul(vwd, vp));
  if (momentum != 0) {
    const vb = first ? vd : f32x4.add(f32x4.mul(vmu, load_lanes(buf + o, k)), f32x4.mul(vkeep, vd));
    store_lanes(buf + o, vb, k);
    vd = nesterov ? f32x4.add(vd, f32x4.mul(vmu, vb)) : vb;
  }
  store_lanes(p + o, f32x4.sub(vp, f32x4.mul(vlr, vd)), k);
}

// ---- RMSprop --------------------------------------------------------------------------------

/** sq: running mean of d²; gavg: running mean of d (centered only); buf: momentum (μ > 0 only). */
export function f32_rmsprop_step(n: i32, p: usize, g: usize, sq: usize, gavg: usize, buf: usize,
                                 lr_: f64, alpha_: f64, eps_: f64, wd_: f64, momentum_: f64, centered: i32): void {
  const lr = <f32>lr_, alpha = <f32>alpha_, alpha1 = <f32>(1 - alpha_), eps = <f32>eps_;
  const wd = <f32>wd_, momentum = <f32>momentum_;
  const vlr = f32x4.splat(lr), va = f32x4.splat(alpha), va1 = f32x4.splat(alpha1);
  const veps = f32x4.splat(eps), vwd = f32x4.splat(wd), vmu = f32x4.splat(momentum);
  let i = 0;
  for (; i + 4 <= n; i += 4) rmsprop4(<usize>i << 2, 4, p, g, sq, gavg, buf, vlr, va, va1, veps, vwd, vmu, wd, momentum, centered);
  if (i < n) rmsprop4(<usize>i << 2, n - i, p, g, sq, gavg, buf, vlr, va, va1, veps, vwd, vmu, wd, momentum, centered);
}

/** One vector of f32_rmsprop_step at byte offset o: k (1…4) lanes. */
// @ts-ignore: decorator
@inline function rmsprop4(o: usize, k: i32, p: usize, g: usize, sq: usize, gavg: usize, buf: usize,
                          vlr: v128, va: v128, va1: v128, veps: v128, vwd: v128, vmu: v128,
                          wd: f32, momentum: f32, centered: i32): void {
  const vp = load_lanes(p + o, k);
  let vd = load_lanes(g + o, k);
  if (wd != 0) vd = f32x4.add(vd, f32x4.mul(vwd, vp));
  const vs = f32x4.add(f32x4.mul(va, load_lanes(sq + o, k)), f32x4.mul(va1, f32x4.mul(vd, vd)));
  store_lanes(sq + o, vs, k);
  let vavg: v128;
  if (centered) {
    const vga = f32x4.add(f32x4.mul(va, load_lanes(gavg + o, k)), f32x4.mul(va1, vd));
    store_lanes(gavg + o, vga, k);
    vavg = f32x4.add(f32x4.sqrt(f32x4.sub(vs, f32x4.mul(vga, vga))), veps);
  } else {
    vavg = f32x4.add(f32x4.sqrt(vs), veps);
  }
  if (momentum > 0) {
    const vb = f32x4.add(f32x4.mul(vmu, load_lanes(buf + o, k)), f32x4.div(vd, vavg));
    store_lanes(buf + o, vb, k);
    store_lanes(p + o, f32x4.sub(vp, f32x4.mul(vlr, vb)), k);
  } else {
    store_lanes(p + o, f32x4.sub(vp, f32x4.mul(vlr, f32x4.div(vd, vavg))), k);
  }
}

// ---- Adam / AdamW ---------------------------------------------------------------------------

/**
 * m, v: first and second moments; vmax: running max of v (amsgrad only). wd is Adam's L2 term
 * (0 for AdamW); decay multiplies p first (1 − lr·wd for AdamW, 1 for Adam).
 * step_size = lr / (1 − β1ᵗ), bc2_sqrt = √(1 − β2ᵗ).
 */
export function f32_adam_step(n: i32, p: usize, g: usize, m: usize, v: usize, vmax: usize,
                              beta1_: f64, beta2_: f64, eps_: f64, wd_: f64, decay_: f64,
                              step_size_: f64, bc2_sqrt_: f64, amsgrad: i32): void {
  const beta1 = <f32>beta1_, beta1c = <f32>(1 - beta1_), beta2 = <f32>beta2_, beta2c = <f32>(1 - beta2_);
  const eps = <f32>eps_, wd = <f32>wd_, decay = <f32>decay_, step_size = <f32>step_size_, bc2_sqrt = <f32>bc2_sqrt_;
  const vb1 = f32x4.splat(beta1), vb1c = f32x4.splat(beta1c);
  const vb2 = f32x4.splat(beta2), vb2c = f32x4.splat(beta2c);
  const veps = f32x4.splat(eps), vwd = f32x4.splat(wd), vdecay = f32x4.splat(decay);
  const vstep = f32x4.splat(step_size), vbc2 = f32x4.splat(bc2_sqrt);
  // Whole vectors, then the last 1…3 lanes: one body, inlined twice (k = 4 folds its lane tests away).
  let i = 0;
  for (; i + 4 <= n; i += 4) adam4(<usize>i << 2, 4, p, g, m, v, vmax, vb1, vb1c, vb2, vb2c, veps, vwd, vdecay, vstep, vbc2, wd, decay, amsgrad);
  if (i < n) adam4(<usize>i << 2, n - i, p, g, m, v, vmax, vb1, vb1c, vb2, vb2c, veps, vwd, vdecay, vstep, vbc2, wd, decay, amsgrad);
}

/** One vector of f32_adam_step at byte offset o: k (1…4) lanes. */
// @ts-ignore: decorator
@inline function adam4(o: usize, k: i32, p: usize, g: usize, m: usize, v: usize, vmax: usize,
                       vb1: v128, vb1c: v128, vb2: v128, vb2c: v128, veps: v128, vwd: v128, vdecay: v128,
                       vstep: v128, vbc2: v128, wd: f32, decay: f32, amsgrad: i32): void {
  let vp = load_lanes(p + o, k);
  let vd = load_lanes(g + o, k);
  if (wd != 0) vd = f32x4.add(vd, f32x4.mul(vwd, vp));
  if (decay != 1) vp = f32x4.mul(vp, vdecay);
  const vm = f32x4.add(f32x4.mul(vb1, load_lanes(m + o, k)), f32x4.mul(vb1c, vd));
  let vv = f32x4.add(f32x4.mul(vb2, load_lanes(v + o, k)), f32x4.mul(vb2c, f32x4.mul(vd, vd)));
  store_lanes(m + o, vm, k);
  store_lanes(v + o, vv, k);
  if (amsgrad) {
    vv = f32x4.max(load_lanes(vmax + o, k), vv);
    store_lanes(vmax + o, vv, k);
  }
  const vden = f32x4.add(f32x4.div(f32x4.sqrt(vv), vbc2), veps);
  store_lanes(p + o, f32x4.sub(vp, f32x4.mul(vstep, f32x4.div(vm, vden))), k);
}

// ---- Adagrad --------------------------------------------------------------------------------

/** sum: accumulated d² (starts at initial_accumulator_value); clr: the decayed rate. */
export function f32_adagrad_step(n: i32, p: usize, g: usize, sum: usize, clr_: f64, wd_: f64, eps_: f64): void {
  const clr = <f32>clr_, wd = <f32>wd_, eps = <f32>eps_;
  const vclr = f32x4.splat(clr), vwd = f32x4.splat(wd), veps = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) adagrad4(<usize>i << 2, 4, p, g, sum, vclr, vwd, veps, wd);
  if (i < n) adagrad4(<usize>i << 2, n - i, p, g, sum, vclr, vwd, veps, wd);
}

/** One vector of f32_adagrad_step at byte offset o: k (1…4) lanes. */
// @ts-ignore: decorator
@inline function adagrad4(o: usize, k: i32, p: usize, g: usize, sum: usize, vclr: v128, vwd: v128, veps: v128, wd: f32): void {
  const vp = load_lanes(p + o, k);
  let vd = load_lanes(g + o, k);
  if (wd != 0) vd = f32x4.add(vd, f32x4.mul(vwd, vp));
  const vs = f32x4.add(load_lanes(sum + o, k), f32x4.mul(vd, vd));
  store_lanes(sum + o, vs, k);
  store_lanes(p + o, f32x4.sub(vp, f32x4.mul(vclr, f32x4.div(vd, f32x4.add(f32x4.sqrt(vs), veps)))), k);
}

// ---- Norms and clipping ---------------------------------------------------------------------

/**
 * Σ x² over x (n), accumulated in f64 (each square of an f32 is exact in f64), two f64x2
 * accumulators; for the 2-norm of clip_grad_norm_. NaN/∞ propagate.
 */
export function f32_sumsq(n: i32, x: usize): f64 {
  let vlo = f64x2.splat(0), vhi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const vx = v128.load(x + (<usize>i << 2));
    const x01 = f64x2.promote_low_f32x4(vx);
    const x23 = f64x2.promote_low_f32x4(v128.shuffle<f32>(vx, vx, 2, 3, 2, 3));
    vlo = f64x2.add(vlo, f64x2.mul(x01, x01));
    vhi = f64x2.add(vhi, f64x2.mul(x23, x23));
  }
  let s = (f64x2.extract_lane(vlo, 0) + f64x2.extract_lane(vhi, 0)) +
          (f64x2.extract_lane(vlo, 1) + f64x2.extract_lane(vhi, 1));
  for (; i < n; i++) {
    const t = <f64>load<f32>(x + (<usize>i << 2));
    s += t * t;
  }
  return s;
}

/** max |x| over x (n), 0 when n = 0; NaN if any element is NaN (as torch's max). */
export function f32_absmax(n: i32, x: usize): f32 {
  let vm = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) vm = f32x4.max(vm, f32x4.abs(v128.load(x + (<usize>i << 2))));
  let s = max<f32>(max<f32>(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)),
                   max<f32>(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)));
  for (; i < n; i++) s = max<f32>(s, abs<f32>(load<f32>(x + (<usize>i << 2))));
  return s;
}

/** x (n) *= s. */
export function f32_scale(n: i32, x: usize, s: f32): void {
  const vs = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(x + o, f32x4.mul(v128.load(x + o), vs)); }
  if (i < n) { const o = <usize>i << 2, k = n - i; store_lanes(x + o, f32x4.mul(load_lanes(x + o, k), vs), k); }
}

/** x (n) = min(max(x, lo), hi), as torch.clamp_ (NaN stays NaN). */
export function f32_clamp(n: i32, x: usize, lo: f32, hi: f32): void {
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  let i = 0; // NaN stays NaN (pmax / pmin keep their first operand's NaN)
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(x + o, f32x4.pmin(f32x4.pmax(v128.load(x + o), vlo), vhi)); }
  if (i < n) { const o = <usize>i << 2, k = n - i; store_lanes(x + o, f32x4.pmin(f32x4.pmax(load_lanes(x + o, k), vlo), vhi), k); }
}
