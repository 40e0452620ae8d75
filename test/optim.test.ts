// Optimizers, clipping and LR schedules against PyTorch 1.13 (fixtures from
// test/fixtures/gen_optim.py, float64 torch from float32 inputs), the optimizer kernels against
// their scalar twins at sizes around the SIMD width, option errors, and state-dict round trips.
//
// Error measure: normwise relative, max|ours − torch| / max|torch| over one tensor (a per-element
// relative error is meaningless for a parameter that an update moves to near 0).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Adagrad, Adam, AdamW, CosineAnnealingLR, FormatError, LSTM, LinearLR, ParameterStore, RMSprop, SGD,
  SequentialLR, StateError, StepLR, Tensor, clipGradNorm, clipGradValue,
  type Engine, type LRScheduler, type Optimizer,
} from '../src/index.js';
import type { Kernels } from '../src/engine/kernels.js';
import { engine, fixtureNames, loadFixture, randomArray } from './helpers/engine.js';

interface Tensor1 { shape: number[]; data: number[] }
interface OptimFixture {
  name: string; optimizer: keyof typeof OPTIMIZERS; options: Record<string, unknown>;
  params: Record<string, Tensor1>; grads: Record<string, Tensor1>[];
  steps: { params: Record<string, Tensor1>; state: Record<string, Record<string, number[]>> }[];
}

const OPTIMIZERS = { SGD, RMSprop, Adam, AdamW, Adagrad };
const TOL = 1e-6;
const SIZES = [1, 3, 4, 5, 13, 37];
const worst = new Map<string, number>();
let e: Engine;
let bytesAtStart = 0;
const owned: { dispose(): void }[] = []; // disposed after every test, even a failing one
const own = <T extends { dispose(): void }>(x: T): T => { owned.push(x); return x; };

beforeAll(async () => { e = await engine(); bytesAtStart = e.heap.bytesInUse; });
afterEach(() => { owned.splice(0).forEach((x) => x.dispose()); });
afterAll(() => {
  const rows = [...worst].map(([k, v]) => `  ${k.padEnd(44)} ${v.toExponential(2)}`);
  console.log(`max normwise relative error:\n${rows.join('\n')}`);
});

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.abs(a[i] - b[i]);
    d = Number.isNaN(x) ? Infinity : Math.max(d, x);
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}
function record(key: string, err: number): number {
  worst.set(key, Math.max(worst.get(key) ?? 0, err));
  return err;
}

function makeStore(values: Record<string, { shape: number[]; data: ArrayLike<number> }>): ParameterStore {
  const s = own(new ParameterStore(e, Object.entries(values).map(([name, t]) => ({ name, shape: t.shape }))));
  for (const sl of s.slices) e.write(s.paramsPtr + sl.offset * 4, values[sl.name].data);
  return s;
}
function writeGrads(s: ParameterStore, grads: Record<string, { data: ArrayLike<number> }>): void {
  for (const sl of s.slices) if (grads[sl.name]) e.write(s.gradsPtr + sl.offset * 4, grads[sl.name].data);
}
const view = (s: ParameterStore, name: string, base = s.paramsPtr) => e.read(base + s.slice(name).offset * 4, s.slice(name).size);

// ---- PyTorch fixtures -------------------------------------------------------------------------

