#!/usr/bin/env node
// Writes the edge-runtime fixture from the built package (run `npm run build` first):
//   test/edge/fixtures/model.safetensors  a checkpoint: Embedding(12, 8) → LSTM(8 → 16, 2 layers) → Linear(16, 12)
//   test/edge/fixtures/expected.json      its input token ids (T, B) and logits (T, B, V) as Node computes them
// with the plain-SIMD build. Deno, Bun and workerd must reproduce the logits within 1e-5.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { init, Embedding, LSTM, Linear, Sequential, Tensor, saveCheckpoint } from '../dist/index.js';

const root = new URL('../', import.meta.url);
await init(await readFile(new URL('build/wasm-rnn.wasm', root)));

const V = 12, E = 8, H = 16, T = 20, B = 2;
const model = new Sequential([
  new Embedding({ numEmbeddings: V, embeddingDim: E, seed: 11 }),
  new LSTM({ inputSize: E, hiddenSize: H, numLayers: 2, seed: 12 }),
  new Linear({ inFeatures: H, outFeatures: V, seed: 13 }),
]).eval();

let s = 5;
const tokens = Array.from({ length: T * B }, () => (s = (s * 1103515245 + 12345) % 2147483648) % V);
const logits = model.forward(new Tensor(Float32Array.from(tokens), [T, B]));

const dir = new URL('test/edge/fixtures/', root);
await mkdir(dir, { recursive: true });
await writeFile(new URL('model.safetensors', dir), saveCheckpoint(model, { metadata: { note: 'edge-runtime fixture, scripts/make-edge-fixture.mjs' } }));
await writeFile(new URL('expected.json', dir), JSON.stringify({
  T, B, V, tokens, logits: Array.from(logits.data, (v) => Number(v.toPrecision(9))),
}) + '\n');
console.log(`wrote ${new URL('model.safetensors', dir).pathname} and expected.json (${T}×${B} tokens, ${logits.size} logits)`);
