// The TypeScript API around the kernels: layouts, errors that leave the model unchanged,
// memory that stays flat, and .safetensors loading of PyTorch state_dicts.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CrossEntropyLoss, Embedding, FormatError, GRU, LSTM, Linear, MSELoss, NumericError, RNN, ShapeError, StateError, Tensor,
  createEngine, makeBatch, readSafetensors, Sequential, type Engine,
} from '../src/index.js';
import { Heap } from '../src/engine/heap.js';
import { BUILD, engine, loadFixture, maxAbsDiff, randomArray } from './helpers/engine.js';

let e: Engine;
beforeAll(async () => { e = await engine(); });

const input = (T: number, B: number, I: number, seed = 1) => new Tensor(randomArray(T * B * I, seed), [T, B, I]);

describe('options and parameters', () => {
  it('names and shapes parameters exactly as PyTorch', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2, seed: 1 });
    const shapes = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, [...v.shape]]));
    expect(Object.keys(shapes)).toEqual([
      'weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_hr_l0',
      'weight_ih_l0_reverse', 'weight_hh_l0_reverse', 'bias_ih_l0_reverse', 'bias_hh_l0_reverse', 'weight_hr_l0_reverse',
      'weight_ih_l1', 'weight_hh_l1', 'bias_ih_l1', 'bias_hh_l1', 'weight_hr_l1',
      'weight_ih_l1_reverse', 'weight_hh_l1_reverse', 'bias_ih_l1_reverse', 'bias_hh_l1_reverse', 'weight_hr_l1_reverse',
    ]);
    expect(shapes.weight_ih_l0).toEqual([20, 3]);
    expect(shapes.weight_hh_l0).toEqual([20, 2]);
    expect(shapes.weight_hr_l0).toEqual([2, 5]);
    expect(shapes.weight_ih_l1).toEqual([20, 4]);
    expect(Object.keys(new GRU({ inputSize: 2, hiddenSize: 3, bias: false }).stateDict())).toEqual(['weight_ih_l0', 'weight_hh_l0']);
  });

  it('initialises like PyTorch: U(-1/√H, 1/√H), seeded and deterministic', () => {
    const a = new GRU({ inputSize: 4, hiddenSize: 16, seed: 7 }).stateDict();
    const b = new GRU({ inputSize: 4, hiddenSize: 16, seed: 7 }).stateDict();
    const c = new GRU({ inputSize: 4, hiddenSize: 16, seed: 8 }).stateDict();
    const w = a.weight_hh_l0.data;
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.2);
    expect(maxAbsDiff(w, b.weight_hh_l0.data)).toBe(0);
    expect(maxAbsDiff(w, c.weight_hh_l0.data)).toBeGreaterThan(0);
  });

  it('rejects invalid options with a ShapeError naming the option', () => {
    expect(() => new LSTM({ inputSize: 3, hiddenSize: 0 })).toThrow(/hiddenSize/);
    expect(() => new LSTM({ inputSize: 3.5, hiddenSize: 4 })).toThrow(ShapeError);
    expect(() => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 4 })).toThrow(/projSize/);
    expect(() => new GRU({ inputSize: 3, hiddenSize: 4, projSize: 2 } as never)).toThrow(/projSize/);
    expect(() => new RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: 'sigmoid' as never })).toThrow(/nonlinearity/);
  });
});

