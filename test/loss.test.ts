// Losses: the SIMD loss kernels against their `_ref` twins (sizes 1…37, padded strides, guards),
// the exp/softmax accuracy against float64, parity with PyTorch (fixtures from
// test/fixtures/gen_loss.py), finite differences, extreme logits, lengths masking, errors, memory.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NumericError, ShapeError, StateError, Tensor, type Engine,
} from '../src/index.js';
import { engine, fixtureNames, loadFixture, maxAbsDiff, randomArray } from './helpers/engine.js';
import { runBoth as runTwins, strided, type Buf } from './helpers/twins.js';

const runBoth = (bufs: Record<string, Buf>, call: (p: Record<string, number>, twin: boolean) => number | void) => runTwins(e, bufs, call);

let e: Engine;
beforeAll(async () => { e = await engine(); });

const SIZES = [1, 3, 4, 5, 13, 37];
const worst = new Map<string, number>();
function note(kernel: string, err: number): void { worst.set(kernel, Math.max(worst.get(kernel) ?? 0, err)); }

describe('loss kernels vs their scalar twins', () => {
  it('a NaN or infinite logit makes its own row NaN (loss and every dx), no other', () => {
    // The API rejects such inputs (NumericError); the kernel itself must still not hide them.
    for (const [C, bad] of [[5, NaN], [8, NaN], [8, Infinity], [37, NaN], [37, -Infinity]] as const) {
      const N = 3, x = randomArray(N * C, C, -3, 3);
      x[C + (C >> 1)] = bad; // row 1
      const px = e.alloc(N * C), pt = e.alloc(N), pw = e.alloc(4), pd = e.alloc(N * C);
      e.write(px, x);
      new Int32Array(e.memory.buffer, pt, N).set([0, 1, 2]);
      const k = e.kernels;
      const rowLoss = (i: number) => k.f32_softmax_xent(1, C, px + i * C * 4, C, pt + i * 4, 0, -100, pd + i * C * 4, C, pw);
      const losses = [0, 1, 2].map(rowLoss), dx = e.read(pd, N * C);
      if (bad === -Infinity) { // e^(−∞ − m) = 0: a valid (if extreme) logit
        expect(losses.every(Number.isFinite), `C=${C} ${bad}`).toBe(true);
      } else {
        expect(Number.isNaN(losses[1]), `C=${C} ${bad}`).toBe(true);
        expect(dx.subarray(C, 2 * C).every(Number.isNaN)).toBe(true);
        expect(Number.isFinite(losses[0]) && Number.isFinite(losses[2])).toBe(true);
      }
      expect(dx.subarray(0, C).every(Number.isFinite) && dx.subarray(2 * C).every(Number.isFinite)).toBe(true);
      expect(Number.isNaN(k.f32_softmax_xent(N, C, px, C, pt, 0, -100, pd, C, pw)) || bad === -Infinity).toBe(true);
      for (const p of [px, pt, pw, pd]) e.release(p);
    }
  });

  for (const N of SIZES) for (const C of SIZES) {
    it(`f32_softmax_xent N=${N} C=${C}`, () => {
      for (const [pad, weighted, inPlace] of [[0, false, false], [3, true, false], [0, true, true]] as const) {
        const ld = C + pad, x = randomArray(N * C, N * 100 + C, -6, 6);
        const t = new Int32Array(N).map((_, i) => (i % 3 === 2 ? -7 : (i * 7 + C) % C)); // every 3rd ignored
        const w = randomArray(C, C, 0.2, 2);
        const bufs: Record<string, Buf> = {
          x: strided(N, C, ld, x, inPlace), t: { data: t }, w: { data: w },
          ws: { data: new Float32Array(2).fill(NaN), out: true },
          ...(inPlace ? {} : { dx: strided(N, C, ld, null, true) }),
        };
        const [s, r] = runBoth(bufs, (p, twin) => {
          const dx = inPlace ? p.x : p.dx;
          const f = twin ? e.kernels.f32_softmax_xent_ref! : e.kernels.f32_softmax_xent;
          return f(N, C, p.x, ld, p.t, weighted ? p.w : 0, -7, dx, ld, p.ws);
        });
        const name = inPlace ? 'x' : 'dx';
        const err = maxAbsDiff(s.out[name], r.out[name]);
        note('f32_softmax_xent', err);
        expect(err, `dx pad=${pad} weighted=${weighted} inPlace=${inPlace}`).toBeLessThan(1e-6);
        expect(Math.abs(s.ret - r.ret)).toBeLessThan(1e-6 * (1 + Math.abs(r.ret)));
        expect(new Float64Array(s.out.ws.buffer, s.out.ws.byteOffset, 1)[0])
          .toBeCloseTo(new Float64Array(r.out.ws.buffer, r.out.ws.byteOffset, 1)[0], 12);
      }
    });
  }

  for (const n of [...SIZES, 0]) for (const kernel of ['f32_mse', 'f32_bce_logits'] as const) {
    it(`${kernel} n=${n} (separate, dx = x, dx = y)`, () => {
      const x = randomArray(n, n + 1, -9, 9), y = randomArray(n, n + 2, kernel === 'f32_mse' ? -3 : 0, kernel === 'f32_mse' ? 3 : 1);
      for (const alias of ['dx', 'x', 'y'] as const) {
        const bufs: Record<string, Buf> = { x: { data: x, out: alias === 'x' }, y: { data: y, out: alias === 'y' } };
        if (alias === 'dx') bufs.dx = { data: new Float32Array(n).fill(NaN), out: true };
        const [s, r] = runBoth(bufs, (p, twin) => (twin ? e.kernels[`${kernel}_ref`]! : e.kernels[kernel])(n, p.x, p.y, p[alias]));
        const err = maxAbsDiff(s.out[alias], r.out[alias]);
        note(kernel, err);
        expect(err, `${kernel} gradient (alias ${alias})`).toBeLessThan(kernel === 'f32_mse' ? 1e-6 : 4e-7);
        expect(Math.abs(s.ret - r.ret), `${kernel} sum`).toBeLessThan(2e-7 * (n + 1) + 1e-9 * Math.abs(r.ret));
      }
    });
  }

  it('reports the largest |SIMD − twin| per kernel', () => {
    console.log([...worst].map(([k, v]) => `${k.padEnd(18)} ${v.toExponential(2)}`).join('\n'));
  });
});