describe('optimizers match torch.optim', () => {
  for (const file of fixtureNames('optim').filter((f) => f !== 'clip.json' && f !== 'schedule.json')) {
    it(file.replace('.json', ''), () => {
      const fx = loadFixture<OptimFixture>('optim', file);
      const store = makeStore(fx.params);
      const opt = own(new OPTIMIZERS[fx.optimizer](store, fx.options as never));
      let err = 0;
      fx.steps.forEach((want, t) => {
        writeGrads(store, fx.grads[t]);
        opt.step();
        const buffers = opt.stateDict().buffers;
        for (const sl of store.slices) {
          err = Math.max(err, relErr(view(store, sl.name), want.params[sl.name].data));
          const names = Object.keys(buffers).map((k) => k.replace(/^0\./, '')).sort();
          expect(names).toEqual(Object.keys(want.state[sl.name]).sort());
          for (const n of names) {
            err = Math.max(err, relErr(buffers[`0.${n}`].subarray(sl.offset, sl.offset + sl.size), want.state[sl.name][n]));
          }
        }
      });
      // The padding between slices (13 → 16) is never moved away from 0.
      expect([...e.read(store.paramsPtr + 13 * 4, 3)]).toEqual([0, 0, 0]);
      expect(opt.stepCount).toBe(3);
      expect(record(`torch ${fx.name}`, err)).toBeLessThan(TOL);
    });
  }
});

// ---- SIMD kernels vs scalar twins ---------------------------------------------------------------

/** Runs `call` once with the SIMD kernel's buffers and once with the twin's; compares every buffer. */
function twin(label: string, n: number, init: Float32Array[], call: (k: 'simd' | 'ref', ptrs: number[]) => number | void): void {
  const GUARD = 4, SENT = 12345;
  const run = (which: 'simd' | 'ref') => {
    const ptrs = init.map((a) => {
      const p = e.alloc(n + GUARD);
      e.write(p, a); e.write(p + n * 4, new Float32Array(GUARD).fill(SENT));
      return p;
    });
    const ret = call(which, ptrs);
    const out = ptrs.map((p) => e.read(p, n + GUARD));
    ptrs.forEach((p) => e.release(p));
    return { ret, out };
  };
  const a = run('simd'), b = run('ref');
  let err = a.ret === undefined ? 0 : relErr([a.ret as number], [b.ret as number]);
  a.out.forEach((buf, i) => {
    err = Math.max(err, relErr(buf.subarray(0, n), b.out[i].subarray(0, n)));
    expect([...buf.subarray(n)], `guard of buffer ${i}`).toEqual(new Array(GUARD).fill(SENT));
  });
  expect(record(`twin ${label}`, err), `${label} n=${n}`).toBeLessThan(TOL);
}

describe('optimizer kernels vs scalar twins', () => {
  const data = (n: number, seed: number, lo = -1, hi = 1) => randomArray(n, seed, lo, hi);
  const pick = <N extends keyof Kernels>(w: 'simd' | 'ref', name: N): Kernels[N] =>
    (e.kernels as unknown as Record<string, Kernels[N]>)[w === 'simd' ? name : `${name}_ref`];

  for (const n of SIZES) {
    it(`n=${n}`, () => {
      const pg = [data(n, 1), data(n, 2)];
      for (const [nest, mom, damp, wd, first] of [[0, 0, 0, 0, 0], [1, 0.9, 0, 0.01, 1], [0, 0.9, 0.3, 0, 0]]) {
        twin('f32_sgd_step', n, [...pg, data(n, 3)], (w, [p, g, b]) =>
          pick(w, 'f32_sgd_step')(n, p, g, b, 0.1, mom, damp, wd, nest, first));
      }
      for (const [cent, mom, wd] of [[0, 0, 0], [1, 0.5, 0.05]]) {
        twin('f32_rmsprop_step', n, [...pg, data(n, 4, 1, 2), data(n, 5, -0.5, 0.5), data(n, 6)], (w, [p, g, s, a, b]) =>
          pick(w, 'f32_rmsprop_step')(n, p, g, s, a, b, 0.01, 0.9, 1e-6, wd, mom, cent));
      }
      for (const [ams, wd, decay] of [[0, 0, 1], [1, 0.1, 1], [0, 0, 0.999]]) {
        twin('f32_adam_step', n, [...pg, data(n, 7), data(n, 8, 0, 1), data(n, 9, 0, 1)], (w, [p, g, m, v, vm]) =>
          pick(w, 'f32_adam_step')(n, p, g, m, v, vm, 0.9, 0.99, 1e-8, wd, decay, 0.05, 0.3, ams));
      }
      twin('f32_adagrad_step', n, [...pg, data(n, 10, 0, 1)], (w, [p, g, s]) =>
        pick(w, 'f32_adagrad_step')(n, p, g, s, 0.1, 0.02, 1e-10));
      twin('f32_sumsq', n, [data(n, 11, -3, 3)], (w, [x]) => pick(w, 'f32_sumsq')(n, x));
      twin('f32_absmax', n, [data(n, 12, -3, 3)], (w, [x]) => pick(w, 'f32_absmax')(n, x));
      twin('f32_scale', n, [data(n, 13)], (w, [x]) => pick(w, 'f32_scale')(n, x, 0.37));
      twin('f32_clamp', n, [data(n, 14, -3, 3)], (w, [x]) => pick(w, 'f32_clamp')(n, x, -0.5, 1.5));
    });
  }

  it('absmax and clamp propagate NaN from the SIMD body and from the tail (as torch)', () => {
    for (const at of [1, 5]) {
      const x = randomArray(7, 3); x[at] = NaN;
      const p = e.alloc(7);
      e.write(p, x);
      expect(e.kernels.f32_absmax(7, p)).toBeNaN();
      expect(e.kernels.f32_sumsq(7, p)).toBeNaN();
      e.kernels.f32_clamp(7, p, -0.1, 0.1);
      expect(e.read(p, 7)[at]).toBeNaN();
      e.release(p);
    }
  });
});

