#!/usr/bin/env node
// Trains the character model the worker example serves, with the package's own CLI:
//   wasm-rnn train --demo --epochs 1 --hidden 64   (Embedding(25, 32) → LSTM(32 → 64) → Linear(64, 25))
// and writes examples/worker/model.safetensors without the optimizer state (inference only:
// ~110 KB instead of ~330 KB). Needs `npm run build`. Takes ~5 s.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, loadCheckpoint, saveCheckpoint } from '../dist/index.js';

const root = new URL('../', import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), 'wasm-rnn-train-'));
try {
  const args = ['train', '--demo', '--epochs', '1', '--hidden', '64', '--out', join(tmp, 'model.safetensors'), '--plot', join(tmp, 'loss.svg'), '--prime', 'the ', '--length', '80'];
  execFileSync(process.execPath, [new URL('dist/cli/main.js', root).pathname, ...args], { stdio: 'inherit' });
  await init();
  const ck = loadCheckpoint(readFileSync(join(tmp, 'model.safetensors')));
  const out = new URL('examples/worker/model.safetensors', root);
  writeFileSync(out, saveCheckpoint(ck.model, { metadata: { vocab: ck.metadata.vocab, trainedWith: `wasm-rnn ${args.slice(0, 6).join(' ')}` } }));
  console.log(`wrote ${out.pathname} (${readFileSync(out).length} bytes)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
