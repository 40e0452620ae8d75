/// <reference types="vite/client" />
// The threaded build in Chromium: the page is served cross-origin isolated (COOP/COEP headers,
// see the chromium-threads project in vitest.browser.config.ts), so SharedArrayBuffer exists and
// the engine runs kernels on Web Workers over one shared memory. Results must equal one
// thread's: outputs and dInput bit for bit, parameter gradients within float rounding.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import simdUrl from '../../build/wasm-rnn.wasm?url';
import threadsUrl from '../../build/wasm-rnn.threads.wasm?url';
import relaxedUrl from '../../build/wasm-rnn.relaxed.wasm?url';
import threadsRelaxedUrl from '../../build/wasm-rnn.threads-relaxed.wasm?url';
import { GRU, LSTM, Tensor, createEngine, type Engine, type Recurrent } from '../../src/index.js';
import { splitTuning } from '../../src/nn/recurrent.js';
import { ThreadPool } from '../../src/engine/pool.js';

let one: Engine, two: Engine;
beforeAll(async () => {
  one = await createEngine(fetch(simdUrl));
  two = await createEngine(fetch(threadsUrl), { threads: 2 });
});
afterAll(() => two?.dispose());

function data(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return -1 + 2 * (s / 4294967296); });
}
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

function compare(make: (engine: Engine) => Recurrent, T: number, B: number): number {
  const a = make(one), b = make(two);
  b.loadStateDict(a.stateDict());
  const I = a.config.inputSize, W = a.numDirections * a.outputSize;
  const x = new Tensor(data(T * B * I, 1), [T, B, I]);
  const fa = a.forward(x), fb = b.forward(x);
  expect(same(fb.output.data, fa.output.data), 'output bit for bit').toBe(true);
  const dOutput = new Tensor(data(T * B * W, 2), [T, B, W]);
  const ga = a.backward({ dOutput }), gb = b.backward({ dOutput });
  expect(same(gb.dInput.data, ga.dInput.data), 'dInput bit for bit').toBe(true);
  let worst = 0;
  const pa = a.gradients(), pb = b.gradients();
  for (const k of Object.keys(pa)) {
    const scale = Math.max(1, ...pa[k].data.map(Math.abs));
    for (let i = 0; i < pa[k].data.length; i++) worst = Math.max(worst, Math.abs(pb[k].data[i] - pa[k].data[i]) / scale);
  }
  a.dispose(); b.dispose();
  return worst;
}

describe('threads in a cross-origin isolated page', () => {
  it('the page is isolated and the engine has 2 threads on shared memory', () => {
    expect(crossOriginIsolated).toBe(true);
    expect(two.threads).toBe(2);
    expect(two.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('LSTM, 2 layers, bidirectional, B = 16: same as one thread', () => {
    expect(compare((engine) => new LSTM({ inputSize: 5, hiddenSize: 13, numLayers: 2, bidirectional: true, seed: 1, engine }), 7, 16)).toBeLessThan(1e-5);
  });

  it('GRU, B = 9: same as one thread', () => {
    expect(compare((engine) => new GRU({ inputSize: 3, hiddenSize: 37, seed: 2, engine }), 6, 9)).toBeLessThan(1e-5);
  });

  it('batch 1 split by gate rows: the page thread spins at the per-step barrier (it may not block), same bits', () => {
    const saved = { ...splitTuning };
    splitTuning.minStepWork = 0; splitTuning.minCallWork = 0; // reach the split path at test sizes
    try {
      const pool = two.pool!, run = pool.run.bind(pool);
      let splitRuns = 0;
      pool.run = (lists) => { if (lists.some((l) => l.some(([n]) => n.endsWith('_seq_forward_split')))) splitRuns++; run(lists); };
      try {
        expect(compare((engine) => new LSTM({ inputSize: 5, hiddenSize: 48, numLayers: 2, seed: 3, engine }), 40, 1)).toBeLessThan(1e-5);
        expect(compare((engine) => new GRU({ inputSize: 3, hiddenSize: 32, bidirectional: true, seed: 4, engine }), 25, 2)).toBeLessThan(1e-5);
      } finally {
        pool.run = run;
      }
      expect(splitRuns).toBe(2);
    } finally {
      Object.assign(splitTuning, saved);
    }
  });

  it('the relaxed threads build (what the default loader picks here) matches the relaxed build', async () => {
    const r1 = await createEngine(fetch(relaxedUrl)), r2 = await createEngine(fetch(threadsRelaxedUrl), { threads: 2 });
    try {
      const make = (engine: Engine) => new LSTM({ inputSize: 5, hiddenSize: 13, numLayers: 2, seed: 5, engine });
      const a = make(r1), b = make(r2);
      b.loadStateDict(a.stateDict());
      const x = new Tensor(data(6 * 16 * 5, 7), [6, 16, 5]);
      expect(same(b.forward(x).output.data, a.forward(x).output.data), 'output bit for bit').toBe(true);
      a.dispose(); b.dispose();
    } finally {
      r2.dispose();
    }
  });

  it('a worker that cannot instantiate the module: creation rejects with its reason and stops the workers', async () => {
    // The module imports a function the workers do not provide (LinkError in each worker; a
    // browser does not pass a worker's unhandled rejection to the page: the worker reports it).
    const module = await WebAssembly.compile(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
      1, 4, 1, 0x60, 0, 0, 2, 9, 1, 3, 0x65, 0x6e, 0x76, 1, 0x66, 0, 0]));
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    try {
      await expect(ThreadPool.create(module, memory, {}, [], 2, 0)).rejects.toThrow(/worker \d could not start: LinkError/);
      expect(terminate).toHaveBeenCalledTimes(2);
    } finally { terminate.mockRestore(); }
  });

  it('the default loader picks the threads build for threads > 1', async () => {
    const e = await createEngine(undefined, { threads: 2 });
    try {
      expect(e.threads).toBe(2);
      const m = new LSTM({ inputSize: 2, hiddenSize: 3, engine: e });
      expect(m.forward(new Tensor(data(2 * 8 * 2, 3), [2, 8, 2])).output.shape).toEqual([2, 8, 3]);
      m.dispose();
    } finally {
      e.dispose();
    }
  });
});
