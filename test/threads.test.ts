// Threaded mode: batches of ≥ 8 sequences split across worker threads on one shared memory.
// Outputs must equal one thread's bit for bit; gradients (summed per thread, then together)
// within float rounding.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GRU, LSTM, Linear, RNN, Tensor, createEngine, type Engine, type Recurrent } from '../src/index.js';
import { splitTuning } from '../src/nn/recurrent.js';
import { BUILD, maxAbsDiff, randomArray } from './helpers/engine.js';

const bytes = (f: string) => readFileSync(new URL(`../build/${f}`, import.meta.url));
// One thread and its threads build: plain SIMD, or with WASM_RNN_BUILD=relaxed the relaxed pair.
const [ONE, TWO] = BUILD === 'wasm-rnn.relaxed.wasm'
  ? ['wasm-rnn.relaxed.wasm', 'wasm-rnn.threads-relaxed.wasm'] : ['wasm-rnn.wasm', 'wasm-rnn.threads.wasm'];
let one: Engine, two: Engine;
beforeAll(async () => {
  one = await createEngine(bytes(ONE));
  two = await createEngine(bytes(TWO), { threads: 2 });
});
afterAll(() => two?.dispose());

// exact: the parameter gradients too must be one thread's bits (a forward split by gate rows
// sums them on one thread, in one order); otherwise within 1e-5 (batch slices summed in turn).
function compare(make: (engine: Engine) => Recurrent, T: number, B: number, lengths?: number[], exact = false) {
  const a = make(one), b = make(two);
  b.loadStateDict(a.stateDict());
  a.manualSeed(3); b.manualSeed(3);
  const { inputSize: I } = a.config, W = a.numDirections * a.outputSize;
  const x = new Tensor(randomArray(T * B * I, 1), a.config.batchFirst ? [B, T, I] : [T, B, I]);
  const fa = a.forward(x, lengths ? { lengths } : {}), fb = b.forward(x, lengths ? { lengths } : {});
  expect(Buffer.from(fb.output.data.buffer).equals(Buffer.from(fa.output.data.buffer)), 'output bit for bit').toBe(true);
  expect(maxAbsDiff(fb.hN.data, fa.hN.data)).toBe(0);
  if (fa.cN) expect(maxAbsDiff(fb.cN!.data, fa.cN.data)).toBe(0);
  const dOutput = { data: randomArray(T * B * W, 2), shape: [...fa.output.shape] };
  const ga = a.backward({ dOutput }), gb = b.backward({ dOutput });
  expect(maxAbsDiff(gb.dInput.data, ga.dInput.data)).toBe(0); // per sequence: same arithmetic
  expect(maxAbsDiff(gb.dh0.data, ga.dh0.data)).toBe(0);
  if (ga.dc0) expect(maxAbsDiff(gb.dc0!.data, ga.dc0.data)).toBe(0);
  const pa = a.gradients(), pb = b.gradients();
  let worst = 0;
  for (const k of Object.keys(pa)) {
    const scale = Math.max(1, ...pa[k].data.map(Math.abs));
    worst = Math.max(worst, maxAbsDiff(pb[k].data, pa[k].data) / scale);
  }
  if (exact) expect(worst, 'parameter gradients bit for bit').toBe(0);
  else expect(worst, 'parameter gradients').toBeLessThan(1e-5);
  // Repeating at the same shapes allocates nothing more on either engine.
  const used = two.heap.bytesInUse;
  b.forward(x, lengths ? { lengths } : {}); b.backward({ dOutput });
  expect(two.heap.bytesInUse).toBe(used);
  a.dispose(); b.dispose();
  return worst;
}

