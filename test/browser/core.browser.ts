/// <reference types="vite/client" />
// The core API in a real browser (headless Chromium, vitest browser mode), once per WASM build
// (the `wasmBuild` each instance provides, see vitest.browser.config.ts): the module fetched
// the way a page fetches it, PyTorch weights loaded from .safetensors, forward and backward
// against the PyTorch fixtures, training with Adam, checkpoints saved and loaded.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import simdUrl from '../../build/wasm-rnn.wasm?url';
import relaxedUrl from '../../build/wasm-rnn.relaxed.wasm?url';
import safetensorsF32Url from '../fixtures/safetensors/lstm_proj_f32.safetensors?url';
import {
  Adam, CrossEntropyLoss, Embedding, LSTM, Linear, Sequential, Tensor, clipGradNorm, createEngine,
  defaultBuild, hasRelaxedSimd, hasSimd, init, loadCheckpoint, saveCheckpoint, type Engine,
} from '../../src/index.js';
import { buildLayer as make, type Fixture } from '../helpers/parity.js';

declare module 'vitest' {
  export interface ProvidedContext { wasmBuild: 'simd' | 'relaxed' }
}

// Lazy: each fixture is fetched by the test that uses it.
const fixtures = import.meta.glob<Fixture>('../fixtures/parity/*.json', { import: 'default' });
const PARITY = ['lstm_basic', 'lstm_proj_bidir_2layer', 'lstm_t200', 'gru_bidir_2layer', 'gru_t1', 'rnn_relu_2layer', 'rnn_tanh_bidir_nobias'];

const build = inject('wasmBuild');
const wasmUrl = build === 'relaxed' ? relaxedUrl : simdUrl;
let engine: Engine;

beforeAll(async () => {
  engine = await init(fetch(wasmUrl)); // a Response promise, as a page would pass it
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d; }
  return m;
}


describe(`loading (${build} build)`, () => {
  it('the runtime has SIMD and relaxed SIMD, and the default loader picks the relaxed build', async () => {
    expect(hasSimd()).toBe(true);
    expect(hasRelaxedSimd()).toBe(true);
    expect(defaultBuild().pathname).toMatch(/\/build\/wasm-rnn\.relaxed\.wasm$/);
    // A fresh engine with no source: record what it fetches.
    const seen: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(String(input instanceof Request ? input.url : input));
      return realFetch(input, init);
    }) as typeof fetch;
    try {
      const fresh = await createEngine();
      expect(typeof fresh.kernels.f32_gemm_nt).toBe('function');
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/\/build\/wasm-rnn\.relaxed\.wasm$/);
  });

  it('threads in a page that is not cross-origin isolated: a StateError naming the COOP/COEP headers', async () => {
    expect(crossOriginIsolated).toBe(false);
    await expect(createEngine(undefined, { threads: 2 })).rejects.toThrow(/SharedArrayBuffer.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
  });

  it('a missing module is a StateError that names the URL it tried', async () => {
    const where = new URL('/no/such/wasm-rnn.wasm', location.href);
    await expect(createEngine(where)).rejects.toThrow(where.href);
  });
});

describe(`PyTorch parity in the browser (${build} build)`, () => {
  for (const name of PARITY) {
    it(`${name}: forward and backward within 1e-4`, async () => {
      const f = await fixtures[`../fixtures/parity/${name}.json`]();
      const m = make(f);
      m.loadStateDict(f.params);
      const fw = m.forward(f.input, { ...(f.h0 ? { h0: f.h0 } : {}), ...(f.c0 ? { c0: f.c0 } : {}) });
      expect(maxAbsDiff(fw.output.data, f.output.data)).toBeLessThan(1e-4);
      expect(maxAbsDiff(fw.hN.data, f.hN.data)).toBeLessThan(1e-4);
      if (f.cN) expect(maxAbsDiff(fw.cN!.data, f.cN.data)).toBeLessThan(1e-4);
      const bw = m.backward({ dOutput: f.dOutput, dhN: f.dhN, ...(f.dcN ? { dcN: f.dcN } : {}) });
      expect(maxAbsDiff(bw.dInput.data, f.grads.dInput.data)).toBeLessThan(1e-4);
      expect(maxAbsDiff(bw.dh0.data, f.grads.dh0.data)).toBeLessThan(1e-4);
      const g = m.gradients();
      for (const [k, want] of Object.entries(f.grads.params)) expect(maxAbsDiff(g[k].data, want.data), k).toBeLessThan(1e-4);
      m.dispose();
    });
  }
});

