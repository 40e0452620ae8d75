#!/usr/bin/env node
// Size report and budget check: raw, gzip and brotli bytes of each .wasm build the package ships
// and of the JS bundled and minified by esbuild (the whole API, and what typical applications
// import after tree shaking), against size-budget.json. Exits 1 if a budget is exceeded.
// Needs `npm run build`.
//   node scripts/size.mjs            table + check
//   node scripts/size.mjs --json     the measurements as JSON
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
const budget = JSON.parse(readFileSync(new URL('size-budget.json', root), 'utf8'));
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

const measure = (name, bytes) => ({
  name,
  raw: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
  brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});

const wasm = pkg.files.filter((f) => f.endsWith('.wasm')).sort().map((f) => measure(f, readFileSync(new URL(f, root))));

// The library as a bundler ships it to a browser or worker: the whole public API, and what typical
// applications import (tree-shaken). Node built-ins (reached only in Node, by dynamic import)
// stay external.
const ENTRIES = {
  'JS: whole API (dist/index.js)': "export * from './dist/index.js';",
  'JS: inference (init, LSTM/GRU/RNN, Tensor)': "export { init, LSTM, GRU, RNN, Tensor } from './dist/index.js';",
  'JS: a saved model (init, loadCheckpoint)': "export { init, loadCheckpoint, Tensor } from './dist/index.js';",
  'JS: training (layers, Adam, loss, clipping, checkpoints)':
    "export { init, LSTM, GRU, Sequential, Embedding, Linear, Adam, CrossEntropyLoss, clipGradNorm, saveCheckpoint, loadCheckpoint } from './dist/index.js';",
};
const js = [];
for (const [name, contents] of Object.entries(ENTRIES)) {
  const out = await build({
    stdin: { contents, resolveDir: root.pathname, loader: 'js' }, bundle: true, minify: true, format: 'esm',
    platform: 'neutral', external: ['node:*'], write: false, logLevel: 'error',
  });
  js.push(measure(name, out.outputFiles[0].contents));
}
const [full, ...apps] = js;

const KB = 1000;
const kb = (n) => (n / KB).toFixed(1);
const largest = wasm.reduce((a, b) => (b.gzip > a.gzip ? b : a));
const loadedGzip = full.gzip + largest.gzip;
const failures = [];
for (const w of wasm) if (w.raw > budget.wasmRawKB * KB) failures.push(`${w.name}: ${kb(w.raw)} KB raw > ${budget.wasmRawKB} KB`);
if (full.raw > budget.jsFullApiMinifiedKB * KB) failures.push(`${full.name}: ${kb(full.raw)} KB minified > ${budget.jsFullApiMinifiedKB} KB`);
for (const a of apps) if (a.raw > budget.jsMinifiedKB * KB) failures.push(`${a.name}: ${kb(a.raw)} KB minified > ${budget.jsMinifiedKB} KB`);
for (const f of [...wasm, ...js]) if (f.gzip > budget.fileGzipKB * KB) failures.push(`${f.name}: ${kb(f.gzip)} KB gzip > ${budget.fileGzipKB} KB`);
if (loadedGzip > budget.loadedGzipKB * KB) failures.push(`whole API + ${largest.name}: ${kb(loadedGzip)} KB gzip > ${budget.loadedGzipKB} KB`);

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ wasm, js, loadedGzip, budget, failures }, null, 2));
} else {
  const rows = [...wasm, ...js].map((f) => `| ${f.name} | ${kb(f.raw)} | ${kb(f.gzip)} | ${kb(f.brotli)} |`);
  console.log(['| what | raw / minified KB | gzip KB | brotli KB |', '| --- | ---: | ---: | ---: |', ...rows,
    `| one runtime loads: whole API + one .wasm | ${kb(full.raw + largest.raw)} | ${kb(loadedGzip)} | ${kb(full.brotli + largest.brotli)} |`].join('\n'));
  console.log(`budgets (size-budget.json): each .wasm ≤ ${budget.wasmRawKB} KB raw; whole API ≤ ${budget.jsFullApiMinifiedKB} KB and ` +
    `each application entry ≤ ${budget.jsMinifiedKB} KB minified; each ≤ ${budget.fileGzipKB} KB gzip; whole API + one .wasm ≤ ${budget.loadedGzipKB} KB gzip`);
}
if (failures.length) {
  console.error(`size budget exceeded:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
if (!process.argv.includes('--json')) console.log('size: within budget');
