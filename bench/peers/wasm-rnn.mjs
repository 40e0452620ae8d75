// wasm-rnn itself, through its public API (dist/, built by `npm run build` at the root). It is the
// baseline every ratio is taken against.
//   inference:  model.forward(x) → { output, hN, cN }, copies in and out included;
//   training:   Sequential([LSTM, Linear]) + CrossEntropyLoss + Adam, one optimizer step per run.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR } from '../lib/common.mjs';

let lib = null;

const singleThread = {
  name: 'wasm-rnn',
  detail: 'WASM SIMD build (plain f32x4, whatever the runtime also supports), 1 thread',
  version: null,
  engine: null,
  /** Package root holding dist/ and build/: this checkout, or another (--wasm-rnn DIR), e.g. a
   *  copy taken so that rebuilds in the working tree cannot change the code under test. */
  root: path.resolve(BENCH_DIR, '..'),

  async load() {
    try {
      lib = await import(pathToFileURL(path.join(this.root, 'dist', 'index.js')).href);
    } catch (err) {
      return { ok: false, reason: `${path.join(this.root, 'dist')} not built (run \`npm run build\` at the root): ${err.message}` };
    }
    // The baseline is always the plain SIMD build (the same build in every run, flag or not),
    // on its own engine; the relaxed-SIMD build is the next implementation.
    this.engine ??= await lib.createEngine(readFileSync(path.join(this.root, 'build', 'wasm-rnn.wasm')));
    this.version = JSON.parse(readFileSync(path.join(this.root, 'package.json'), 'utf8')).version;
    return { ok: true };
  },

  setup(w, s) {
    return w.task === 'train' ? train(w, s, this.engine) : infer(w, s, this.engine);
  },
};

/**
 * Another build of the same package, on its own engine: `file` under build/, `threads` > 1 for
 * the threads builds on a shared memory, `relaxed` when the build needs relaxed SIMD.
 */
function build(name, detail, file, { threads = 1, relaxed = false } = {}) {
  return {
    name, detail, version: null, engine: null,
    async load() {
      const r = await singleThread.load.call(singleThread);
      if (!r.ok) return r;
      if (relaxed && !lib.hasRelaxedSimd()) {
        return { ok: false, reason: 'this runtime does not validate relaxed SIMD (Node 20: run the bench with `node --experimental-wasm-relaxed-simd`, as `npm --prefix bench run peers` does)' };
      }
      this.version = singleThread.version;
      this.engine ??= await lib.createEngine(readFileSync(path.join(singleThread.root, 'build', file)), { threads });
      return { ok: true };
    },
    setup(w, s) {
      return w.task === 'train' ? train(w, s, this.engine) : infer(w, s, this.engine);
    },
  };
}

export default singleThread;

/**
 * The relaxed-SIMD build (f32x4.relaxed_madd: fused multiply-adds), which the default loader picks
 * wherever the runtime validates it: Chromium, Deno, Bun and workerd by default, Node 20 only with
 * --experimental-wasm-relaxed-simd (`npm --prefix bench run peers` passes it). The flag changes no
 * peer: onnxruntime-web 1.30 and TF.js 4.22 ship no relaxed-SIMD build.
 */
export const relaxed = build('wasm-rnn relaxed', 'WASM relaxed-SIMD build (fused multiply-add), 1 thread',
  'wasm-rnn.relaxed.wasm', { relaxed: true });

/** The opt-in threaded mode: the threads build on a shared memory, 2 threads (batches ≥ 8 split by sequences, smaller ones by gate rows). */
export const twoThreads = build('wasm-rnn 2 threads', 'WASM SIMD threads build, 2 threads (worker_threads on one shared memory)',
  'wasm-rnn.threads.wasm', { threads: 2 });

/** The same with the relaxed-SIMD threads build (what createEngine picks where relaxed SIMD validates). */
export const twoThreadsRelaxed = build('wasm-rnn relaxed 2 threads',
  'WASM relaxed-SIMD threads build, 2 threads (worker_threads on one shared memory)',
  'wasm-rnn.threads-relaxed.wasm', { threads: 2, relaxed: true });

function infer(w, s, engine) {
  const Ctor = { LSTM: lib.LSTM, GRU: lib.GRU }[w.kind];
  const m = new Ctor({ inputSize: w.I, hiddenSize: w.H, numLayers: 1, engine });
  m.loadStateDict(tensors(s.params, s.shapes));
  const x = new lib.Tensor(s.x, [w.T, w.B, w.I]);
  return {
    run: () => m.forward(x).output.data[0],
    output: () => ({ y: m.forward(x).output.data }),
    dispose: () => m.dispose(),
  };
}

function train(w, s, engine) {
  const { LSTM, Linear, Sequential, CrossEntropyLoss, Adam, Tensor } = lib;
  const model = new Sequential([
    new LSTM({ inputSize: w.I, hiddenSize: w.H, numLayers: 1, engine }),
    new Linear({ inFeatures: w.H, outFeatures: w.C, engine }),
  ]);
  const record = {};
  for (const [k, v] of Object.entries(tensors(s.params, s.shapes))) record[`0.${k}`] = v;
  for (const [k, v] of Object.entries(tensors(s.linear, s.linearShapes))) record[`1.${k}`] = v;
  model.loadStateDict(record);
  const lossFn = new CrossEntropyLoss({ engine });       // mean over the T·B rows
  const opt = new Adam(model, { lr: w.lr, eps: w.eps });
  const x = new Tensor(s.x, [w.T, w.B, w.I]);

  const loss = () => lossFn.forward(model.forward(x), s.targets);
  const step = () => {
    opt.zeroGrad();
    const l = loss();
    model.backward(lossFn.backward(), { inputGrad: false }); // x is data (no requires_grad in PyTorch either)
    opt.step();
    return l;
  };
  return {
    run: step,
    output: () => {
      // The check protocol (same in every adapter): gradients and loss at the shared weights,
      // then the loss after each of `checkSteps` Adam steps.
      opt.zeroGrad();
      const losses = [loss()];
      model.backward(lossFn.backward(), { inputGrad: false }); // x is data (no requires_grad in PyTorch either)
      const g = model.gradients();
      const grads = {
        weight_ih_l0: g['0.weight_ih_l0'].data, weight_hh_l0: g['0.weight_hh_l0'].data,
        bias_ih_l0: g['0.bias_ih_l0'].data, bias_hh_l0: g['0.bias_hh_l0'].data,
        'linear.weight': g['1.weight'].data, 'linear.bias': g['1.bias'].data,
      };
      opt.step();
      for (let k = 1; k < w.checkSteps; k++) losses.push(step());
      losses.push(loss());
      return { losses, grads };
    },
    dispose: () => { opt.dispose(); lossFn.dispose(); model.dispose(); },
  };
}

function tensors(record, shapes) {
  const out = {};
  for (const [k, v] of Object.entries(record)) out[k] = new lib.Tensor(v, shapes[k]);
  return out;
}