describe('threads', () => {
  it('the threaded engine reports its threads', () => {
    expect(two.threads).toBe(2);
    expect(one.threads).toBe(1);
  });

  it('LSTM, 2 layers, bidirectional, projection, dropout, B = 16', () => {
    const w = compare((engine) => new LSTM({ inputSize: 5, hiddenSize: 13, numLayers: 2, bidirectional: true, projSize: 3, dropout: 0.2, seed: 1, engine }), 7, 16);
    console.log(`threads: LSTM gradients within ${w.toExponential(2)} (relative) of one thread`);
  });
  it('GRU, odd batch B = 9, batchFirst, variable lengths', () =>
    compare((engine) => new GRU({ inputSize: 3, hiddenSize: 37, batchFirst: true, seed: 2, engine }), 6, 9, [6, 1, 3, 6, 2, 5, 4, 6, 1]));
  it('RNN relu, B = 32', () => compare((engine) => new RNN({ inputSize: 4, hiddenSize: 8, nonlinearity: 'relu', seed: 3, engine }), 5, 32));
  it('Linear splits its rows: outputs and dX bit for bit, dW and db to float rounding', () => {
    for (const [N, act] of [[161, 'tanh'], [64, 'relu'], [9, 'none']] as const) {
      const a = new Linear({ inFeatures: 13, outFeatures: 37, activation: act, seed: 5, engine: one });
      const b = new Linear({ inFeatures: 13, outFeatures: 37, activation: act, seed: 5, engine: two });
      const x = new Tensor(randomArray(N * 13, 6), [N, 13]), dy = new Tensor(randomArray(N * 37, 7), [N, 37]);
      expect(maxAbsDiff(b.forward(x).data, a.forward(x).data)).toBe(0);
      expect(maxAbsDiff(b.backward(dy).data, a.backward(dy).data)).toBe(0);
      const ga = a.gradients(), gb = b.gradients();
      for (const k of Object.keys(ga)) expect(maxAbsDiff(gb[k].data, ga[k].data), `${k} N=${N}`).toBeLessThan(1e-5);
      const used = two.heap.bytesInUse;
      b.forward(x); b.backward(dy);
      expect(two.heap.bytesInUse).toBe(used);
      a.dispose(); b.dispose();
    }
  });

  describe('small batches split the gate rows of every step instead', () => {
    // Each thread takes whole 16-unit panels of every gate block and the threads meet at a
    // barrier after each step (assembly/cells/split.ts). Outputs, states and the saved gates
    // (so the gradients too) must be one thread's bits. The work threshold is lowered so that
    // small sizes take this path; the spy checks they did.
    const saved = { ...splitTuning };
    beforeAll(() => { splitTuning.minStepWork = 0; splitTuning.minCallWork = 0; });
    afterAll(() => { Object.assign(splitTuning, saved); });
    const split = (make: (engine: Engine) => Recurrent, T: number, B: number, expectSplit = true) => {
      const spy = vi.spyOn(two.pool!, 'run');
      try {
        compare(make, T, B, undefined, true);
        const first = spy.mock.calls.map((c) => c[0]).find((lists) => lists.some((l) => l.some(([n]) => n.endsWith('_seq_forward_split'))));
        expect(first !== undefined, 'a forward ran split by gate rows').toBe(expectSplit);
        if (first) expect(first.length).toBe(2);
      } finally { spy.mockRestore(); }
    };
    it('LSTM, B = 1, hidden 32', () => split((engine) => new LSTM({ inputSize: 5, hiddenSize: 32, seed: 4, engine }), 9, 1));
    it('LSTM, 2 layers, bidirectional, B = 3, hidden 48 (3 panels for 2 threads)', () =>
      split((engine) => new LSTM({ inputSize: 13, hiddenSize: 48, numLayers: 2, bidirectional: true, seed: 5, engine }), 7, 3));
    it('LSTM without biases, batchFirst, B = 7, hidden 16 (one panel: stays on one thread)', () =>
      split((engine) => new LSTM({ inputSize: 3, hiddenSize: 16, bias: false, batchFirst: true, seed: 6, engine }), 5, 7, false));
    it('GRU, B = 1, hidden 64, T = 1', () => split((engine) => new GRU({ inputSize: 1, hiddenSize: 64, seed: 7, engine }), 1, 1));
    it('GRU, 3 layers, bidirectional, B = 5, hidden 32', () =>
      split((engine) => new GRU({ inputSize: 37, hiddenSize: 32, numLayers: 3, bidirectional: true, seed: 8, engine }), 11, 5));
    it('RNN tanh, 2 layers, bidirectional, B = 2, hidden 32', () =>
      split((engine) => new RNN({ inputSize: 7, hiddenSize: 32, numLayers: 2, bidirectional: true, seed: 13, engine }), 6, 2));
    it('RNN relu without biases, B = 1, hidden 48', () =>
      split((engine) => new RNN({ inputSize: 3, hiddenSize: 48, nonlinearity: 'relu', bias: false, seed: 14, engine }), 9, 1));
    it('not with a projection, odd hidden sizes or dropout', () => {
      split((engine) => new LSTM({ inputSize: 3, hiddenSize: 32, projSize: 5, seed: 9, engine }), 4, 1, false);
      split((engine) => new GRU({ inputSize: 3, hiddenSize: 37, seed: 9, engine }), 4, 1, false);
      split((engine) => new LSTM({ inputSize: 3, hiddenSize: 32, numLayers: 2, dropout: 0.3, seed: 9, engine }), 4, 1, false);
    });
    it('streaming step(): every step split, the same bits as one thread', () => {
      for (const [Kind, H, B, L] of [[LSTM, 32, 1, 2], [GRU, 48, 3, 1], [RNN, 32, 2, 2]] as const) {
        const a = new Kind({ inputSize: 5, hiddenSize: H, numLayers: L, seed: 11, engine: one });
        const b = new Kind({ inputSize: 5, hiddenSize: H, numLayers: L, seed: 11, engine: two });
        const h0 = new Tensor(randomArray(L * B * H, 6), [L, B, H]);
        a.resetState(B, { h0 }); b.resetState(B, { h0 });
        const spy = vi.spyOn(two.pool!, 'run');
        try {
          for (let t = 0; t < 5; t++) {
            const x = randomArray(B * 5, 20 + t);
            expect(Buffer.from(b.step(x).buffer).equals(Buffer.from(a.step(x).buffer)), `${Kind.name} step ${t}`).toBe(true);
          }
          expect(spy.mock.calls.length).toBe(5);
          expect(spy.mock.calls[0][0].length).toBe(2);
        } finally { spy.mockRestore(); }
        expect(maxAbsDiff(b.state.h.data, a.state.h.data)).toBe(0);
        if (a.state.c) expect(maxAbsDiff(b.state.c!.data, a.state.c.data)).toBe(0);
        a.dispose(); b.dispose();
      }
    });
    it('a split step that fails on one thread in its second layer leaves the state as it was; the next steps are one thread\'s', () => {
      const a = new LSTM({ inputSize: 4, hiddenSize: 32, numLayers: 2, seed: 23, engine: one });
      const b = new LSTM({ inputSize: 4, hiddenSize: 32, numLayers: 2, seed: 23, engine: two });
      const bits = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      a.resetState(1); b.resetState(1);
      for (let t = 0; t < 3; t++) expect(bits(b.step(randomArray(4, 24 + t))).equals(bits(a.step(randomArray(4, 24 + t))))).toBe(true);
      const pool = two.pool!, run = pool.run.bind(pool);
      for (const victim of [1, 0]) {
        const before = b.state;
        // The second layer's split call on one thread gets a bad x pointer (index 7) and traps,
        // after both threads finished the first layer.
        const spy = vi.spyOn(pool, 'run').mockImplementationOnce((lists) => run(lists.map((l, i) => (i !== victim ? l
          : l.map((c, j) => (j === 1 ? [c[0], ...c.slice(1, 7), 0x7ffffff0, ...c.slice(8)] as typeof c : c))))));
        try {
          expect(() => b.step(randomArray(4, 30))).toThrow(/out of bounds/);
          expect(spy.mock.calls[0][0][victim][1][0]).toBe('lstm_seq_forward_split');
        } finally { spy.mockRestore(); }
        expect(bits(b.state.h.data).equals(bits(before.h.data)), `h unchanged (thread ${victim})`).toBe(true);
        expect(bits(b.state.c!.data).equals(bits(before.c!.data)), `c unchanged (thread ${victim})`).toBe(true);
        for (let t = 0; t < 2; t++) {
          expect(bits(b.step(randomArray(4, 31 + t))).equals(bits(a.step(randomArray(4, 31 + t)))), `after a failure on thread ${victim}`).toBe(true);
        }
      }
      a.dispose(); b.dispose();
    });
    it('step() after engine.dispose() stopped the workers: back on one thread, same bits', async () => {
      const three = await createEngine(bytes(TWO), { threads: 2 });
      const a = new LSTM({ inputSize: 3, hiddenSize: 32, seed: 12, engine: one });
      const b = new LSTM({ inputSize: 3, hiddenSize: 32, seed: 12, engine: three });
      a.resetState(1); b.resetState(1);
      const x = randomArray(3, 30);
      expect(Buffer.from(b.step(x).buffer).equals(Buffer.from(a.step(x).buffer))).toBe(true);
      three.dispose();
      expect(three.threads).toBe(1);
      expect(Buffer.from(b.step(x).buffer).equals(Buffer.from(a.step(x).buffer))).toBe(true);
      expect(Buffer.from(b.forward(new Tensor(x, [1, 1, 3])).output.data.buffer)
        .equals(Buffer.from(a.forward(new Tensor(x, [1, 1, 3])).output.data.buffer))).toBe(true);
      a.dispose(); b.dispose();
    });
    it('first forwards of fresh models, one after another: every one the same bits', () => {
      // A thread that blocked in memory.atomic.wait during its first calls sometimes left the
      // barrier early (V8 11.3); the barrier only spins now. Early calls are where it showed.
      const x = new Tensor(randomArray(30 * 2 * 4, 40), [30, 2, 4]);
      for (let s = 0; s < 12; s++) {
        const a = new LSTM({ inputSize: 4, hiddenSize: 48, seed: 50 + s, engine: one });
        const b = new LSTM({ inputSize: 4, hiddenSize: 48, seed: 50 + s, engine: two });
        expect(Buffer.from(b.forward(x).output.data.buffer).equals(Buffer.from(a.forward(x).output.data.buffer)), `model ${s}`).toBe(true);
        a.dispose(); b.dispose();
      }
    });
    it('three threads, uneven shares (5 panels: 2, 2, 1), forward and step(): the same bits', async () => {
      // Three threads meet at each step's barrier (more than the two of the other tests), with unequal shares.
      const e3 = await createEngine(bytes(TWO), { threads: 3 });
      try {
        for (const Kind of [LSTM, GRU, RNN]) {
          const a = new Kind({ inputSize: 6, hiddenSize: 80, numLayers: 2, seed: 21, engine: one });
          const b = new Kind({ inputSize: 6, hiddenSize: 80, numLayers: 2, seed: 21, engine: e3 });
          const spy = vi.spyOn(e3.pool!, 'run');
          try {
            const x = new Tensor(randomArray(5 * 2 * 6, 22), [5, 2, 6]);
            for (let r = 0; r < 2; r++) { // twice: the barrier words carry over from one call to the next
              expect(Buffer.from(b.forward(x).output.data.buffer).equals(Buffer.from(a.forward(x).output.data.buffer)), `${Kind.name} forward ${r}`).toBe(true);
            }
            a.resetState(2); b.resetState(2);
            for (let t = 0; t < 3; t++) {
              const xt = randomArray(2 * 6, 23 + t);
              expect(Buffer.from(b.step(xt).buffer).equals(Buffer.from(a.step(xt).buffer)), `${Kind.name} step ${t}`).toBe(true);
            }
            const lists = spy.mock.calls.map((c) => c[0]);
            expect(lists.length).toBe(5);
            for (const l of lists) {
              expect(l.map((calls) => calls.filter(([n]) => n.endsWith('_seq_forward_split')).map((c) => (c.at(-4) as number) - (c.at(-5) as number))))
                .toEqual([[32, 32], [32, 32], [16, 16]]); // units per thread, for each of the 2 layers
            }
          } finally { spy.mockRestore(); }
          a.dispose(); b.dispose();
        }
      } finally { e3.dispose(); }
    });
    it('a kernel that fails on one thread: the call throws (the other stops waiting at its barrier), the next is right', () => {
      // A bad input pointer on one thread (what only a bug would pass) traps there; the other
      // thread is then spinning at a per-step barrier and must give up (the pool's abort word).
      const a = new LSTM({ inputSize: 4, hiddenSize: 32, seed: 15, engine: one });
      const b = new LSTM({ inputSize: 4, hiddenSize: 32, seed: 15, engine: two });
      const x = new Tensor(randomArray(6 * 1 * 4, 16), [6, 1, 4]);
      const pool = two.pool!, run = pool.run.bind(pool);
      for (const victim of [1, 0]) { // the worker's list, then the calling thread's own
        const spy = vi.spyOn(pool, 'run').mockImplementationOnce((lists) => run(lists.map((l, i) => (i !== victim ? l
          // index 7 of an LSTM forward call: x
          : l.map((c) => (c[0].endsWith('_seq_forward_split') ? [c[0], ...c.slice(1, 7), 0x7ffffff0, ...c.slice(8)] as typeof c : c))))));
        try {
          // The worker's own error text comes back with the failure.
          expect(() => b.forward(x)).toThrow(victim ? /a kernel failed on worker 1: RuntimeError: .*out of bounds/ : /out of bounds/);
        } finally { spy.mockRestore(); }
        expect(Buffer.from(b.forward(x).output.data.buffer).equals(Buffer.from(a.forward(x).output.data.buffer)), `after a failure on thread ${victim}`).toBe(true);
      }
      a.dispose(); b.dispose();
    });
    it('past 2³¹ runs of the pool: the run number wraps to 1 (a negative one would stop the workers), same bits', () => {
      const a = new LSTM({ inputSize: 4, hiddenSize: 32, seed: 17, engine: one });
      const b = new LSTM({ inputSize: 4, hiddenSize: 32, seed: 17, engine: two });
      const x = new Tensor(randomArray(5 * 1 * 4, 18), [5, 1, 4]);
      const pool = two.pool as unknown as { seq: number };
      pool.seq = 2 ** 31 - 3;
      for (let r = 0; r < 5; r++) {
        expect(Buffer.from(b.forward(x).output.data.buffer).equals(Buffer.from(a.forward(x).output.data.buffer)), `run ${r}`).toBe(true);
      }
      expect(pool.seq).toBe(3); // 2³¹ − 2, 2³¹ − 1, then 1, 2, 3
      a.dispose(); b.dispose();
    });
    it('a list that cannot be encoded throws before any worker starts (3 threads); the next forward is right', async () => {
      const e3 = await createEngine(bytes(TWO), { threads: 3 });
      try {
        const a = new LSTM({ inputSize: 4, hiddenSize: 48, seed: 19, engine: one });
        const b = new LSTM({ inputSize: 4, hiddenSize: 48, seed: 19, engine: e3 });
        const x = new Tensor(randomArray(6 * 1 * 4, 20), [6, 1, 4]);
        const pool = e3.pool!, run = pool.run.bind(pool);
        // The third thread's split call under a name the workers do not have: had the second
        // thread been woken first, it would wait at the first barrier for a partner that never comes.
        const spy = vi.spyOn(pool, 'run').mockImplementationOnce((lists) =>
          run(lists.map((l, i) => (i === 2 ? l.map((c) => ['no_such_kernel', ...c.slice(1)] as typeof c) : l))));
        try {
          expect(() => b.forward(x)).toThrow(/no export 'no_such_kernel'/);
        } finally { spy.mockRestore(); }
        expect(Buffer.from(b.forward(x).output.data.buffer).equals(Buffer.from(a.forward(x).output.data.buffer))).toBe(true);
        a.dispose(); b.dispose();
      } finally { e3.dispose(); }
    });
    it('the given initial state is used', () => {
      const a = new LSTM({ inputSize: 4, hiddenSize: 32, seed: 10, engine: one }), b = new LSTM({ inputSize: 4, hiddenSize: 32, seed: 10, engine: two });
      const x = new Tensor(randomArray(6 * 2 * 4, 3), [6, 2, 4]);
      const h0 = new Tensor(randomArray(2 * 32, 4), [1, 2, 32]), c0 = new Tensor(randomArray(2 * 32, 5), [1, 2, 32]);
      const fa = a.forward(x, { h0, c0 }), fb = b.forward(x, { h0, c0 });
      expect(Buffer.from(fb.output.data.buffer).equals(Buffer.from(fa.output.data.buffer))).toBe(true);
      expect(maxAbsDiff(fb.cN!.data, fa.cN!.data)).toBe(0);
      a.dispose(); b.dispose();
    });
  });

  describe('workers that cannot start or stop', () => {
    it('a worker that cannot start: creation rejects with its reason (it waited for ever) and stops the others', async () => {
      // A module importing a function the workers do not provide: every worker fails to
      // instantiate it (LinkError) and exits, as a worker blocked by a page's CSP would.
      const module = await WebAssembly.compile(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
        1, 4, 1, 0x60, 0, 0, // type section: () → ()
        2, 9, 1, 3, 0x65, 0x6e, 0x76, 1, 0x66, 0, 0])); // import section: env.f, a function
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
      const { ThreadPool } = await import('../src/engine/pool.js');
      const { Worker } = await import('node:worker_threads');
      const terminate = vi.spyOn(Worker.prototype, 'terminate');
      try {
        await expect(ThreadPool.create(module, memory, {}, [], 3, 0)).rejects.toThrow(/worker \d could not start: LinkError.*env/);
        expect(terminate).toHaveBeenCalledTimes(3); // the ones still starting too
        // A worker that dies on an uncaught error before answering (here: no list of names).
        const good = await WebAssembly.compile(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
        await expect(ThreadPool.create(good, memory, {}, null as unknown as string[], 2, 0)).rejects.toThrow(/worker \d could not start: .*map/);
        expect(terminate).toHaveBeenCalledTimes(5);
      } finally { terminate.mockRestore(); }
    });
    it('a worker that stopped after starting: the next call throws and says so (it would wait for ever)', async () => {
      const e = await createEngine(bytes(TWO), { threads: 2 });
      try {
        const m = new LSTM({ inputSize: 4, hiddenSize: 8, seed: 21, engine: e });
        const x = new Tensor(randomArray(3 * 16 * 4, 22), [3, 16, 4]); // B = 16: split by batch rows
        const before = m.forward(x).output.data.slice();
        const w = (e.pool as unknown as { workers: import('node:worker_threads').Worker[] }).workers[0];
        await new Promise((resolve) => { w.once('exit', resolve); void w.terminate(); });
        expect(() => m.forward(x)).toThrow(/worker 1 stopped \(exit code 1\); dispose this engine/);
        e.dispose(); // back on one thread: the same numbers
        expect(Buffer.from(m.forward(x).output.data.buffer).equals(Buffer.from(before.buffer))).toBe(true);
      } finally { e.dispose(); }
    });
  });

  it('small batches stay on one thread and give the same results', () =>
    compare((engine) => new LSTM({ inputSize: 3, hiddenSize: 5, seed: 4, engine }), 4, 3));
});
