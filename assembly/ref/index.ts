// Scalar twins of every SIMD kernel: same signatures, plain loops, exact f64 nonlinearities.
// They are the oracle the tests compare the SIMD kernels against; nothing calls them in
// production (llm.c keeps matmul_forward_naive for the same reason).

@inline function ld(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
@inline function st(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }
@inline function sig(x: f32): f32 { return <f32>(1.0 / (1.0 + Math.exp(-<f64>x))); }
@inline function th(x: f32): f32 { return <f32>Math.tanh(<f64>x); }

export function f32_gemm_nt_ref(M: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32,
                                C: usize, ldc: i32, acc: i32): void {
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s: f64 = 0;
    for (let k = 0; k < K; k++) s += <f64>ld(A, i * lda + k) * <f64>ld(B, j * ldb + k);
    st(C, i * ldc + j, acc ? <f32>(<f64>ld(C, i * ldc + j) + s) : <f32>s);
  }
}

export function f32_gemm_nn_ref(M: i32, N: i32, K: i32, A: usize, ars: i32, acs: i32, B: usize, ldb: i32,
                                C: usize, ldc: i32, acc: i32): void {
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s: f64 = 0;
    for (let k = 0; k < K; k++) s += <f64>ld(A, i * ars + k * acs) * <f64>ld(B, k * ldb + j);
    st(C, i * ldc + j, acc ? <f32>(<f64>ld(C, i * ldc + j) + s) : <f32>s);
  }
}

export function f32_vtanh_ref(n: i32, x: usize, y: usize): void {
  for (let i = 0; i < n; i++) st(y, i, th(ld(x, i)));
}
export function f32_vsigmoid_ref(n: i32, x: usize, y: usize): void {
  for (let i = 0; i < n; i++) st(y, i, sig(ld(x, i)));
}
export function f32_vrelu_ref(n: i32, x: usize, y: usize): void {
  for (let i = 0; i < n; i++) st(y, i, max<f32>(ld(x, i), 0)); // NaN stays NaN, as torch.relu
}

export function f32_add_rows_ref(M: i32, N: i32, X: usize, ldx: i32, Y: usize, ldy: i32): void {
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) st(Y, i * ldy + j, ld(Y, i * ldy + j) + ld(X, i * ldx + j));
}
export function f32_colsum_ref(M: i32, N: i32, A: usize, lda: i32, y: usize): void {
  for (let j = 0; j < N; j++) {
    let s: f64 = 0;
    for (let i = 0; i < M; i++) s += <f64>ld(A, i * lda + j);
    st(y, j, <f32>(<f64>ld(y, j) + s));
  }
}

export function f32_nonfinite_ref(n: i32, x: usize): i32 {
  for (let i = 0; i < n; i++) if (!isFinite(ld(x, i))) return i;
  return -1;
}

export function f32_lstm_step_forward_ref(B: i32, H: i32, gates: usize, cp: usize, ldcp: i32,
                                          c: usize, h: usize, ldh: i32): void {
  for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
    const g = b * 4 * H + j;
    const i_ = sig(ld(gates, g)), f = sig(ld(gates, g + H)), gg = th(ld(gates, g + 2 * H)), o = sig(ld(gates, g + 3 * H));
    st(gates, g, i_); st(gates, g + H, f); st(gates, g + 2 * H, gg); st(gates, g + 3 * H, o);
    const cn = f * ld(cp, b * ldcp + j) + i_ * gg;
    st(c, b * H + j, cn);
    st(h, b * ldh + j, o * th(cn));
  }
}

export function f32_lstm_step_backward_ref(B: i32, H: i32, gates: usize, c: usize, cp: usize, ldcp: i32,
                                           dh: usize, ldd: i32, dc: usize, dgates: usize, lddg: i32): void {
  for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
    const g = b * 4 * H + j, dg = b * lddg + j;
    const i_ = ld(gates, g), f = ld(gates, g + H), gg = ld(gates, g + 2 * H), o = ld(gates, g + 3 * H);
    const d = ld(dh, b * ldd + j), tc = th(ld(c, b * H + j));
    const dct = ld(dc, b * H + j) + d * o * (1 - tc * tc);
    st(dc, b * H + j, dct * f);
    st(dgates, dg, dct * gg * i_ * (1 - i_));
    st(dgates, dg + H, dct * ld(cp, b * ldcp + j) * f * (1 - f));
    st(dgates, dg + 2 * H, dct * i_ * (1 - gg * gg));
    st(dgates, dg + 3 * H, d * tc * o * (1 - o));
  }
}

export function f32_gru_step_forward_ref(B: i32, H: i32, gates: usize, hg: usize, hp: usize, ldhp: i32,
                                         h: usize, ldh: i32, hn: usize): void {
  for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
    const g = b * 3 * H + j;
    const r = sig(ld(gates, g) + ld(hg, g)), z = sig(ld(gates, g + H) + ld(hg, g + H));
    const vhn = ld(hg, g + 2 * H);
    const n = th(ld(gates, g + 2 * H) + r * vhn);
    st(gates, g, r); st(gates, g + H, z); st(gates, g + 2 * H, n); st(hn, b * H + j, vhn);
    st(h, b * ldh + j, (1 - z) * n + z * ld(hp, b * ldhp + j));
  }
}

export function f32_gru_step_backward_ref(B: i32, H: i32, gates: usize, hn: usize, hp: usize, ldhp: i32,
                                          dh: usize, dgx: usize, dgh: usize, lddg: i32): void {
  for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
    const g = b * 3 * H + j, dg = b * lddg + j;
    const r = ld(gates, g), z = ld(gates, g + H), n = ld(gates, g + 2 * H), d = ld(dh, b * H + j);
    const dn = d * (1 - z) * (1 - n * n);
    const dz = d * (ld(hp, b * ldhp + j) - n) * z * (1 - z);
    const dr = dn * ld(hn, b * H + j) * r * (1 - r);
    st(dgx, dg, dr); st(dgx, dg + H, dz); st(dgx, dg + 2 * H, dn);
    st(dgh, dg, dr); st(dgh, dg + H, dz); st(dgh, dg + 2 * H, dn * r);
    st(dh, b * H + j, d * z);
  }
}

export function f32_rnn_step_forward_ref(B: i32, H: i32, a: usize, h: usize, ldh: i32, relu: i32): void {
  for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
    const v = ld(a, b * H + j);
    st(h, b * ldh + j, relu ? max<f32>(v, 0) : th(v));
  }
}

export function f32_rnn_step_backward_ref(B: i32, H: i32, h: usize, ldh: i32, dh: usize, da: usize, ldda: i32, relu: i32): void {
  for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
    const v = ld(h, b * ldh + j), d = ld(dh, b * H + j);
    st(da, b * ldda + j, relu ? (v > 0 ? d : 0) : d * (1 - v * v));
  }
}

export function f32_vmul_ref(n: i32, x: usize, y: usize, z: usize): void {
  for (let i = 0; i < n; i++) st(z, i, ld(x, i) * ld(y, i));
}

/** Twin of f32_gemm_pk: reads the packed panels back element by element. */
export function f32_gemm_pk_ref(M: i32, N: i32, K: i32, A: usize, lda: i32, Wp: usize, C: usize, ldc: i32, acc: i32): void {
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s: f64 = 0;
    for (let k = 0; k < K; k++) s += <f64>ld(A, i * lda + k) * <f64>ld(Wp, ((j >> 4) * K + k) * 16 + (j & 15));
    st(C, i * ldc + j, acc ? <f32>(<f64>ld(C, i * ldc + j) + s) : <f32>s);
  }
}
