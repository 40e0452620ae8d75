// Linear, Embedding and SequenceHead: their kernels against the `_ref` twins (sizes 1…37, guards,
// padded strides), Linear parity with PyTorch (test/fixtures/gen_loss.py), finite differences for
// every layer, SequenceHead against plain JS, errors, memory, and one end-to-end model.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, CrossEntropyLoss, Embedding, LSTM, Linear, NumericError, SequenceHead, ShapeError, StateError, Tensor,
  type Activation, type Engine,
} from '../src/index.js';
import type { Module } from '../src/nn/module.js';
import { Sequential } from '../src/nn/sequential.js';
import { engine, fixtureNames, loadFixture, maxAbsDiff, randomArray } from './helpers/engine.js';
import { runBoth as runTwins, strided, type Buf } from './helpers/twins.js';

/** Both runs' buffers (the twin harness of helpers/twins.ts). */
const runBoth = (bufs: Record<string, Buf>, call: (p: Record<string, number>, twin: boolean) => void) =>
  runTwins(e, bufs, call).map((r) => r.out) as [Record<string, Float32Array>, Record<string, Float32Array>];

let e: Engine;
beforeAll(async () => { e = await engine(); });

const SIZES = [1, 3, 4, 5, 13, 37];
describe('layer kernels vs their scalar twins', () => {
  const ACT = ['f32_vtanh_backward', 'f32_vsigmoid_backward', 'f32_vrelu_backward'] as const;
  for (const kernel of ACT) for (const n of [...SIZES, 0]) {
    it(`${kernel} n=${n} (dx separate, dx = dy)`, () => {
      const lo = kernel === 'f32_vtanh_backward' ? -1 : kernel === 'f32_vsigmoid_backward' ? 0 : -2;
      const y = randomArray(n, n + 5, lo, 1), dy = randomArray(n, n + 6, -3, 3);
      if (kernel === 'f32_vrelu_backward') for (let i = 0; i < n; i += 3) y[i] = i % 2 ? 0 : -0; // zeros: no gradient
      for (const inPlace of [false, true]) {
        const bufs: Record<string, Buf> = { y: { data: y }, dy: { data: dy, out: inPlace } };
        if (!inPlace) bufs.dx = { data: new Float32Array(n).fill(NaN), out: true };
        const [s, r] = runBoth(bufs, (p, twin) => (twin ? e.kernels[`${kernel}_ref`]! : e.kernels[kernel])(n, p.y, p.dy, inPlace ? p.dy : p.dx));
        const o = inPlace ? 'dy' : 'dx';
        expect(maxAbsDiff(s[o], r[o]), `${kernel} in place ${inPlace}`).toBeLessThanOrEqual(kernel === 'f32_vrelu_backward' ? 0 : 1e-6);
      }
    });
  }

  for (const N of SIZES) for (const D of SIZES) {
    it(`f32_gather_rows / f32_scatter_add_rows N=${N} D=${D} (repeated ids, padded strides)`, () => {
      const V = 7, ids = Int32Array.from({ length: N }, (_, i) => (i * 3) % V); // repeats once N > 7
      for (const pad of [0, 3]) {
        const ld = D + pad, W = randomArray(V * D, N * 50 + D, -2, 2), dY = randomArray(N * D, N + D, -1, 1);
        const [gs, gr] = runBoth({ ids: { data: ids }, W: strided(V, D, ld, W), Y: strided(N, D, ld + 1, null, true) },
          (p, twin) => (twin ? e.kernels.f32_gather_rows_ref! : e.kernels.f32_gather_rows)(N, D, p.ids, p.W, ld, p.Y, ld + 1));
        expect(maxAbsDiff(gs.Y, gr.Y), 'gather').toBe(0);
        const [ss, sr] = runBoth({ ids: { data: ids }, dY: strided(N, D, ld + 2, dY), dW: strided(V, D, ld, W, true) },
          (p, twin) => (twin ? e.kernels.f32_scatter_add_rows_ref! : e.kernels.f32_scatter_add_rows)(N, D, p.ids, p.dY, ld + 2, p.dW, ld));
        expect(maxAbsDiff(ss.dW, sr.dW), 'scatter-add').toBe(0);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Linear.

interface TJ { shape: number[]; data: number[] }
interface LinearFixture {
  name: string; inFeatures: number; outFeatures: number; activation: Activation; bias: boolean;
  weight: TJ; biasValue: TJ | null; input: TJ; output: TJ; dOutput: TJ; dInput: TJ; dWeight: TJ; dBias: TJ | null;
}
const T = (t: TJ) => new Tensor(Float32Array.from(t.data), t.shape);

describe('Linear: parity with PyTorch (tol 1e-5)', () => {
  const files = fixtureNames('loss').filter((n) => n.startsWith('linear_'));
  let worst = 0;
  for (const file of files) {
    it(file, () => {
      const f = loadFixture<LinearFixture>('loss', file);
      const m = new Linear({ inFeatures: f.inFeatures, outFeatures: f.outFeatures, bias: f.bias, activation: f.activation, seed: 1 });
      m.loadStateDict({ weight: T(f.weight), ...(f.biasValue ? { bias: T(f.biasValue) } : {}) });
      const y = m.forward(T(f.input));
      const dx = m.backward(T(f.dOutput));
      const g = m.gradients();
      const errs = [maxAbsDiff(y.data, f.output.data), maxAbsDiff(dx.data, f.dInput.data), maxAbsDiff(g.weight.data, f.dWeight.data),
        f.dBias ? maxAbsDiff(g.bias.data, f.dBias.data) : 0];
      worst = Math.max(worst, ...errs);
      console.log(`${f.name.padEnd(26)} output ${errs[0].toExponential(2)} dInput ${errs[1].toExponential(2)} dWeight ${errs[2].toExponential(2)} dBias ${errs[3].toExponential(2)}`);
      expect([...y.shape]).toEqual(f.output.shape);
      expect([...dx.shape]).toEqual(f.input.shape);
      for (const err of errs) expect(err).toBeLessThan(1e-5);
      m.dispose();
    });
  }
  it('summary', () => console.log(`Linear: ${files.length} fixtures, max error ${worst.toExponential(2)}`));
});

/** Central differences of L = Σ forward(x)·R with respect to every input and parameter entry. */
function gradcheck(m: Module & { stateDict(): Record<string, Tensor>; loadStateDict(r: Record<string, Tensor>): void; gradients(): Record<string, Tensor>; zeroGrad(): void },
  x: Tensor, opts: { eps?: number; inputGrad?: boolean; ctx?: { lengths?: Int32Array } } = {}): number {
  const eps = opts.eps ?? 1e-2, ctx = { training: false, ...opts.ctx };
  const y0 = m.forward(x, ctx), R = randomArray(y0.size, 99);
  const L = (xx: Tensor) => { const y = m.forward(xx, ctx); let s = 0; for (let i = 0; i < y.size; i++) s += y.data[i] * R[i]; return s; };
  m.zeroGrad();
  m.forward(x, ctx);
  const dx = m.backward(new Tensor(R, y0.shape)), grads = m.gradients(), base = m.stateDict();
  if (!dx) throw new Error("gradcheck: backward returned no input gradient");
  const checks: [string, number, number][] = [];
  const bump = (t: Tensor, i: number, d: number) => { const c = t.data.slice(); c[i] += d; return new Tensor(c, t.shape); };
  if (opts.inputGrad !== false) for (let i = 0; i < x.size; i++) checks.push([`input[${i}]`, (L(bump(x, i, eps)) - L(bump(x, i, -eps))) / (2 * eps), dx.data[i]]);
  for (const [name, p] of Object.entries(base)) for (let i = 0; i < p.size; i++) {
    m.loadStateDict({ ...base, [name]: bump(p, i, eps) }); const up = L(x);
    m.loadStateDict({ ...base, [name]: bump(p, i, -eps) }); const dn = L(x);
    checks.push([`${name}[${i}]`, (up - dn) / (2 * eps), grads[name].data[i]]);
  }
  m.loadStateDict(base);
  let worst = 0;
  for (const [what, fd, an] of checks) {
    const err = Math.abs(fd - an) / (1e-2 + Math.abs(an));
    worst = Math.max(worst, err);
    expect(err, `${what}: finite difference ${fd} vs backward ${an}`).toBeLessThan(1e-2);
  }
  return worst;
}

describe('Linear', () => {
  for (const activation of ['none', 'tanh', 'sigmoid', 'relu'] as const) {
    it(`finite differences, activation ${activation}, leading dims (2, 3)`, () => {
      const m = new Linear({ inFeatures: 5, outFeatures: 3, activation, seed: 11 });
      const worst = gradcheck(m, new Tensor(randomArray(30, 12, -2, 2), [2, 3, 5]), { eps: activation === 'relu' ? 1e-3 : 1e-2 });
      console.log(`Linear ${activation} gradcheck worst relative error ${worst.toExponential(2)}`);
      m.dispose();
    });
  }
  it('finite differences without bias; gradients accumulate (+=) across backward calls', () => {
    const m = new Linear({ inFeatures: 4, outFeatures: 13, bias: false, activation: 'tanh', seed: 3 });
    gradcheck(m, new Tensor(randomArray(8, 4), [2, 4]));
    expect(Object.keys(m.stateDict())).toEqual(['weight']);
    const x = new Tensor(randomArray(8, 5), [2, 4]), dy = new Tensor(randomArray(26, 6), [2, 13]);
    m.zeroGrad(); m.forward(x); m.backward(dy);
    const once = m.gradients().weight.data;
    m.forward(x); m.backward(dy);
    expect(maxAbsDiff(m.gradients().weight.data, once.map((v) => 2 * v))).toBeLessThan(1e-6);
    m.dispose();
  });
  it('forward uses the current weights after an optimizer step, loadStateDict and resetParameters (W is packed per version)', () => {
    const m = new Linear({ inFeatures: 13, outFeatures: 37, seed: 2 });
    const x = new Tensor(randomArray(5 * 13, 21), [5, 13]);
    // y = x·Wᵀ + b in plain JS from the state dict.
    const expected = () => {
      const { weight: W, bias: b } = m.stateDict(), y = new Float32Array(5 * 37);
      for (let i = 0; i < 5; i++) for (let j = 0; j < 37; j++) {
        let s = 0;
        for (let k = 0; k < 13; k++) s += x.data[i * 13 + k] * W.data[j * 13 + k];
        y[i * 37 + j] = s + b.data[j];
      }
      return y;
    };
    expect(maxAbsDiff(m.forward(x).data, expected())).toBeLessThan(1e-5);
    const opt = new Adam(m, { lr: 0.1 });
    const before = m.stateDict().weight.data;
    m.backward(new Tensor(randomArray(5 * 37, 22), [5, 37]));
    opt.step();
    expect(maxAbsDiff(m.stateDict().weight.data, before)).toBeGreaterThan(0.05); // the step moved W
    expect(maxAbsDiff(m.forward(x).data, expected())).toBeLessThan(1e-5);
    const sd = m.stateDict();
    sd.weight.data.fill(0.25);
    m.loadStateDict(sd);
    expect(maxAbsDiff(m.forward(x).data, expected())).toBeLessThan(1e-5);
    m.resetParameters(9);
    expect(maxAbsDiff(m.forward(x).data, expected())).toBeLessThan(1e-5);
    opt.dispose();
    m.dispose();
  });
  it('PyTorch names, shapes and U(±1/√I) init; 1-D input; seeded', () => {
    const m = new Linear({ inFeatures: 16, outFeatures: 3, seed: 5 }), sd = m.stateDict();
    expect(Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, [...v.shape]]))).toEqual({ weight: [3, 16], bias: [3] });
    expect(Math.max(...sd.weight.data.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(maxAbsDiff(sd.weight.data, new Linear({ inFeatures: 16, outFeatures: 3, seed: 5 }).stateDict().weight.data)).toBe(0);
    const y = m.forward(new Tensor(randomArray(16, 1), [16]));
    expect([...y.shape]).toEqual([3]);
    expect([...m.backward(new Tensor(new Float32Array(3), [3])).shape]).toEqual([16]);
    expect(m.parameters()).toEqual([m.params]);
    m.dispose();
  });
  it('errors and memory', () => {
    const m = new Linear({ inFeatures: 3, outFeatures: 2, seed: 1 });
    expect(() => new Linear({ inFeatures: 0, outFeatures: 2 })).toThrow(/inFeatures must be an integer ≥ 1/);
    expect(() => new Linear({ inFeatures: 2, outFeatures: 2, activation: 'gelu' as never })).toThrow(/activation must be one of/);
    expect(() => m.backward(new Tensor(new Float32Array(2), [1, 2]))).toThrow(StateError);
    expect(() => m.forward(new Tensor(new Float32Array(4), [2, 2]))).toThrow(/input must be \(…, 3\)/);
    expect(() => m.forward(new Tensor(Float32Array.from([1, NaN, 0]), [1, 3]))).toThrow(NumericError);
    const x = new Tensor(randomArray(12, 2), [4, 3]);
    m.forward(x);
    expect(() => m.backward(new Tensor(new Float32Array(6), [3, 2]))).toThrow(/dOutput: expected shape \[4, 2\]/);
    const steady = e.heap.bytesInUse;
    for (let i = 0; i < 3; i++) { m.forward(x); m.backward(new Tensor(new Float32Array(8), [4, 2])); }
    expect(e.heap.bytesInUse).toBe(steady);
    m.dispose();
    expect(() => m.forward(x)).toThrow(StateError);
  });
});

// ---------------------------------------------------------------------------------------------
// Embedding.

describe('Embedding', () => {
  it('gathers rows, scatter-adds repeated ids, returns zeros for dx', () => {
    const V = 11, D = 5, m = new Embedding({ numEmbeddings: V, embeddingDim: D, seed: 2 });
    const W = m.stateDict().weight.data, ids = new Tensor(Float32Array.from([3, 0, 3, 10, 7, 3]), [2, 3]);
    const y = m.forward(ids);
    expect([...y.shape]).toEqual([2, 3, D]);
    for (let i = 0; i < 6; i++) expect([...y.data.subarray(i * D, i * D + D)]).toEqual([...W.subarray(ids.data[i] * D, ids.data[i] * D + D)]);
    const dy = new Tensor(randomArray(6 * D, 3), [2, 3, D]);
    const dx = m.backward(dy);
    expect([...dx.shape]).toEqual([2, 3]);
    expect(dx.data.every((v) => v === 0)).toBe(true);
    const want = new Float32Array(V * D);
    for (let i = 0; i < 6; i++) for (let j = 0; j < D; j++) want[ids.data[i] * D + j] += dy.data[i * D + j];
    expect(maxAbsDiff(m.gradients().weight.data, want)).toBeLessThan(1e-6);
    m.dispose();
  });
  it('finite differences on the weight', () => {
    const m = new Embedding({ numEmbeddings: 4, embeddingDim: 3, seed: 4 });
    gradcheck(m, new Tensor(Float32Array.from([1, 3, 1, 0, 2]), [5]), { inputGrad: false });
    m.dispose();
  });
  it('N(0, 1) init (torch default), seeded; errors for bad ids', () => {
    const m = new Embedding({ numEmbeddings: 200, embeddingDim: 50, seed: 9 }), w = m.stateDict().weight.data;
    const mean = w.reduce((a, b) => a + b, 0) / w.length, v = w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(v) - 1)).toBeLessThan(0.03);
    expect(() => m.forward(new Tensor(Float32Array.from([0, 200]), [2]))).toThrow(/ids\[1\] = 200 is out of range 0…199/);
    expect(() => m.forward(new Tensor(Float32Array.from([-1]), [1]))).toThrow(ShapeError);
    expect(() => m.forward(new Tensor(Float32Array.from([1.5]), [1]))).toThrow(/ids\[0\] = 1.5 is not an integer/);
    expect(() => m.backward(new Tensor(new Float32Array(50), [1, 50]))).toThrow(StateError);
    m.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// SequenceHead.

/** The straightforward reading of each mode, per sequence and feature. */
function headRef(mode: 'last' | 'mean' | 'max', x: Float32Array, T_: number, B: number, F: number, lens: number[], bidir = false): Float32Array {
  const y = new Float32Array(B * F), at = (t: number, b: number, f: number) => x[(t * B + b) * F + f];
  for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) {
    const steps = [...Array(lens[b]).keys()].map((t) => at(t, b, f));
    y[b * F + f] = mode === 'mean' ? steps.reduce((a, v) => a + v, 0) / lens[b]
      : mode === 'max' ? Math.max(...steps)
      : bidir && f >= F / 2 ? at(0, b, f) : at(lens[b] - 1, b, f);
  }
  return y;
}

/** Smallest |x[t, b, f] − x[s, b, f]| over t ≠ s. */
function minGap(x: Float32Array, T_: number, B: number, F: number): number {
  let g = Infinity;
  for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) for (let t = 0; t < T_; t++) for (let s = t + 1; s < T_; s++) {
    g = Math.min(g, Math.abs(x[(t * B + b) * F + f] - x[(s * B + b) * F + f]));
  }
  return g;
}

describe('SequenceHead', () => {
  const T_ = 5, B = 4, F = 6, lengths = Int32Array.from([5, 1, 3, 2]);
  const x = new Tensor(randomArray(T_ * B * F, 31, -2, 2), [T_, B, F]);
  const cases = [['last', false], ['last', true], ['mean', false], ['max', false]] as const;
  for (const [mode, bidirectional] of cases) {
    it(`${mode}${bidirectional ? ' (bidirectional)' : ''}: matches plain JS with and without lengths, and finite differences`, () => {
      const h = new SequenceHead({ mode, bidirectional });
      for (const lens of [lengths, undefined]) {
        const y = h.forward(x, { training: false, ...(lens ? { lengths: lens } : {}) });
        expect([...y.shape]).toEqual([B, F]);
        expect(maxAbsDiff(y.data, headRef(mode, x.data, T_, B, F, lens ? [...lens] : [T_, T_, T_, T_], bidirectional))).toBeLessThan(1e-6);
        const dy = new Tensor(randomArray(B * F, 32), [B, F]);
        // Max is piecewise linear: keep the step below the smallest gap between two candidates.
        const eps = mode === 'max' ? Math.min(1e-2, minGap(x.data, T_, B, F) / 4) : 1e-2;
        const dx = h.backward(dy);
        for (let i = 0; i < x.size; i++) {
          const up = x.data.slice(), dn = x.data.slice(); up[i] += eps; dn[i] -= eps;
          const ctx = { training: false, ...(lens ? { lengths: lens } : {}) };
          const yu = h.forward(new Tensor(up, x.shape), ctx).data, yd = h.forward(new Tensor(dn, x.shape), ctx).data;
          let fd = 0;
          for (let j = 0; j < B * F; j++) fd += ((yu[j] - yd[j]) / (2 * eps)) * dy.data[j];
          expect(Math.abs(fd - dx.data[i]), `dx[${i}] (eps ${eps})`).toBeLessThan(1e-6 / eps);
        }
      }
    });
  }
  it('max routes ties to the first step; padded steps get no gradient', () => {
    const h = new SequenceHead({ mode: 'max' });
    const xt = new Tensor(Float32Array.from([1, 5, 2, 5, 2, 9]), [3, 2, 1]); // b = 0: 1, 2, 2 — b = 1: 5, 5, 9 (t = 2 padded)
    expect([...h.forward(xt, { training: true, lengths: Int32Array.from([3, 2]) }).data]).toEqual([2, 5]);
    expect([...h.backward(new Tensor(Float32Array.from([1, 1]), [2, 1])).data]).toEqual([0, 1, 1, 0, 0, 0]);
  });
  it('errors', () => {
    expect(() => new SequenceHead({ mode: 'first' as never })).toThrow(/mode must be 'last', 'mean' or 'max'/);
    expect(() => new SequenceHead({ mode: 'mean', bidirectional: true })).toThrow(/bidirectional applies to mode 'last'/);
    const h = new SequenceHead({ mode: 'last', bidirectional: true });
    expect(() => h.backward(new Tensor(new Float32Array(1), [1, 1]))).toThrow(StateError);
    expect(() => h.forward(new Tensor(new Float32Array(6), [2, 3]))).toThrow(/time-major \(T, B, F\)/);
    expect(() => h.forward(new Tensor(new Float32Array(6), [2, 1, 3]))).toThrow(/even feature count/);
    expect(() => h.forward(x, { lengths: Int32Array.from([5, 0, 3, 2]) })).toThrow(/lengths\[1\] = 0, expected an integer in 1…5/);
    expect(() => h.forward(x, { lengths: Int32Array.from([5]) })).toThrow(/lengths has 1 entries/);
  });
});

// ---------------------------------------------------------------------------------------------
// The pieces together: Embedding → LSTM → SequenceHead → Linear → CrossEntropyLoss.

describe('end to end', () => {
  it('a padded batch through Sequential: finite differences of the loss on sampled parameters', () => {
    const seq = new Sequential([
      new Embedding({ numEmbeddings: 7, embeddingDim: 3, seed: 1 }),
      new LSTM({ inputSize: 3, hiddenSize: 5, bidirectional: true, seed: 2 }),
      new SequenceHead({ mode: 'last', bidirectional: true }),
      new Linear({ inFeatures: 10, outFeatures: 4, activation: 'none', seed: 3 }),
    ]).eval();
    const ids = new Tensor(Float32Array.from([1, 2, 3, 4, 0, 6, 5, 0, 0]), [3, 3]), lengths = Int32Array.from([3, 2, 1]);
    const ce = new CrossEntropyLoss(), target = [0, 3, 1];
    const L = () => ce.forward(seq.forward(ids, { lengths }), target);
    L();
    seq.zeroGrad();
    seq.backward(ce.backward());
    const grads = seq.gradients(), base = seq.stateDict(), eps = 1e-2;
    let n = 0;
    for (const [name, p] of Object.entries(base)) for (const i of [0, Math.floor(p.size / 2), p.size - 1]) {
      const bump = (d: number) => { const c = p.data.slice(); c[i] += d; seq.loadStateDict({ ...base, [name]: new Tensor(c, p.shape) }); return L(); };
      const fd = (bump(eps) - bump(-eps)) / (2 * eps), an = grads[name].data[i];
      expect(Math.abs(fd - an) / (1e-2 + Math.abs(an)), `${name}[${i}]: ${fd} vs ${an}`).toBeLessThan(1e-2);
      n++;
    }
    seq.loadStateDict(base);
    expect(n).toBe(Object.keys(base).length * 3);
    seq.dispose(); ce.dispose();
  });
});