// ---- clipping ---------------------------------------------------------------------------------

interface ClipCase {
  name: string; maxNorm?: number; normType?: number | 'inf'; clipValue?: number; totalNorm?: number;
  grads: Record<string, Tensor1>; clipped: Record<string, Tensor1>;
}

describe('gradient clipping matches torch.nn.utils', () => {
  const cases = loadFixture<{ cases: ClipCase[] }>('optim', 'clip.json').cases;
  // Padding floats between slices a (13) and b (from 16) must stay 0.
  const s0Padding = (s: ParameterStore) => (s.slices.length > 1 ? Math.max(...e.read(s.gradsPtr + 13 * 4, 3).map(Math.abs)) : 0);
  for (const c of cases) {
    it(c.name, () => {
      // One store holding both tensors, and the same tensors as two separate stores.
      const zeros = (t: Tensor1) => ({ shape: t.shape, data: new Float32Array(t.data.length) });
      const one = makeStore({ a: zeros(c.grads.a), b: zeros(c.grads.b) });
      const two = [makeStore({ a: zeros(c.grads.a) }), makeStore({ b: zeros(c.grads.b) })];
      let err = 0;
      for (const target of [one, two]) {
        const stores = Array.isArray(target) ? target : [target];
        for (const s of stores) writeGrads(s, c.grads);
        if (c.clipValue !== undefined) clipGradValue(target, c.clipValue);
        else {
          const total = clipGradNorm(target, c.maxNorm!, c.normType === 'inf' ? Infinity : c.normType);
          err = Math.max(err, relErr([total], [c.totalNorm!]));
        }
        for (const s of stores) for (const sl of s.slices) err = Math.max(err, relErr(view(s, sl.name, s.gradsPtr), c.clipped[sl.name].data));
        expect(s0Padding(stores[0])).toBe(0);
      }
      expect(record(`clip ${c.name}`, err)).toBeLessThan(TOL);
    });
  }

  it('returns the norm before clipping; the clipped gradients have norm maxNorm', () => {
    const s = makeStore({ w: { shape: [37], data: randomArray(37, 5, -2, 2) } });
    const g = randomArray(37, 6, -2, 2);
    e.write(s.gradsPtr, g);
    const before = Math.hypot(...g);
    expect(clipGradNorm({ parameters: () => [s] }, 0.5)).toBeCloseTo(before, 5);
    expect(Math.hypot(...e.read(s.gradsPtr, 37))).toBeCloseTo(0.5, 5);
    expect(clipGradNorm({ params: s }, 0.5)).toBeCloseTo(0.5, 5); // now within the bound: unchanged
    expect(Math.hypot(...e.read(s.gradsPtr, 37))).toBeCloseTo(0.5, 5);
    expect(clipGradNorm([], 1)).toBe(0);
    expect(() => clipGradNorm(s, -1)).toThrow(/maxNorm/);
    expect(() => clipGradNorm(s, 1, 0)).toThrow(/normType/);
    expect(() => clipGradValue(s, NaN)).toThrow(/clipValue/);
  });
});