describe('layouts', () => {
  it('batchFirst gives the transposed result of the same computation', () => {
    const a = new LSTM({ inputSize: 3, hiddenSize: 5, bidirectional: true, seed: 3 });
    const b = new LSTM({ inputSize: 3, hiddenSize: 5, bidirectional: true, batchFirst: true, seed: 3 });
    const T = 4, B = 3, x = input(T, B, 3);
    const xb = new Float32Array(T * B * 3);
    for (let t = 0; t < T; t++) for (let s = 0; s < B; s++) xb.set(x.data.subarray((t * B + s) * 3, (t * B + s + 1) * 3), (s * T + t) * 3);
    const ra = a.forward(x), rb = b.forward({ data: xb, shape: [B, T, 3] });
    expect([...rb.output.shape]).toEqual([B, T, 10]);
    for (let t = 0; t < T; t++) for (let s = 0; s < B; s++) {
      expect([...rb.output.data.subarray((s * T + t) * 10, (s * T + t + 1) * 10)])
        .toEqual([...ra.output.data.subarray((t * B + s) * 10, (t * B + s + 1) * 10)]);
    }
    expect(maxAbsDiff(ra.hN.data, rb.hN.data)).toBe(0);
  });

  it('unbatched (T, I) input equals a batch of one', () => {
    const m = new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, seed: 4 });
    const x = input(6, 1, 3);
    const r3 = m.forward(x);
    const r2 = m.forward({ data: x.data, shape: [6, 3] });
    expect([...r2.output.shape]).toEqual([6, 5]);
    expect([...r2.hN.shape]).toEqual([2, 5]);
    expect(maxAbsDiff(r2.output.data, r3.output.data)).toBe(0);
    const g = m.backward({ dOutput: { data: randomArray(30, 2), shape: [6, 5] } });
    expect([...g.dInput.shape]).toEqual([6, 3]);
  });

  it('accepts nested arrays and accumulates gradients across backward calls', () => {
    const m = new RNN({ inputSize: 2, hiddenSize: 3, seed: 5 });
    const x = [[[0.1, -0.2]], [[0.3, 0.4]]];
    const dOutput = [[[1, 0, -1]], [[0.5, 0.5, 0.5]]];
    m.forward(x); m.backward({ dOutput });
    const g1 = m.gradients().weight_hh_l0.data;
    m.forward(x); m.backward({ dOutput });
    const g2 = m.gradients().weight_hh_l0.data;
    expect(maxAbsDiff(g2, g1.map((v) => 2 * v))).toBeLessThan(1e-7);
    m.zeroGrad();
    expect(Math.max(...m.gradients().weight_hh_l0.data.map(Math.abs))).toBe(0);
  });
});

describe('dropout between layers', () => {
  it('is active in training mode only, and inverted (expected activation unchanged)', () => {
    const a = new LSTM({ inputSize: 4, hiddenSize: 37, numLayers: 2, dropout: 0.5, seed: 41 });
    const b = new LSTM({ inputSize: 4, hiddenSize: 37, numLayers: 2, seed: 41 });
    const x = input(30, 8, 4);
    const plain = b.forward(x).output.data;
    expect(maxAbsDiff(a.eval().forward(x).output.data, plain)).toBe(0);
    const dropped = a.train().forward(x).output.data;
    expect(maxAbsDiff(dropped, plain)).toBeGreaterThan(1e-3);
    a.manualSeed(5); const r1 = a.forward(x).output.data;
    a.manualSeed(5); const r2 = a.forward(x).output.data;
    expect(maxAbsDiff(r1, r2)).toBe(0);
    expect(() => new LSTM({ inputSize: 4, hiddenSize: 5, dropout: 1 })).toThrow(/dropout must be a probability/);
  });
});

