// Float64 references of the inference workloads, straight from the equations (torch.nn.LSTM /
// torch.nn.GRU docs), in PyTorch's weight layout. Slow and simple; used only to check outputs
// before timing. Input x is time-major (T, B, I); returns y (T, B, H) as a Float64Array.
//
//   LSTM  i, f, g, o = σ, σ, tanh, σ (W_i· x + b_i· + W_h· h + b_h·);  c' = f c + i g;  h' = o tanh(c')
//   GRU   r, z = σ(W_i· x + b_i· + W_h· h + b_h·)
//         n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))            (PyTorch, "reset after")
//         n = tanh(W_in x + b_in + b_hn + W_hn (r ⊙ h))            (Keras reset_after = false,
//                                                                   the only GRU of TF.js)
//         h' = (1 − z) n + z h

const sigmoid = (v) => 1 / (1 + Math.exp(-v));

/** out[g] = Σ_k W[g, k] v[k] for rows g0 … g0 + rows − 1 of a (·, K) matrix. */
function matvec(W, K, g0, rows, v, vOff, out) {
  for (let g = 0; g < rows; g++) {
    let s = 0;
    const row = (g0 + g) * K;
    for (let k = 0; k < K; k++) s += W[row + k] * v[vOff + k];
    out[g] = s;
  }
}

export function lstmReference({ T, B, I, H }, p, x) {
  const G = 4 * H;
  const y = new Float64Array(T * B * H);
  const h = new Float64Array(B * H), c = new Float64Array(B * H);
  const gx = new Float64Array(G), gh = new Float64Array(G), hb = new Float64Array(H);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      matvec(p.weight_ih_l0, I, 0, G, x, (t * B + b) * I, gx);
      matvec(p.weight_hh_l0, H, 0, G, h, b * H, gh);
      for (let j = 0; j < H; j++) {
        const pre = (q) => gx[q * H + j] + gh[q * H + j] + p.bias_ih_l0[q * H + j] + p.bias_hh_l0[q * H + j];
        const i = sigmoid(pre(0)), f = sigmoid(pre(1)), g = Math.tanh(pre(2)), o = sigmoid(pre(3));
        c[b * H + j] = f * c[b * H + j] + i * g;
        hb[j] = o * Math.tanh(c[b * H + j]);
      }
      h.set(hb, b * H);
      y.set(hb, (t * B + b) * H);
    }
  }
  return y;
}

export function gruReference({ T, B, I, H }, p, x, { resetAfter = true } = {}) {
  const G = 3 * H;
  const y = new Float64Array(T * B * H);
  const h = new Float64Array(B * H);
  const gx = new Float64Array(G), gh = new Float64Array(G), rh = new Float64Array(H), un = new Float64Array(H);
  const hb = new Float64Array(H);
  const bi = p.bias_ih_l0, bh = p.bias_hh_l0;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      matvec(p.weight_ih_l0, I, 0, G, x, (t * B + b) * I, gx);
      matvec(p.weight_hh_l0, H, 0, G, h, b * H, gh); // rows 2H…3H used only when resetAfter
      const r = new Float64Array(H), z = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        r[j] = sigmoid(gx[j] + bi[j] + gh[j] + bh[j]);
        z[j] = sigmoid(gx[H + j] + bi[H + j] + gh[H + j] + bh[H + j]);
        rh[j] = r[j] * h[b * H + j];
      }
      if (!resetAfter) matvec(p.weight_hh_l0, H, 2 * H, H, rh, 0, un);
      for (let j = 0; j < H; j++) {
        const q = 2 * H + j;
        const n = resetAfter
          ? Math.tanh(gx[q] + bi[q] + r[j] * (gh[q] + bh[q]))
          : Math.tanh(gx[q] + bi[q] + bh[q] + un[j]);
        hb[j] = (1 - z[j]) * n + z[j] * h[b * H + j];
      }
      h.set(hb, b * H);
      y.set(hb, (t * B + b) * H);
    }
  }
  return y;
}

/** Largest |a[i] − b[i]| (NaN-aware: any NaN gives Infinity). */
export function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths differ (${a.length} vs ${b.length})`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function maxAbs(a) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
