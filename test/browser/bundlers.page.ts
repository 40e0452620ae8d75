// The packed package in a browser app built by a bundler, without plugins: a Vite production
// build (init() with no argument: Vite sees `new URL(…, import.meta.url)` and emits the .wasm
// builds as assets) and an esbuild bundle (the .wasm imported through the package's exports
// with esbuild's `file` loader, its URL passed to init()). Each page runs an LSTM forward in
// headless Chromium and must match Node.
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build as esbuild } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { build as vite } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LSTM, Tensor } from '../../src/index.js';
import { engine, maxAbsDiff, randomArray } from '../helpers/engine.js';
import { serveStatic } from '../../scripts/static-server.mjs';
import { packAndInstall, type Packed } from '../edge/pack.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

let pkg: Packed;
let browser: Browser;
let server: { url: string; close(): Promise<void> };

beforeAll(async () => {
  await engine();
  pkg = packAndInstall('bundlers');
  server = await serveStatic(pkg.dir);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  pkg?.cleanup();
});

const FORWARD = `
const x = new Float32Array(6 * 2 * 5);
let s = 1;
for (let i = 0; i < x.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = -1 + 2 * (s / 4294967296); }
const { output } = new LSTM({ inputSize: 5, hiddenSize: 7, numLayers: 2, seed: 3 }).forward({ data: x, shape: [6, 2, 5] });
document.body.dataset.result = JSON.stringify(Array.from(output.data));
`;
const HTML = (src: string) => `<!doctype html><link rel="icon" href="data:,"><body><script type="module" src="${src}"></script></body>`;

function expected(): Float32Array {
  const lstm = new LSTM({ inputSize: 5, hiddenSize: 7, numLayers: 2, seed: 3 });
  const out = lstm.forward(new Tensor(randomArray(60, 1), [6, 2, 5])).output.data;
  lstm.dispose();
  return out;
}

/** Open the page; return its result and the .wasm URLs it requested. */
async function run(path: string): Promise<{ result: number[]; wasm: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [], wasm: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname); });
  try {
    await page.goto(`${server.url}${path}`, { timeout: 15_000 });
    await page.waitForFunction(() => document.body.dataset.result || document.body.dataset.error, undefined, { timeout: 20_000 })
      .catch(() => { throw new Error(`no result from ${path}: ${errors.join('; ') || 'timeout'}`); });
    expect(errors).toEqual([]);
    return { result: JSON.parse((await page.evaluate(() => document.body.dataset.result))!), wasm };
  } finally {
    await page.close();
  }
}

describe('bundled browser apps (packed tarball, no bundler plugins)', () => {
  it('Vite: init() with no argument finds the .wasm Vite emitted (relaxed build in Chromium)', async () => {
    const app = join(pkg.dir, 'vite-app');
    mkdirSync(app);
    writeFileSync(join(app, 'index.html'), HTML('./main.js'));
    writeFileSync(join(app, 'main.js'), `import { init, LSTM } from 'wasm-rnn';\nawait init();\n${FORWARD}`);
    await vite({ root: app, base: './', logLevel: 'silent', configFile: false, build: { outDir: 'dist', target: 'es2022' } });
    const assets = readdirSync(join(app, 'dist/assets'));
    expect(assets.filter((f) => f.endsWith('.wasm')).length).toBeGreaterThanOrEqual(2);
    const r = await run('/vite-app/dist/index.html');
    expect(r.wasm).toHaveLength(1);
    expect(r.wasm[0]).toMatch(/^\/vite-app\/dist\/assets\/wasm-rnn\.relaxed-[\w-]+\.wasm$/);
    expect(maxAbsDiff(r.result, expected())).toBeLessThan(1e-5);
  });

  it('esbuild: the `file` loader copies the .wasm; init() gets its URL', async () => {
    writeFileSync(join(pkg.dir, 'esbuild-app.js'), `import { init, LSTM } from 'wasm-rnn';
import wasmUrl from 'wasm-rnn/wasm-rnn.relaxed.wasm';
await init(new URL(wasmUrl, import.meta.url));
${FORWARD}`);
    // The Node-only imports (node:fs/promises, node:worker_threads) sit inside try blocks, which
    // esbuild leaves unresolved for the browser: no flags needed.
    await esbuild({ absWorkingDir: pkg.dir, entryPoints: ['esbuild-app.js'], bundle: true, minify: true, format: 'esm',
      platform: 'browser', outdir: 'esbuild-out', loader: { '.wasm': 'file' }, logLevel: 'error' });
    writeFileSync(join(pkg.dir, 'esbuild-out/index.html'), HTML('./esbuild-app.js'));
    const r = await run('/esbuild-out/index.html');
    expect(r.wasm).toHaveLength(1);
    expect(r.wasm[0]).toMatch(/^\/esbuild-out\/wasm-rnn\.relaxed-\w+\.wasm$/);
    expect(maxAbsDiff(r.result, expected())).toBeLessThan(1e-5);
  });
});