describe('streaming step()', () => {
  for (const [kind, make] of [
    ['LSTM', () => new LSTM({ inputSize: 3, hiddenSize: 13, numLayers: 2, projSize: 5, seed: 51 })],
    ['GRU', () => new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 3, seed: 52 })],
    ['RNN', () => new RNN({ inputSize: 3, hiddenSize: 37, nonlinearity: 'relu', seed: 53 })],
  ] as const) {
    it(`${kind}: step by step equals one forward over the sequence, from a given state`, () => {
      const m = make();
      const { numLayers: L, hiddenSize: H } = m.config, R = m.outputSize, T = 6, B = 2;
      const x = input(T, B, 3), h0 = new Tensor(randomArray(L * B * R, 3), [L, B, R]);
      const c0 = kind === 'LSTM' ? new Tensor(randomArray(L * B * H, 4), [L, B, H]) : undefined;
      const full = m.forward(x, { h0, ...(c0 ? { c0 } : {}) });
      m.resetState(B, { h0, ...(c0 ? { c0 } : {}) });
      const out = new Float32Array(B * R);
      for (let t = 0; t < T; t++) {
        m.step(x.data.subarray(t * B * 3, (t + 1) * B * 3), out);
        expect(maxAbsDiff(out, full.output.data.subarray(t * B * R, (t + 1) * B * R))).toBeLessThan(1e-6);
      }
      expect(maxAbsDiff(m.state.h.data, full.hN.data)).toBeLessThan(1e-6);
      if (c0) expect(maxAbsDiff(m.state.c!.data, full.cN!.data)).toBeLessThan(1e-6);
      const used = e.heap.bytesInUse;
      for (let t = 0; t < 50; t++) m.step(x.data.subarray(0, B * 3), out);
      expect(e.heap.bytesInUse).toBe(used);
      m.dispose();
    });
  }

  it('a step that fails part way (here in layer 2 of 3) changes nothing: the state and the next step are as if it had not run', async () => {
    for (const [Kind, name] of [[LSTM, 'lstm_seq_forward'], [GRU, 'gru_seq_forward'], [RNN, 'rnn_seq_forward']] as const) {
      // An engine whose layer kernel throws on a chosen call (what a trap would do).
      const own = await createEngine(readFileSync(new URL(`../build/${BUILD}`, import.meta.url)));
      let calls = 0, failAt = -1;
      const real = own.kernels as unknown as Record<string, (...a: number[]) => unknown>;
      Object.defineProperty(own, 'kernels', {
        value: { ...real, [name]: (...a: number[]) => { if (calls++ === failAt) throw new Error('injected'); return real[name](...a); } },
      });
      const m = new Kind({ inputSize: 3, hiddenSize: 5, numLayers: 3, seed: 63, engine: own }), ref = new Kind({ inputSize: 3, hiddenSize: 5, numLayers: 3, seed: 63 });
      const h0 = new Tensor(randomArray(3 * 2 * 5, 64), [3, 2, 5]);
      m.resetState(2, { h0 }); ref.resetState(2, { h0 });
      const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      for (let t = 0; t < 3; t++) expect(bits(m.step(randomArray(6, 65 + t))).equals(bits(ref.step(randomArray(6, 65 + t))))).toBe(true);
      const before = m.state;
      failAt = calls + 1;
      expect(() => m.step(randomArray(6, 70)), Kind.name).toThrow('injected');
      const after = m.state;
      expect(bits(after.h.data).equals(bits(before.h.data)), `${Kind.name}: h unchanged`).toBe(true);
      if (before.c) expect(bits(after.c!.data).equals(bits(before.c.data)), `${Kind.name}: c unchanged`).toBe(true);
      for (let t = 0; t < 2; t++) expect(bits(m.step(randomArray(6, 71 + t))).equals(bits(ref.step(randomArray(6, 71 + t)))), `${Kind.name}: step ${t} after`).toBe(true);
      expect(bits(m.state.h.data).equals(bits(ref.state.h.data))).toBe(true);
      m.dispose(); ref.dispose();
    }
  });

  it('uses the current weights after they change (repacked between steps)', () => {
    const m = new GRU({ inputSize: 3, hiddenSize: 5, seed: 61 }), other = new GRU({ inputSize: 3, hiddenSize: 5, seed: 62 });
    const x = input(1, 1, 3);
    m.resetState(1);
    m.step(x.data);
    m.resetState(1);
    m.loadStateDict(other.stateDict());
    expect(maxAbsDiff(m.step(x.data), other.forward(x).output.data)).toBeLessThan(1e-6);
    m.dispose(); other.dispose();
  });

  it('checks its input and refuses bidirectional models', () => {
    const m = new GRU({ inputSize: 3, hiddenSize: 5 });
    expect(() => m.step([1, 2, 3])).toThrow(/resetState/);
    m.resetState(2);
    expect(() => m.step([1, 2, 3])).toThrow(/expected batch × inputSize = 2 × 3/);
    expect(() => m.step([1, 2, 3, 4, 5, NaN])).toThrow(NumericError);
    expect(() => new LSTM({ inputSize: 3, hiddenSize: 5, bidirectional: true }).resetState()).toThrow(/bidirectional/);
  });
});

