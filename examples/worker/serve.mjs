#!/usr/bin/env node
// Serve the example worker locally in workerd (no Cloudflare account needed):
//   npm run build && node examples/worker/serve.mjs [port]      (default 8787; Ctrl-C stops it)
// then e.g. curl 'http://127.0.0.1:8787/predict?text=the%20ca'
import { startWorker } from '../../scripts/workerd.mjs';

const here = (p) => new URL(p, import.meta.url).pathname;
export const MODULES = [
  { name: 'wasm-rnn/wasm-rnn.wasm', kind: 'wasm', file: here('../../build/wasm-rnn.wasm') },
  { name: 'wasm-rnn/wasm-rnn.relaxed.wasm', kind: 'wasm', file: here('../../build/wasm-rnn.relaxed.wasm') },
  { name: 'model.safetensors', kind: 'data', file: here('./model.safetensors') },
];
export const EXTERNAL = ['*.wasm', '*.safetensors', 'node:*'];

if (import.meta.url === `file://${process.argv[1]}`) {
  const worker = await startWorker(here('./worker.js'), MODULES, { external: EXTERNAL, port: Number(process.argv[2] ?? 8787) });
  console.log(`serving on ${worker.url}  (try ${worker.url}/predict?text=the%20ca and ${worker.url}/complete?text=the%20)`);
  const quit = () => worker.stop().then(() => process.exit(0));
  process.on('SIGINT', quit);
  process.on('SIGTERM', quit);
}