// ---- LR schedules -------------------------------------------------------------------------------

interface SchedSpec { kind: string; options?: Record<string, number>; milestones?: number[]; schedulers?: SchedSpec[] }
interface SchedCase extends SchedSpec { name: string; lr: number; lrs: number[] }

function makeScheduler(opt: Optimizer, s: SchedSpec): LRScheduler {
  const o = s.options as never;
  switch (s.kind) {
    case 'StepLR': return new StepLR(opt, o);
    case 'LinearLR': return new LinearLR(opt, o);
    case 'CosineAnnealingLR': return new CosineAnnealingLR(opt, o);
    case 'SequentialLR': return new SequentialLR(opt, { schedulers: s.schedulers!.map((c) => makeScheduler(opt, c)), milestones: s.milestones! });
    default: throw new Error(s.kind);
  }
}

describe('LR schedules match torch.optim.lr_scheduler', () => {
  for (const c of loadFixture<{ cases: SchedCase[] }>('optim', 'schedule.json').cases) {
    it(c.name, () => {
      const store = makeStore({ w: { shape: [3], data: [1, 2, 3] } });
      const opt = own(new SGD(store, { lr: c.lr }));
      const sched = makeScheduler(opt, c);
      const lrs = [opt.lr];
      for (let i = 1; i < c.lrs.length; i++) {
        opt.step();
        lrs.push(sched.step());
        expect(sched.lastLr).toBe(opt.lr);
      }
      const err = Math.max(...lrs.map((v, i) => Math.abs(v - c.lrs[i]) / c.lrs[i]));
      expect(record(`schedule ${c.name}`, err)).toBeLessThan(1e-12);
    });
  }

  it('rejects bad options', () => {
    const store = makeStore({ w: { shape: [3], data: [1, 2, 3] } });
    const opt = own(new SGD(store, { lr: 0.1 }));
    expect(() => new StepLR(opt, { stepSize: 0 })).toThrow(/stepSize/);
    expect(() => new CosineAnnealingLR(opt, { tMax: 10, etaMin: -1 })).toThrow(/etaMin/);
    expect(() => new LinearLR(opt, { startFactor: 1.5 })).toThrow(/startFactor/);
    expect(() => new SequentialLR(opt, { schedulers: [new StepLR(opt, { stepSize: 2 })], milestones: [3] })).toThrow(/milestones/);
  });
});

// ---- errors -------------------------------------------------------------------------------------