describe('errors', () => {
  it('arguments of the wrong kind are typed errors naming the argument, not TypeErrors from inside', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 3 });
    const x = input(2, 1, 2);
    expect(() => m.forward(x, null as never)).toThrow(/LSTM.forward: the second argument must be an object/);
    expect(() => m.forward(x, { lengths: null as never })).toThrow(/lengths must be an array of 1 integers/);
    expect(() => m.forward(x, { lengths: 3 as never })).toThrow(/lengths must be an array of 1 integers/);
    expect(() => m.forward({ data: null as never, shape: [2, 1, 2] })).toThrow(/input: data must be an array of numbers/);
    m.forward(x);
    expect(() => m.backward(null as never)).toThrow(/LSTM.backward: expected \{ dOutput/);
    m.resetState(1);
    expect(() => m.step(null as never)).toThrow(/LSTM.step: x must be an array/);
    expect(() => new Sequential(null as never)).toThrow(ShapeError);
    expect(() => new Sequential([{} as never])).toThrow(/layer 0 is not a module/);
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 3, engine: {} as never })).toThrow(/LSTM: engine must be an Engine/);
    expect(() => new Linear({ inFeatures: 2, outFeatures: 3, engine: {} as never })).toThrow(StateError);
    for (const seed of [NaN, 0.5, 'x']) {
      expect(() => new GRU({ inputSize: 2, hiddenSize: 3, seed: seed as never })).toThrow(/GRU: seed must be an integer/);
      expect(() => new Embedding({ numEmbeddings: 2, embeddingDim: 3, seed: seed as never })).toThrow(/Embedding: seed must be an integer/);
    }
    expect(() => makeBatch([{ input: [1, 2], target: null as never }])).toThrow(/sample 0: target must be/);
    expect(() => makeBatch([{ input: [1, 2], target: [1, 2] }], 'bogus' as never)).toThrow(/targetKind must be 'sequence' or 'step'/);
    m.dispose();
  });

  it('names the expected and the received shape', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2 });
    expect(() => m.forward(input(4, 2, 4))).toThrow(/4 features, expected inputSize = 3/);
    expect(() => m.forward({ data: new Float32Array(12), shape: [12] })).toThrow(ShapeError);
    expect(() => m.forward(input(4, 2, 3), { h0: Tensor.zeros([1, 2, 5]) })).toThrow(/h0: expected shape \[2, 2, 5\], got \[1, 2, 5\]/);
    expect(() => m.forward(input(4, 2, 3), { c0: Tensor.zeros([2, 3, 5]) })).toThrow(/c0/);
    expect(() => m.forward([[[1, 2, 3]], [[1, 2]]])).toThrow(/ragged/);
    expect(() => new GRU({ inputSize: 3, hiddenSize: 5 }).forward(input(2, 1, 3), { c0: Tensor.zeros([1, 1, 5]) })).toThrow(/only for LSTM/);
  });

  it('rejects NaN and Infinity in inputs and weights', () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 3 });
    const x = input(2, 1, 2);
    x.data[3] = NaN;
    expect(() => m.forward(x)).toThrow(NumericError);
    const sd = m.stateDict();
    const bad = sd.weight_hh_l0.data.slice();
    bad[5] = Infinity;
    expect(() => m.loadStateDict({ ...sd, weight_hh_l0: { data: bad, shape: [9, 3] } })).toThrow(/weight_hh_l0.*non-finite/);
  });

  it('finds a non-finite value in large tensors at every module edge (checked in WASM blocks), by its flat index', () => {
    // 24,000+ values: past the JS path and across the 16,384-value blocks of Engine.assertFinite.
    const poison = (t: Tensor, i: number, v: number) => { const d = t.data.slice(); d[i] = v; return new Tensor(d, t.shape); };
    const lstm = new LSTM({ inputSize: 8, hiddenSize: 4, seed: 2 }), x = input(300, 10, 8);
    const lin = new Linear({ inFeatures: 8, outFeatures: 5, seed: 2 }), xl = new Tensor(randomArray(3000 * 8, 3), [3000, 8]);
    const emb = new Embedding({ numEmbeddings: 7, embeddingDim: 9, seed: 2 }), ids = new Int32Array(3000).map((_, i) => i % 7);
    const cases: [string, () => unknown][] = [
      ['LSTM.forward: input', () => lstm.forward(poison(x, 16384 + 5, NaN))],
      ['LSTM.backward: dOutput', () => { lstm.forward(x); lstm.backward({ dOutput: poison(new Tensor(randomArray(12000, 4), [300, 10, 4]), 11999, -Infinity) }); }],
      ['Linear.forward: input', () => lin.forward(poison(xl, 0, Infinity))],
      ['Linear.backward: dOutput', () => { lin.forward(xl); lin.backward(poison(new Tensor(randomArray(15000, 5), [3000, 5]), 14000, NaN)); }],
      ['CrossEntropyLoss.forward: input', () => new CrossEntropyLoss().forward(poison(new Tensor(randomArray(5000 * 5, 6), [5000, 5]), 20000, Infinity), new Int32Array(5000))],
      ['MSELoss.forward: target', () => new MSELoss().forward(xl, poison(xl, 16383, -Infinity))],
      ['Embedding.backward: dOutput', () => { emb.forward(new Tensor(Float32Array.from(ids), [3000])); emb.backward(poison(new Tensor(randomArray(27000, 7), [3000, 9]), 26999, NaN)); }],
    ];
    const where: Record<string, string> = {
      'LSTM.forward: input': 'NaN) at flat index 16389', 'LSTM.backward: dOutput': '-Infinity) at flat index 11999',
      'Linear.forward: input': 'Infinity) at flat index 0', 'Linear.backward: dOutput': 'NaN) at flat index 14000',
      'CrossEntropyLoss.forward: input': 'Infinity) at flat index 20000', 'MSELoss.forward: target': '-Infinity) at flat index 16383',
      'Embedding.backward: dOutput': 'NaN) at flat index 26999',
    };
    for (const [what, call] of cases) {
      expect(call, what).toThrow(NumericError);
      expect(call, what).toThrow(`${what} has a non-finite value (${where[what]}`);
    }
  });

  it('a forward refused for a non-finite input changes nothing: the last forward still backpropagates', () => {
    const run = (fail: boolean) => {
      const m = new GRU({ inputSize: 6, hiddenSize: 5, seed: 8 }), x = input(200, 4, 6, 3);
      const y = m.forward(x);
      const bad = x.data.slice(); bad[4321] = NaN;
      if (fail) expect(() => m.forward(new Tensor(bad, x.shape))).toThrow(NumericError);
      const dx = m.backward({ dOutput: new Tensor(y.output.data.map((v) => v * 0.5), y.output.shape) }).dInput.data;
      return [dx, m.gradients().weight_ih_l0.data];
    };
    const [dx0, g0] = run(false), [dx1, g1] = run(true);
    expect([...dx1]).toEqual([...dx0]);
    expect([...g1]).toEqual([...g0]);
  });

  it('a failed load changes nothing', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 9 });
    const before = m.stateDict();
    const other = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 10 }).stateDict();
    expect(() => m.loadStateDict({ ...other, weight_hh_l0: Tensor.zeros([12, 4]) })).toThrow(/weight_hh_l0'?: expected shape \[12, 3\], got \[12, 4\]/);
    expect(() => m.loadStateDict({ ...other, extra: Tensor.zeros([1]) })).toThrow(/unexpected: extra/);
    const { bias_hh_l0: _, ...missing } = other;
    expect(() => m.loadStateDict(missing)).toThrow(/missing: bias_hh_l0/);
    const after = m.stateDict();
    for (const k of Object.keys(before)) expect(maxAbsDiff(after[k].data, before[k].data)).toBe(0);
    m.loadStateDict(missing, { strict: false }); // non-strict loads what is there
    expect(maxAbsDiff(m.stateDict().weight_hh_l0.data, other.weight_hh_l0.data)).toBe(0);
  });

  it('backward needs a forward, once, with matching shapes', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 3 });
    expect(() => m.backward({ dOutput: Tensor.zeros([2, 1, 3]) })).toThrow(StateError);
    m.forward(input(2, 1, 2));
    expect(() => m.backward({ dOutput: Tensor.zeros([2, 1, 4]) })).toThrow(/dOutput: expected shape \[2, 1, 3\]/);
    m.backward({ dOutput: Tensor.zeros([2, 1, 3]) });
    expect(() => m.backward({ dOutput: Tensor.zeros([2, 1, 3]) })).toThrow(/each forward allows one backward/);
    m.forward(input(2, 1, 2));
    m.loadStateDict(m.stateDict()); // any change of the parameters after forward…
    expect(() => m.backward({ dOutput: Tensor.zeros([2, 1, 3]) })).toThrow(/parameters changed after forward/);
  });
});

