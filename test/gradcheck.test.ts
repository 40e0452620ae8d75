// Finite-difference gradient checks, independent of PyTorch: for a random linear functional
// L = Σ output·Ro + Σ hN·Rh (+ Σ cN·Rc), central differences of L with respect to sampled
// entries of every parameter, the input and the initial states must match backward().
import { beforeAll, describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, Tensor, type Recurrent } from '../src/index.js';
import { engine, randomArray } from './helpers/engine.js';

beforeAll(async () => { await engine(); });

const EPS = 1e-2;

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function check(make: () => Recurrent, T: number, B: number) {
  const m = make();
  const { inputSize: I, numLayers: L, hiddenSize: H, kind, batchFirst } = m.config;
  const D = m.numDirections, R = m.outputSize;
  const x = new Tensor(randomArray(T * B * I, 1), batchFirst ? [B, T, I] : [T, B, I]);
  const h0 = new Tensor(randomArray(D * L * B * R, 2, -0.5, 0.5), [D * L, B, R]);
  const c0 = kind === 'LSTM' ? new Tensor(randomArray(D * L * B * H, 3, -0.5, 0.5), [D * L, B, H]) : undefined;
  const ro = randomArray(T * B * D * R, 4), rh = randomArray(D * L * B * R, 5), rc = randomArray(D * L * B * H, 6);
  const loss = (xx: Tensor, hh: Tensor, cc?: Tensor): number => {
    m.manualSeed(99); // the same dropout masks in every evaluation
    const f = m.forward(xx, { h0: hh, ...(cc ? { c0: cc } : {}) });
    return dot(f.output.data, ro) + dot(f.hN.data, rh) + (f.cN ? dot(f.cN.data, rc) : 0);
  };
  m.manualSeed(99);
  m.forward(x, { h0, ...(c0 ? { c0 } : {}) });
  m.zeroGrad();
  const bw = m.backward({
    dOutput: { data: ro, shape: batchFirst ? [B, T, D * R] : [T, B, D * R] },
    dhN: { data: rh, shape: [D * L, B, R] },
    ...(c0 ? { dcN: { data: rc, shape: [D * L, B, H] } } : {}),
  });
  const grads = m.gradients();
  const results: { what: string; fd: number; an: number }[] = [];
  const perturb = (t: Tensor, i: number, delta: number) => { const d = t.data.slice(); d[i] += delta; return new Tensor(d, t.shape); };
  const sample = (n: number, k: number, seed: number) => Array.from(new Set(Array.from(randomArray(k, seed, 0, n), Math.floor)));

  for (const i of sample(x.size, 6, 7)) {
    const fd = (loss(perturb(x, i, EPS), h0, c0) - loss(perturb(x, i, -EPS), h0, c0)) / (2 * EPS);
    results.push({ what: `input[${i}]`, fd, an: bw.dInput.data[i] });
  }
  for (const i of sample(h0.size, 4, 8)) {
    const fd = (loss(x, perturb(h0, i, EPS), c0) - loss(x, perturb(h0, i, -EPS), c0)) / (2 * EPS);
    results.push({ what: `h0[${i}]`, fd, an: bw.dh0.data[i] });
  }
  if (c0) for (const i of sample(c0.size, 4, 9)) {
    const fd = (loss(x, h0, perturb(c0, i, EPS)) - loss(x, h0, perturb(c0, i, -EPS))) / (2 * EPS);
    results.push({ what: `c0[${i}]`, fd, an: bw.dc0!.data[i] });
  }
  const base = m.stateDict();
  for (const [name, p] of Object.entries(base)) {
    for (const i of sample(p.size, 3, name.length * 31 + p.size)) {
      m.loadStateDict({ ...base, [name]: perturb(p, i, EPS) });
      const up = loss(x, h0, c0);
      m.loadStateDict({ ...base, [name]: perturb(p, i, -EPS) });
      const down = loss(x, h0, c0);
      results.push({ what: `${name}[${i}]`, fd: (up - down) / (2 * EPS), an: grads[name].data[i] });
    }
  }
  m.loadStateDict(base);
  let worst = 0;
  for (const r of results) {
    const err = Math.abs(r.fd - r.an) / (1e-2 + Math.abs(r.an));
    worst = Math.max(worst, err);
    expect(err, `${kind} ${r.what}: finite difference ${r.fd} vs backward ${r.an}`).toBeLessThan(1e-2);
  }
  console.log(`${kind} gradcheck: ${results.length} entries, worst relative error ${worst.toExponential(2)}`);
  m.dispose();
}

describe('finite-difference gradient checks', () => {
  it('LSTM, 2 layers, bidirectional, projection', () =>
    check(() => new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 3, seed: 1 }), 4, 2));
  it('LSTM, batchFirst, no bias, H = 13', () =>
    check(() => new LSTM({ inputSize: 5, hiddenSize: 13, bias: false, batchFirst: true, seed: 2 }), 3, 3));
  it('GRU, 2 layers, bidirectional', () =>
    check(() => new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, seed: 3 }), 4, 2));
  it('GRU, 3 layers with dropout 0.3 between them', () =>
    check(() => new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 3, dropout: 0.3, seed: 6 }), 4, 2));
  it('GRU, H = 1', () => check(() => new GRU({ inputSize: 1, hiddenSize: 1, seed: 4 }), 5, 1));
  it('RNN tanh, 2 layers, bidirectional', () =>
    check(() => new RNN({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, seed: 5 }), 4, 2));
});
