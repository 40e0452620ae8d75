// onnxruntime-web (its WASM SIMD build, run in Node, one thread) and onnxruntime-node (native CPU
// execution provider, intra-op threads 1). Both run the same ONNX model, built by the bench from
// the shared weights (bench/lib/onnx.mjs): one LSTM / GRU node, opset 14.
//   one run = new Tensor(x) + session.run({ X }) → Y, Y_h (, Y_c); copies in and out included.
// Inference only: these packages have no training API (W5 is skipped).
import { packageVersion } from '../lib/common.mjs';
import { recurrentModel } from '../lib/onnx.mjs';
import { onnxWeights } from '../lib/weights.mjs';

function makeAdapter({ name, detail, pkg, sessionOptions, configure }) {
  let ort = null;
  return {
    name,
    detail,
    version: null,

    async load() {
      try {
        ort = await import(pkg);
        this.version = packageVersion(pkg);
      } catch (err) {
        return { ok: false, reason: `${pkg} not installed (npm --prefix bench ci): ${err.message.split('\n')[0]}` };
      }
      configure?.(ort);
      return { ok: true };
    },

    async setup(w, s) {
      if (w.task === 'train') return { skip: `${pkg} is an inference runtime (no training API)` };
      const bytes = recurrentModel({ op: w.kind, T: w.T, batch: w.B, I: w.I, H: w.H }, onnxWeights(w.kind, s.params));
      const session = await ort.InferenceSession.create(bytes, sessionOptions);
      const dims = [w.T, w.B, w.I];
      const run = async () => {
        const out = await session.run({ X: new ort.Tensor('float32', s.x, dims) });
        return out.Y.data; // Y (T, 1, B, H): num_directions = 1, so the same bytes as (T, B, H)
      };
      return {
        run: async () => (await run())[0],
        output: async () => ({ y: await run() }),
        dispose: () => session.release(),
        modelBytes: bytes.length,
      };
    },
  };
}

export const onnxruntimeWeb = makeAdapter({
  name: 'onnxruntime-web',
  detail: 'WASM SIMD, 1 thread',
  pkg: 'onnxruntime-web',
  configure: (ort) => {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
  },
  sessionOptions: { executionProviders: ['wasm'], graphOptimizationLevel: 'all' },
});

export const onnxruntimeNode = makeAdapter({
  name: 'onnxruntime-node',
  detail: 'native CPU EP, 1 intra-op thread',
  pkg: 'onnxruntime-node',
  sessionOptions: {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  },
});