describe('optimizer options are validated', () => {
  it('throws RangeError naming the option, before allocating anything', () => {
    const s = makeStore({ w: { shape: [5], data: [1, 2, 3, 4, 5] } });
    const used = e.heap.bytesInUse;
    expect(() => new Adam([])).toThrow(/no parameters/);
    expect(() => new Adam({ parameters: () => [] })).toThrow(RangeError);
    expect(() => new Adam(42 as never)).toThrow(TypeError);
    for (const lr of [-1, 0, NaN, Infinity]) expect(() => new Adam(s, { lr })).toThrow(/option 'lr'/);
    expect(() => new SGD(s, {} as never)).toThrow(/option 'lr' must be a positive finite number, got undefined/);
    expect(() => new Adam(s, { betas: [1, 0.9] })).toThrow(/option 'betas'/);
    expect(() => new AdamW(s, { betas: [0.9, -0.1] })).toThrow(/option 'betas'/);
    expect(() => new RMSprop(s, { eps: -1 })).toThrow(/option 'eps'/);
    expect(() => new Adagrad(s, { lrDecay: -0.1 })).toThrow(/option 'lrDecay'/);
    expect(() => new SGD(s, { lr: 0.1, weightDecay: -1 })).toThrow(/option 'weightDecay'/);
    expect(() => new SGD(s, { lr: 0.1, nesterov: true })).toThrow(/nesterov requires momentum > 0 and dampening = 0/);
    expect(() => new SGD(s, { lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(/nesterov/);
    expect(() => new Adam(s, { weight_decay: 0.1 } as never)).toThrow(/unknown option 'weight_decay'/);
    expect(e.heap.bytesInUse).toBe(used);
    const opt = own(new Adam(s));
    expect(() => { opt.lr = -0.1; }).toThrow(RangeError);
    opt.lr = 0; // a schedule may end at 0
    expect(() => new Adam(s, { lr: NaN })).toThrow(/got NaN/); // not JSON's 'null'
    opt.dispose();
    expect(() => opt.step()).toThrow(StateError);
  });

  it('a schedule that ends at lr 0: options, stateDict and a restore still work', () => {
    const s = makeStore({ w: { shape: [5], data: [1, 2, 3, 4, 5] } });
    const opt = own(new Adam(s, { lr: 0.1, betas: [0.8, 0.9] }));
    const sched = new CosineAnnealingLR(opt, { tMax: 2 });
    sched.step(); sched.step();
    expect(opt.lr).toBe(0);
    expect(opt.options.lr).toBe(0);
    const sd = opt.stateDict();
    expect(sd.options).toMatchObject({ lr: 0, betas: [0.8, 0.9] });
    (sd.options.betas as number[])[0] = 0.5; // a copy
    expect(opt.options.betas).toEqual([0.8, 0.9]);
    const other = own(new Adam(s, { lr: 0.1 }));
    other.loadStateDict(opt.stateDict());
    expect(other.lr).toBe(0);
    expect(() => other.loadStateDict({ ...opt.stateDict(), options: { ...opt.options, lr: -1 } })).toThrow(/option 'lr'/);
  });

  it('takes stores, arrays, modules and models; a store listed twice is stepped once', () => {
    const s = makeStore({ w: { shape: [5], data: [1, 2, 3, 4, 5] } });
    e.write(s.gradsPtr, [1, 1, 1, 1, 1]);
    const opt = own(new SGD([s, [s], { params: s }, { parameters: () => [s] }], { lr: 0.5 }));
    expect(opt.stores.length).toBe(1);
    opt.step();
    expect([...view(s, 'w')]).toEqual([0.5, 1.5, 2.5, 3.5, 4.5]);
    opt.zeroGrad();
    expect([...e.read(s.gradsPtr, 5)]).toEqual([0, 0, 0, 0, 0]);
  });
});

// ---- state dict ---------------------------------------------------------------------------------

describe('state dict', () => {
  const configs: [string, (p: ParameterStore[]) => Optimizer][] = [
    ['SGD nesterov', (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true })],
    ['RMSprop centered', (p) => new RMSprop(p, { centered: true, momentum: 0.3 })],
    ['Adam amsgrad', (p) => new Adam(p, { lr: 0.01, amsgrad: true, weightDecay: 0.01 })],
    ['AdamW', (p) => new AdamW(p, { lr: 0.01 })],
    ['Adagrad', (p) => new Adagrad(p, { lrDecay: 0.1, initialAccumulatorValue: 0.2 })],
  ];
  const init = { a: { shape: [13], data: randomArray(13, 21) }, b: { shape: [4, 9], data: randomArray(36, 22) } };
  const grad = (t: number) => ({ a: { data: randomArray(13, 100 + t) }, b: { data: randomArray(36, 200 + t) } });
  const twoStores = () => [makeStore({ a: init.a }), makeStore({ b: init.b })];
  const train = (opt: Optimizer, stores: ParameterStore[], from: number, to: number) => {
    for (let t = from; t < to; t++) { stores.forEach((s) => writeGrads(s, grad(t))); opt.step(); }
  };

  for (const [label, make] of configs) {
    it(`${label}: resume from a checkpoint = uninterrupted training`, () => {
      const ref = twoStores(), refOpt = own(make(ref));
      train(refOpt, ref, 0, 6);

      const run = twoStores(), first = own(make(run));
      train(first, run, 0, 2);
      const sd = first.stateDict(), params = run.map((s) => s.stateDict());
      const resumed = twoStores();
      resumed.forEach((s, i) => s.load(params[i]));
      const second = own(make(resumed));
      second.lr = 123; // restored by loadStateDict
      second.loadStateDict(sd);
      expect(second.stepCount).toBe(2);
      expect(second.lr).toBe(refOpt.lr);
      train(second, resumed, 2, 6);
      for (let i = 0; i < 2; i++) for (const sl of ref[i].slices) expect(view(resumed[i], sl.name)).toEqual(view(ref[i], sl.name));
      expect(second.stateDict()).toEqual(refOpt.stateDict());
    });
  }

  it('rejects a state dict that does not fit, changing nothing', () => {
    const stores = twoStores();
    const opt = own(new Adam(stores, { amsgrad: true }));
    train(opt, stores, 0, 1);
    const good = opt.stateDict();
    const short = { ...good, buffers: { ...good.buffers, '1.exp_avg': new Float32Array(3) } };
    expect(() => opt.loadStateDict(short)).toThrow(FormatError);
    expect(() => opt.loadStateDict({ ...good, options: { ...good.options, amsgrad: false } })).toThrow(/buffers/);
    expect(() => opt.loadStateDict({ ...good, options: { ...good.options, lr: -1 } })).toThrow(FormatError);
    expect(() => opt.loadStateDict({ ...good, step: 1.5 })).toThrow(/step/);
    const missing = { ...good, buffers: { ...good.buffers } };
    delete missing.buffers['0.max_exp_avg_sq'];
    expect(() => opt.loadStateDict(missing)).toThrow(/missing state buffer '0.max_exp_avg_sq'/);
    const poisoned = { ...good, buffers: { ...good.buffers, '0.exp_avg_sq': good.buffers['0.exp_avg_sq'].map((v, i) => (i === 2 ? NaN : v)) } };
    expect(() => opt.loadStateDict(poisoned)).toThrow(/'0.exp_avg_sq' has a non-finite value \(NaN\) at 2/);
    expect(opt.stateDict()).toEqual(good);
  });

  it('trains a real model: LSTM + AdamW + clipping + warmup/cosine lowers an MSE loss', () => {
    const lstm = own(new LSTM({ inputSize: 3, hiddenSize: 8, seed: 3 }));
    const x = new Tensor(randomArray(5 * 2 * 3, 31), [5, 2, 3]), y = randomArray(5 * 2 * 8, 32, -0.5, 0.5);
    const opt = own(new AdamW(lstm, { lr: 0.05 }));
    const sched = new SequentialLR(opt, { milestones: [5], schedulers: [
      new LinearLR(opt, { startFactor: 0.2, totalIters: 5 }), new CosineAnnealingLR(opt, { tMax: 35 })] });
    const losses: number[] = [];
    for (let it = 0; it < 40; it++) {
      const out = lstm.forward(x).output.data;
      const d = out.map((v, i) => v - y[i]);
      losses.push(d.reduce((a, v) => a + 0.5 * v * v, 0));
      opt.zeroGrad();
      lstm.backward({ dOutput: new Tensor(d, [5, 2, 8]) });
      clipGradNorm(lstm, 1.0);
      opt.step();
      sched.step();
    }
    expect(losses[39]).toBeLessThan(0.25 * losses[0]);
  });

  it('leaves no memory behind', () => {
    expect(e.heap.bytesInUse).toBe(bytesAtStart);
  });
});