describe('memory', () => {
  it('repeating forward/backward at the same shapes allocates nothing; dispose gives it back', () => {
    const start = e.heap.bytesInUse;
    const m = new LSTM({ inputSize: 8, hiddenSize: 13, numLayers: 2, bidirectional: true });
    const x = input(20, 3, 8);
    const dOutput = Tensor.zeros([20, 3, 26]);
    m.forward(x); m.backward({ dOutput });
    const used = e.heap.bytesInUse, mem = e.heap.memoryBytes;
    for (let i = 0; i < 20; i++) { m.forward(x); m.backward({ dOutput }); }
    expect(e.heap.bytesInUse).toBe(used);
    expect(e.heap.memoryBytes).toBe(mem);
    m.forward(input(7, 2, 8)); // smaller shapes reuse the block; alternating allocates nothing
    m.forward(x); m.backward({ dOutput });
    expect(e.heap.bytesInUse).toBe(used);
    expect(e.heap.memoryBytes).toBe(mem);
    m.dispose();
    expect(e.heap.bytesInUse).toBe(start);
    expect(() => m.forward(x)).toThrow(/disposed/);
  });

  it('rebuilds typed views after the memory grows', () => {
    const m = new GRU({ inputSize: 3, hiddenSize: 5, seed: 11 });
    const x = input(5, 2, 3);
    const first = m.forward(x).output.data;
    const before = e.heap.memoryBytes;
    const big = new LSTM({ inputSize: 512, hiddenSize: 512 }); // ~8 MB of parameters and gradients
    expect(e.heap.memoryBytes).toBeGreaterThan(before);
    expect(maxAbsDiff(m.forward(x).output.data, first)).toBe(0);
    big.dispose();
    m.dispose();
  });

  it('a forward larger than the memory can hold: a RangeError naming the size; the model still works', () => {
    const m = new LSTM({ inputSize: 1, hiddenSize: 512, seed: 12 }), ref = new LSTM({ inputSize: 1, hiddenSize: 512, seed: 12 });
    const small = input(4, 1, 1);
    const T = 600_000; // gates alone: T × 2048 floats = 4.9 GB, beyond a 4 GiB memory
    expect(() => m.forward(new Tensor(new Float32Array(T).fill(0.5), [T, 1, 1]))).toThrow(/out of memory: \d+\.\d MB requested/);
    expect(Buffer.from(m.forward(small).output.data.buffer).equals(Buffer.from(ref.forward(small).output.data.buffer))).toBe(true);
    m.dispose(); ref.dispose();
  });

  it('the heap refuses a block it cannot hold without changing its state (sizes past 2³¹ bytes too)', () => {
    const heap = new Heap(new WebAssembly.Memory({ initial: 1, maximum: 4 }), 1024);
    const a = heap.alloc(1000);
    for (const bytes of [5 * 65536, 2 ** 31 + 8, 2 ** 32 + 8, -1, 1.5, NaN]) expect(() => heap.alloc(bytes), `${bytes}`).toThrow(RangeError);
    expect(heap.bytesInUse).toBe(1024);
    const b = heap.alloc(1000);
    expect(b).toBe(a + 1024);
    expect(b + 1000).toBeLessThanOrEqual(heap.memoryBytes);
  });
});