describe('softmax / exp accuracy (float64 oracle)', () => {
  it('softmax within 3e-7 relative (+1e-30) and row losses within 1e-6 over x − max ∈ [-100, 0]', () => {
    const C = 37, N = 4000, x = new Float32Array(N * C);
    for (let i = 0; i < N; i++) for (let j = 0; j < C; j++) x[i * C + j] = j === 0 ? 0 : -100 * ((i * C + j) / (N * C));
    const ce = new CrossEntropyLoss({ reduction: 'sum' }), t = new Int32Array(N);
    let worstP = 0;
    for (let i = 0; i < N; i += 1000) {
      const rows = x.subarray(i * C, (i + 1000) * C);
      const loss = ce.forward(new Tensor(rows, [1000, C]), t.subarray(0, 1000));
      const g = ce.backward().data;
      let ref = 0;
      for (let r = 0; r < 1000; r++) {
        let s = 0;
        for (let j = 0; j < C; j++) s += Math.exp(rows[r * C + j]);
        ref += Math.log(s);
        for (let j = 0; j < C; j++) {
          const p = Math.exp(rows[r * C + j]) / s, got = g[r * C + j] + (j === 0 ? 1 : 0);
          if (j > 0 && p > 1e-30) worstP = Math.max(worstP, Math.abs(got - p) / p); // j = 0 carries the −1 of the one-hot
          expect(Math.abs(got - p), `p[${i + r}, ${j}] = ${got} vs ${p}`).toBeLessThanOrEqual(3e-7 * p + 1e-30 + (j === 0 ? 6e-8 : 0));
        }
      }
      expect(Math.abs(loss - ref)).toBeLessThan(1e-6 * 1000);
    }
    console.log(`softmax max relative error ${worstP.toExponential(2)} where p > 1e-30 (bound 3e-7)`);
    ce.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// Parity with PyTorch.

interface TJ { shape: number[]; data: number[] }
interface LossFixture {
  kind: 'ce' | 'mse' | 'bce' | 'linear'; name: string; reduction: 'mean' | 'sum'; ignoreIndex?: number;
  weight?: TJ | null; lengths: number[] | null; input: TJ; target: TJ; loss: number; dInput: TJ;
}
const tensor = (t: TJ) => new Tensor(Float32Array.from(t.data), t.shape);

function makeLoss(f: LossFixture) {
  if (f.kind === 'ce') return new CrossEntropyLoss({ reduction: f.reduction, ignoreIndex: f.ignoreIndex, ...(f.weight ? { weight: f.weight.data } : {}) });
  return f.kind === 'mse' ? new MSELoss({ reduction: f.reduction }) : new BCEWithLogitsLoss({ reduction: f.reduction });
}

describe('parity with PyTorch (test/fixtures/loss, tol 1e-5)', () => {
  const files = fixtureNames('loss').filter((n) => !n.startsWith('linear_'));
  let worstLoss = 0, worstGrad = 0;
  for (const file of files) {
    it(file, () => {
      const f = loadFixture<LossFixture>('loss', file);
      const loss = makeLoss(f), opts = f.lengths ? { lengths: Int32Array.from(f.lengths) } : {};
      const got = f.kind === 'ce'
        ? (loss as CrossEntropyLoss).forward(tensor(f.input), tensor(f.target), opts)
        : (loss as MSELoss).forward(tensor(f.input), tensor(f.target), opts);
      const g = loss.backward();
      const el = Math.abs(got - f.loss) / Math.max(1, Math.abs(f.loss)), eg = maxAbsDiff(g.data, f.dInput.data);
      worstLoss = Math.max(worstLoss, el); worstGrad = Math.max(worstGrad, eg);
      console.log(`${f.name.padEnd(28)} loss ${got.toPrecision(8)} vs ${f.loss.toPrecision(8)} err ${el.toExponential(2)}, dInput max err ${eg.toExponential(2)}`);
      expect([...g.shape]).toEqual(f.input.shape);
      expect(el).toBeLessThan(1e-5);
      expect(eg).toBeLessThan(1e-5);
      loss.dispose();
    });
  }
  it('summary', () => console.log(`losses: ${files.length} fixtures, max loss error ${worstLoss.toExponential(2)}, max dInput error ${worstGrad.toExponential(2)}`));
});

// ---------------------------------------------------------------------------------------------
// Finite differences, extremes, masking.

type AnyLoss = CrossEntropyLoss | MSELoss | BCEWithLogitsLoss;
function fdCheck(loss: AnyLoss, x: Tensor, target: Tensor | Int32Array, opts = {}, eps = 1e-2): number {
  const f = (xx: Tensor) => (loss instanceof CrossEntropyLoss
    ? loss.forward(xx, target as Int32Array, opts) : loss.forward(xx, target as Tensor, opts));
  f(x);
  const g = loss.backward().data;
  let worstErr = 0;
  for (let i = 0; i < x.size; i++) {
    const up = x.data.slice(), dn = x.data.slice();
    up[i] += eps; dn[i] -= eps;
    const fd = (f(new Tensor(up, x.shape)) - f(new Tensor(dn, x.shape))) / (2 * eps);
    const err = Math.abs(fd - g[i]) / (1e-2 + Math.abs(g[i]));
    worstErr = Math.max(worstErr, err);
    expect(err, `d/dx[${i}]: finite difference ${fd} vs backward ${g[i]}`).toBeLessThan(1e-2);
  }
  return worstErr;
}

describe('finite-difference checks', () => {
  const x = (shape: number[], seed: number, lo = -2, hi = 2) => new Tensor(randomArray(shape.reduce((a, b) => a * b), seed, lo, hi), shape);
  it('CrossEntropyLoss: plain, weighted + ignore, sum, per-step with lengths', () => {
    fdCheck(new CrossEntropyLoss(), x([3, 5], 1), Int32Array.from([0, 4, 2]));
    fdCheck(new CrossEntropyLoss({ weight: [0.5, 2, 1, 0.1], ignoreIndex: 3 }), x([5, 4], 2), Int32Array.from([3, 1, 0, 3, 2]));
    fdCheck(new CrossEntropyLoss({ reduction: 'sum' }), x([2, 13], 3), Int32Array.from([12, 0]));
    fdCheck(new CrossEntropyLoss(), x([3, 2, 5], 4), Int32Array.from([0, 1, 2, 3, 4, 0]), { lengths: Int32Array.from([3, 1]) });
  });
  it('MSELoss and BCEWithLogitsLoss, mean / sum, with lengths', () => {
    fdCheck(new MSELoss(), x([3, 5], 5), x([3, 5], 6));
    fdCheck(new MSELoss({ reduction: 'sum' }), x([3, 2, 2], 7), x([3, 2, 2], 8), { lengths: [2, 3] });
    fdCheck(new BCEWithLogitsLoss(), x([4, 3], 9, -4, 4), x([4, 3], 10, 0, 1));
    fdCheck(new BCEWithLogitsLoss({ reduction: 'sum' }), x([3, 2, 3], 11, -4, 4), x([3, 2, 3], 12, 0, 1), { lengths: [1, 3] });
  });
});

describe('extreme values', () => {
  it('logits of ±1e4 give finite losses and gradients equal to the float64 result', () => {
    const x = new Float32Array([1e4, -1e4, 0, 5, -1e4, 1e4, 1e4, 3, -1e4, -1e4, -1e4, -1e4]);
    const ce = new CrossEntropyLoss({ reduction: 'sum' });
    const loss = ce.forward(new Tensor(x, [3, 4]), [1, 3, 0]);
    const g = ce.backward().data;
    // Log-sum-exp in float64: row 0 costs 2e4, row 1 1e4 − 3 + log 2, row 2 log 4.
    const ref = (row: number[], t: number) => { const m = Math.max(...row); return Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) + m - row[t]; };
    const want = ref([1e4, -1e4, 0, 5], 1) + ref([-1e4, 1e4, 1e4, 3], 3) + ref([-1e4, -1e4, -1e4, -1e4], 0);
    expect(Number.isFinite(loss)).toBe(true);
    expect(Math.abs(loss - want) / want).toBeLessThan(1e-9);
    expect(g.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(g, [1, -1, 0, 0, 0, 0.5, 0.5, -1, -0.75, 0.25, 0.25, 0.25])).toBeLessThan(1e-7);
    const bce = new BCEWithLogitsLoss({ reduction: 'sum' });
    const lb = bce.forward(new Tensor(Float32Array.from([1e4, -1e4, 1e4, -1e4]), [4]), new Tensor(Float32Array.from([1, 0, 0, 1]), [4]));
    expect(lb).toBe(2e4);
    expect([...bce.backward().data]).toEqual([0, 0, 1, -1]);
  });

  it("'mean' with every row ignored: NaN loss as torch, zero gradient", () => {
    const ce = new CrossEntropyLoss();
    expect(ce.forward(new Tensor(randomArray(6, 1), [2, 3]), [-100, -100])).toBeNaN();
    expect([...ce.backward().data]).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('lengths: padded steps are ignored', () => {
  const T = 5, B = 4, C = 6, lengths = Int32Array.from([5, 1, 3, 2]);
  const valid = (r: number) => Math.floor(r / B) < lengths[r % B];
  const xs = randomArray(T * B * C, 21, -3, 3);
  const rows = [...Array(T * B).keys()].filter(valid);
  const compact = (a: Float32Array, F: number) => Float32Array.from(rows.flatMap((r) => [...a.subarray(r * F, (r + 1) * F)]));

  it('CE (T, B, C) with lengths equals CE on the valid rows only (mean and weighted sum)', () => {
    const t = Int32Array.from({ length: T * B }, (_, r) => (valid(r) ? (r * 5) % C : 999)); // garbage at padded steps
    for (const o of [{}, { weight: randomArray(C, 3, 0.5, 2), reduction: 'sum' as const }]) {
      const a = new CrossEntropyLoss(o), b = new CrossEntropyLoss(o);
      const la = a.forward(new Tensor(xs, [T, B, C]), new Tensor(Float32Array.from(t), [T, B]), { lengths });
      const lb = b.forward(new Tensor(compact(xs, C), [rows.length, C]), rows.map((r) => t[r]));
      expect(Math.abs(la - lb)).toBeLessThan(1e-12);
      const ga = a.backward().data, gb = b.backward().data;
      expect(maxAbsDiff(compact(ga, C), gb)).toBe(0);
      for (let r = 0; r < T * B; r++) if (!valid(r)) expect(ga.subarray(r * C, (r + 1) * C).every((v) => v === 0)).toBe(true);
    }
  });

  it('MSE and BCE with lengths equal the loss on the valid rows only', () => {
    const ys = randomArray(T * B * C, 22, 0, 1);
    for (const make of [() => new MSELoss(), () => new BCEWithLogitsLoss()]) {
      const a = make(), b = make();
      const la = a.forward(new Tensor(xs, [T, B, C]), new Tensor(ys, [T, B, C]), { lengths });
      const lb = b.forward(new Tensor(compact(xs, C), [rows.length, C]), new Tensor(compact(ys, C), [rows.length, C]));
      expect(Math.abs(la - lb)).toBeLessThan(1e-12);
      const ga = a.backward().data;
      expect(maxAbsDiff(compact(ga, C), b.backward().data)).toBe(0);
      expect(ga.filter((_, i) => !valid(Math.floor(i / C))).every((v) => v === 0)).toBe(true);
    }
  });
});

describe('errors and memory', () => {
  it('clear errors for shapes, ids, NaN, lengths, order and options', () => {
    const ce = new CrossEntropyLoss(), x = new Tensor(randomArray(6, 1), [2, 3]);
    expect(() => ce.backward()).toThrow(StateError);
    expect(() => ce.forward(x, [0, 1, 2])).toThrow(/target has 3 ids, expected 2/);
    expect(() => ce.forward(x, new Tensor(new Float32Array(2), [1, 2]))).toThrow(ShapeError);
    expect(() => ce.forward(x, [0, 3])).toThrow(/target\[1\] = 3 is not a class id in 0…2 \(nor ignoreIndex -100\)/);
    expect(() => ce.forward(x, [0, -1])).toThrow(ShapeError);
    expect(() => ce.forward(x, [0, 1.5])).toThrow(/1.5 is not a class id/);
    expect(() => ce.forward(new Tensor(Float32Array.from([0, NaN, 0, 0, 0, 0]), [2, 3]), [0, 1])).toThrow(NumericError);
    expect(() => ce.forward(new Tensor(new Float32Array(3), [3]), [0])).toThrow(/\(N, C\) or time-major \(T, B, C\)/);
    expect(() => ce.forward(x, [0, 1], { lengths: [1, 1] })).toThrow(/lengths need a time-major input/);
    expect(() => ce.forward(new Tensor(randomArray(12, 1), [2, 2, 3]), [0, 1, 2, 0], { lengths: [3, 1] })).toThrow(/lengths\[0\] = 3/);
    expect(() => new CrossEntropyLoss({ weight: [1, 2] }).forward(x, [0, 1])).toThrow(/weight has 2 entries, expected one per class \(3\)/);
    expect(() => new CrossEntropyLoss({ reduction: 'none' as never })).toThrow(/reduction must be 'mean' or 'sum'/);
    expect(() => new MSELoss().forward(x, new Tensor(new Float32Array(6), [3, 2]))).toThrow(/target \(must match the input\): expected shape \[2, 3\]/);
    expect(() => new BCEWithLogitsLoss().forward(x, new Tensor(new Float32Array(6).fill(NaN), [2, 3]))).toThrow(NumericError);
    ce.forward(x, [0, 1]);
    const g = ce.backward().data;
    expect(() => ce.forward(x, [0, 9])).toThrow(ShapeError);
    expect([...ce.backward().data]).toEqual([...g]);      // a failed forward changes nothing
    ce.dispose();
    expect(() => ce.forward(x, [0, 1])).toThrow(StateError);
  });

  it('repeated shapes allocate nothing; dispose gives the memory back', () => {
    const before = e.heap.bytesInUse;
    const ce = new CrossEntropyLoss({ weight: [1, 2, 3] }), mse = new MSELoss();
    const x = new Tensor(randomArray(30, 1), [10, 3]);
    ce.forward(x, Int32Array.from({ length: 10 }, (_, i) => i % 3)); mse.forward(x, x);
    const steady = e.heap.bytesInUse;
    for (let i = 0; i < 5; i++) { ce.forward(x, Int32Array.from({ length: 10 }, () => i % 3)); ce.backward(); mse.forward(x, x); mse.backward(); }
    expect(e.heap.bytesInUse).toBe(steady);
    ce.dispose(); mse.dispose();
    expect(e.heap.bytesInUse).toBe(before);
  });
});
