// A Cloudflare module worker for the workerd smoke test. workerd refuses to compile WASM from
// bytes, so the .wasm builds are imported as modules (each a WebAssembly.Module) and handed to
// init(); the checkpoint is a data module (ArrayBuffer). Bundled by test/edge/workerd.ts.
import { init, hasRelaxedSimd } from '../../dist/index.js';
import simd from './wasm-rnn.wasm';
import relaxed from './wasm-rnn.relaxed.wasm';
import model from './model.safetensors';
import expected from './fixtures/expected.json';
import { checkInference } from './inference.mjs';

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname !== '/check') return new Response('ok');
    try {
      await init(hasRelaxedSimd() ? relaxed : simd);
      const build = hasRelaxedSimd() ? 'wasm-rnn.relaxed.wasm' : 'wasm-rnn.wasm';
      return Response.json({ runtime: `workerd (${navigator.userAgent})`, build, ...checkInference(new Uint8Array(model), expected) });
    } catch (err) {
      return Response.json({ error: String(err?.stack ?? err) }, { status: 500 });
    }
  },
};
