// TF.js 4.22 layers API on two backends: 'wasm' (@tensorflow/tfjs-backend-wasm, its SIMD build,
// multithreading switched off) and 'cpu' (plain JS, part of @tensorflow/tfjs).
//   inference:  tf.sequential([tf.layers.lstm | gru({ returnSequences: true })]).predict(x),
//               x created from the Float32Array and y read back with dataSync() inside the run;
//   training:   [lstm, dense(C)] + tf.losses.softmaxCrossEntropy + tf.train.adam, one
//               optimizer.minimize() per run.
// Layers use recurrentActivation 'sigmoid' (TF.js's default is hard sigmoid) and glorotUniform
// initializers (the default orthogonal one takes minutes at hidden 512); the weights are then
// replaced by the shared ones. TF.js is batch-major (B, T, ·): inputs are transposed once in
// setup, outputs back for the check only.
//
// Differences from PyTorch that the check has to know about:
//   - one bias per layer (b_ih + b_hh): the same function, but Adam then moves the sum by one
//     step where PyTorch moves each of the two biases by one step, so only the loss and the
//     gradients at the shared weights are compared, not the losses after Adam steps;
//   - GRU: TF.js implements only Keras' reset_after = false, n = tanh(W_h x + b_h + U_h (r ⊙ h)),
//     which is a different function from PyTorch's. Its output is checked against a float64
//     reference of that variant with the same weights instead of against wasm-rnn.
import { GATES, swapTB, tfjsGradsToTorch, tfjsWeights, transpose } from '../lib/weights.mjs';
import { packageVersion } from '../lib/common.mjs';

let tf = null;
let loadResult = null;

async function loadTf() {
  if (loadResult) return loadResult;
  try {
    tf = await import('@tensorflow/tfjs');
  } catch (err) {
    return (loadResult = { ok: false, reason: `@tensorflow/tfjs not installed (npm --prefix bench ci): ${err.message.split('\n')[0]}` });
  }
  tf.enableProdMode(); // TF.js's advice for speed: no debug checks (and no "install tfjs-node" banner)
  return (loadResult = { ok: true });
}

function makeAdapter(backend) {
  return {
    name: `tfjs-${backend}`,
    detail: backend === 'wasm' ? 'WASM SIMD backend, 1 thread' : 'plain-JS cpu backend',
    version: null,

    async load() {
      const r = await loadTf();
      if (!r.ok) return r;
      if (backend === 'wasm') {
        try {
          await import('@tensorflow/tfjs-backend-wasm');
        } catch (err) {
          return { ok: false, reason: `@tensorflow/tfjs-backend-wasm not installed: ${err.message.split('\n')[0]}` };
        }
        // Single-threaded build; SIMD stays on (its own feature test decides).
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      }
      if (!(await tf.setBackend(backend))) return { ok: false, reason: `tf.setBackend('${backend}') failed` };
      await tf.ready();
      const pkg = backend === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs';
      this.version = packageVersion(pkg);
      if (backend === 'wasm') {
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        this.detail = `WASM${simd ? ' SIMD' : ''} backend, 1 thread`;
      }
      return { ok: true };
    },

    async setup(w, s) {
      await tf.setBackend(backend);
      await tf.ready();
      return w.task === 'train' ? train(w, s) : infer(w, s);
    },
  };
}

function recurrentLayer(w, extra = {}) {
  const make = w.kind === 'LSTM' ? tf.layers.lstm : tf.layers.gru;
  return make({
    units: w.H,
    returnSequences: true,
    recurrentActivation: 'sigmoid',
    kernelInitializer: 'glorotUniform',
    recurrentInitializer: 'glorotUniform',
    batchInputShape: [w.B, w.T, w.I],
    ...extra,
  });
}

function setRecurrentWeights(layer, w, s) {
  const G = GATES[w.kind] * w.H;
  const { kernel, recurrent, bias } = tfjsWeights(w.kind, s.params, w.I, w.H);
  const ts = [tf.tensor2d(kernel, [w.I, G]), tf.tensor2d(recurrent, [w.H, G]), tf.tensor1d(bias)];
  layer.setWeights(ts);
  tf.dispose(ts);
}

function infer(w, s) {
  const layer = recurrentLayer(w);
  const model = tf.sequential({ layers: [layer] });
  setRecurrentWeights(layer, w, s);
  const xb = swapTB(s.x, w.T, w.B, w.I); // (B, T, I)
  const run = () => {
    const x = tf.tensor3d(xb, [w.B, w.T, w.I]);
    const y = model.predict(x, { batchSize: w.B });
    const data = y.dataSync();
    tf.dispose([x, y]);
    return data;
  };
  return {
    run: () => run()[0],
    output: () => ({ y: swapTB(run(), w.B, w.T, w.H), ...(w.kind === 'GRU' ? { variant: 'gru-reset-before' } : {}) }),
    dispose: () => model.dispose(),
  };
}

function train(w, s) {
  const { T, B, I, H, C } = w;
  const rnn = recurrentLayer(w);
  const dense = tf.layers.dense({ units: C });
  const model = tf.sequential({ layers: [rnn, dense] });
  setRecurrentWeights(rnn, w, s);
  const dk = tf.tensor2d(transpose(s.linear.weight, C, H), [H, C]), db = tf.tensor1d(s.linear.bias);
  dense.setWeights([dk, db]);
  tf.dispose([dk, db]);

  const xb = swapTB(s.x, T, B, I);
  const oneHot = new Float32Array(B * T * C); // (B, T, C) from time-major targets (T, B)
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) oneHot[(b * T + t) * C + s.targets[t * B + b]] = 1;

  const optimizer = tf.train.adam(w.lr, 0.9, 0.999, w.eps);
  const vars = [...rnn.trainableWeights, ...dense.trainableWeights].map((v) => v.read());
  // Inputs are created inside the run (as the other implementations copy theirs in).
  const withBatch = (fn) => {
    const x = tf.tensor3d(xb, [B, T, I]);
    const labels = tf.tensor3d(oneHot, [B, T, C]);
    try {
      return fn(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }))); // mean over B·T rows
    } finally {
      tf.dispose([x, labels]);
    }
  };
  const step = () => withBatch((loss) => {
    const cost = optimizer.minimize(loss, true, vars);
    const v = cost.dataSync()[0];
    cost.dispose();
    return v;
  });
  const lossOnly = () => withBatch((loss) => tf.tidy(() => loss().dataSync()[0]));

  return {
    run: step,
    output: () => {
      const { losses, grads } = withBatch((loss) => {
        const { value, grads: g } = tf.variableGrads(loss, vars);
        const [kernel, recurrent, bias, denseKernel, denseBias] = vars.map((v) => g[v.name].dataSync());
        const l0 = value.dataSync()[0];
        optimizer.applyGradients(g);
        tf.dispose([value, ...Object.values(g)]);
        return { losses: [l0], grads: tfjsGradsToTorch(w.kind, { kernel, recurrent, bias, denseKernel, denseBias }, I, H, C) };
      });
      for (let k = 1; k < w.checkSteps; k++) losses.push(step());
      losses.push(lossOnly());
      return { losses, grads, singleBias: true };
    },
    dispose: () => { optimizer.dispose(); model.dispose(); },
  };
}

export const tfjsWasm = makeAdapter('wasm');
export const tfjsCpu = makeAdapter('cpu');