describe('.safetensors', () => {
  type T = { shape: number[]; data: number[] };
  const fx = loadFixture<{ params: Record<string, T>; input: T; h0: T | null; c0: T | null; output: T }>(
    'parity', 'lstm_proj_bidir_2layer.json');
  const file = (dt: string) => readFileSync(new URL(`./fixtures/safetensors/lstm_proj_${dt}.safetensors`, import.meta.url));
  const make = () => new LSTM({ inputSize: 5, hiddenSize: 13, numLayers: 2, bidirectional: true, projSize: 3 });

  it('loads a PyTorch state_dict (F32) and reproduces its output', () => {
    const m = make();
    m.loadSafetensors(file('f32'));
    for (const [k, v] of Object.entries(fx.params)) expect(maxAbsDiff(m.stateDict()[k].data, v.data), k).toBe(0);
    const state = { ...(fx.h0 ? { h0: fx.h0 } : {}), ...(fx.c0 ? { c0: fx.c0 } : {}) };
    expect(maxAbsDiff(m.forward(fx.input, state).output.data, fx.output.data)).toBeLessThan(1e-5);
  });

  it('converts F64 exactly and F16 / BF16 within their precision', () => {
    for (const [dt, rel] of [['f64', 0], ['f16', 2 ** -11], ['bf16', 2 ** -8]] as const) {
      const m = make();
      m.loadSafetensors(file(dt));
      let changed = 0;
      for (const [k, v] of Object.entries(fx.params)) {
        const got = m.stateDict()[k].data;
        v.data.forEach((w, i) => {
          expect(Math.abs(got[i] - w), `${dt} ${k}[${i}]`).toBeLessThanOrEqual(rel * Math.abs(w) + 1e-12);
          if (got[i] !== w) changed++;
        });
      }
      if (rel > 0) expect(changed, `${dt} values were rounded`).toBeGreaterThan(0);
    }
  });

  it('round-trips bit-exactly and carries the config', () => {
    const m = new GRU({ inputSize: 3, hiddenSize: 7, numLayers: 2, seed: 12 });
    const bytes = m.saveSafetensors();
    const meta = readSafetensors(bytes).metadata;
    expect(JSON.parse(meta.config)).toMatchObject({ kind: 'GRU', hiddenSize: 7, numLayers: 2 });
    const n = new GRU({ inputSize: 3, hiddenSize: 7, numLayers: 2, seed: 13 });
    n.loadSafetensors(bytes);
    const a = m.stateDict(), b = n.stateDict();
    for (const k of Object.keys(a)) expect(Buffer.from(b[k].data.buffer).equals(Buffer.from(a[k].data.buffer))).toBe(true);
  });

  it('a corrupt or mismatched file is a FormatError and leaves the weights as they were', () => {
    const m = make();
    const before = m.stateDict();
    const good = file('f32');
    expect(() => m.loadSafetensors(good.subarray(0, good.length - 10))).toThrow(FormatError);
    const other = new LSTM({ inputSize: 5, hiddenSize: 13, numLayers: 2, projSize: 3 }).saveSafetensors();
    expect(() => m.loadSafetensors(other)).toThrow(/missing: weight_ih_l0_reverse/);
    const after = m.stateDict();
    for (const k of Object.keys(before)) expect(maxAbsDiff(after[k].data, before[k].data)).toBe(0);
  });
});