describe(`weights and checkpoints (${build} build)`, () => {
  it('loads a PyTorch state_dict from .safetensors fetched over HTTP and reproduces its output', async () => {
    const f = await fixtures['../fixtures/parity/lstm_proj_bidir_2layer.json']();
    const bytes = new Uint8Array(await (await fetch(safetensorsF32Url)).arrayBuffer());
    const m = new LSTM({ inputSize: 5, hiddenSize: 13, numLayers: 2, bidirectional: true, projSize: 3 });
    m.loadSafetensors(bytes);
    for (const [k, v] of Object.entries(f.params)) expect(maxAbsDiff(m.stateDict()[k].data, v.data), k).toBe(0);
    const out = m.forward(f.input, { ...(f.h0 ? { h0: f.h0 } : {}), ...(f.c0 ? { c0: f.c0 } : {}) }).output;
    expect(maxAbsDiff(out.data, f.output.data)).toBeLessThan(1e-5);
    m.dispose();
  });

  it('trains a character model with Adam, then a checkpoint round trip resumes it exactly', () => {
    const text = 'the cat sat on the mat. the rat sat on the hat. '.repeat(4);
    const chars = [...new Set(text)].sort(), V = chars.length;
    const ids = Array.from(text, (c) => chars.indexOf(c));
    const T = 24, B = 4;
    const x = new Float32Array(T * B), y = new Float32Array(T * B);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) { x[t * B + b] = ids[b * 40 + t]; y[t * B + b] = ids[b * 40 + t + 1]; }
    const xs = new Tensor(x, [T, B]), ys = new Tensor(y, [T, B]);
    const model = new Sequential([
      new Embedding({ numEmbeddings: V, embeddingDim: 8, seed: 1 }),
      new LSTM({ inputSize: 8, hiddenSize: 24, seed: 2 }),
      new Linear({ inFeatures: 24, outFeatures: V, seed: 3 }),
    ]);
    const loss = new CrossEntropyLoss();
    const opt = new Adam(model, { lr: 0.02 });
    const step = () => {
      model.zeroGrad();
      const l = loss.forward(model.forward(xs), ys);
      model.backward(loss.backward());
      clipGradNorm(model.parameters(), 1);
      opt.step();
      return l;
    };
    const losses = Array.from({ length: 30 }, step);
    expect(losses[0]).toBeGreaterThan(Math.log(V) - 0.5);
    expect(losses[29]).toBeLessThan(losses[0] * 0.6);

    const bytes = saveCheckpoint(model, { optimizer: opt, metadata: { vocab: JSON.stringify(chars) } });
    const ck = loadCheckpoint(bytes);
    expect(JSON.parse(ck.metadata.vocab)).toEqual(chars);
    const copy = ck.model as Sequential;
    const a = model.stateDict(), b = copy.stateDict();
    for (const k of Object.keys(a)) expect(maxAbsDiff(b[k].data, a[k].data), k).toBe(0);
    // Resume: the same next step from the original and from the restored model + optimizer.
    const opt2 = new Adam(copy, { lr: 0.02 });
    opt2.loadStateDict(ck.optimizer!);
    const next = step();
    copy.zeroGrad();
    const l2 = loss.forward(copy.forward(xs), ys);
    copy.backward(loss.backward());
    clipGradNorm(copy.parameters(), 1);
    opt2.step();
    expect(l2).toBe(next);
    const a2 = model.stateDict(), b2 = copy.stateDict();
    for (const k of Object.keys(a2)) expect(maxAbsDiff(b2[k].data, a2[k].data), k).toBe(0);
    const before = engine.heap.bytesInUse;
    opt.dispose(); opt2.dispose(); model.dispose(); copy.dispose();
    expect(engine.heap.bytesInUse).toBeLessThan(before);
  });
});
