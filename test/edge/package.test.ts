// The published package from a consumer's side: what `npm pack` ships, `import 'wasm-rnn'` in
// Node from the installed tarball, its types under TypeScript, and esbuild bundles for Node
// made without plugins (the .wasm located three ways: esbuild's `file` loader + a URL, the
// `binary` loader + bytes, and the default loader, which must say where it looked). Browser
// bundles (Vite, esbuild): test/browser/bundlers.page.ts.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LSTM, Tensor } from '../../src/index.js';
import { engine, maxAbsDiff, randomArray } from '../helpers/engine.js';
import { ROOT, declaredWasm, packAndInstall, type Packed } from './pack.js';

const exec = promisify(execFile);
let pkg: Packed;

beforeAll(async () => {
  await engine();
  pkg = packAndInstall('consumer');
}, 120_000);
afterAll(() => pkg?.cleanup());

// What every consumer script computes: a seeded LSTM on fixed input, output printed as JSON.
const FORWARD = `
const x = new Float32Array(6 * 2 * 5);
let s = 1;
for (let i = 0; i < x.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = -1 + 2 * (s / 4294967296); }
const lstm = new LSTM({ inputSize: 5, hiddenSize: 7, numLayers: 2, seed: 3 });
const { output } = lstm.forward({ data: x, shape: [6, 2, 5] });
console.log(JSON.stringify({ shape: output.shape, output: Array.from(output.data) }));
`;

function expected(): Float32Array {
  const lstm = new LSTM({ inputSize: 5, hiddenSize: 7, numLayers: 2, seed: 3 });
  const out = lstm.forward(new Tensor(randomArray(60, 1), [6, 2, 5])).output.data;
  lstm.dispose();
  return out;
}

async function node(file: string): Promise<{ shape: number[]; output: number[] }> {
  const { stdout } = await exec(process.execPath, [file], { cwd: pkg.dir, timeout: 30_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('npm pack', () => {
  it('ships ESM JavaScript, .d.ts types and the .wasm builds, nothing else', () => {
    const wasm = declaredWasm();
    expect(wasm).toEqual(expect.arrayContaining(['build/wasm-rnn.wasm', 'build/wasm-rnn.relaxed.wasm']));
    const other = pkg.files.filter((f) => !/^dist\/.+\.(js|d\.ts)$/.test(f) && !wasm.includes(f) &&
      !['package.json', 'README.md', 'LICENSE'].includes(f));
    expect(other, 'files outside dist/*.js, dist/*.d.ts, the .wasm builds and package.json / README').toEqual([]);
    for (const w of wasm) expect(pkg.files).toContain(w);
    expect(pkg.files.filter((f) => /\.(wat|ts)$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    const js = pkg.files.filter((f) => f.endsWith('.js'));
    for (const f of js) expect(pkg.files, `${f} has types`).toContain(f.replace(/\.js$/, '.d.ts'));
    expect(js).toContain('dist/index.js');
  });
});

describe('a consumer project with the tarball installed', () => {
  it('Node: `import "wasm-rnn"`, init() finds its own .wasm, an LSTM forward matches the repo', async () => {
    writeFileSync(join(pkg.dir, 'node.mjs'), `import { init, defaultBuild, LSTM, saveCheckpoint, loadCheckpoint } from 'wasm-rnn';
await init();
if (!defaultBuild().pathname.endsWith('/node_modules/wasm-rnn/build/wasm-rnn.wasm')) throw new Error('default build: ' + defaultBuild());
const back = loadCheckpoint(saveCheckpoint(new LSTM({ inputSize: 2, hiddenSize: 3 }))).model;
if (back.config.hiddenSize !== 3) throw new Error('checkpoint round trip');
${FORWARD}`);
    const r = await node('node.mjs');
    expect(r.shape).toEqual([6, 2, 7]);
    expect(maxAbsDiff(r.output, expected())).toBe(0);
  });

  it('TypeScript (NodeNext) resolves the types, and they are not `any`', async () => {
    writeFileSync(join(pkg.dir, 'consumer.ts'), `import { init, LSTM, loadCheckpoint, type Tensor } from 'wasm-rnn';
await init();
const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 });
const out: Tensor = lstm.forward([[[1, 2]]]).output;
const v: number = out.data[0];
// @ts-expect-error: hiddenSize must be a number
new LSTM({ inputSize: 2, hiddenSize: 'three' });
export const checks = [v, loadCheckpoint];
`);
    writeFileSync(join(pkg.dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, lib: ['ES2022', 'DOM'], types: [] },
      files: ['consumer.ts'],
    }));
    await exec(join(ROOT, 'node_modules/.bin/tsc'), ['-p', pkg.dir], { cwd: pkg.dir, timeout: 60_000 });
  });

  it('esbuild, no plugins: the `file` loader copies the .wasm beside the bundle; init() gets its URL', async () => {
    writeFileSync(join(pkg.dir, 'file.mjs'), `import { init, LSTM } from 'wasm-rnn';
import wasmUrl from 'wasm-rnn/wasm-rnn.wasm';
await init(new URL(wasmUrl, import.meta.url));
${FORWARD}`);
    await build({ absWorkingDir: pkg.dir, entryPoints: ['file.mjs'], bundle: true, format: 'esm', platform: 'node', outdir: 'out-file', loader: { '.wasm': 'file' }, logLevel: 'error' });
    const r = await node('out-file/file.js');
    expect(maxAbsDiff(r.output, expected())).toBe(0);
  });

  it('esbuild, no plugins: the `binary` loader inlines the .wasm; init() gets the bytes', async () => {
    writeFileSync(join(pkg.dir, 'binary.mjs'), `import { init, LSTM } from 'wasm-rnn';
import bytes from 'wasm-rnn/wasm-rnn.wasm';
await init(bytes);
${FORWARD}`);
    const res = await build({ absWorkingDir: pkg.dir, entryPoints: ['binary.mjs'], bundle: true, format: 'esm', platform: 'node', target: 'node20', minify: true, outfile: 'out-binary/binary.js', loader: { '.wasm': 'binary' }, logLevel: 'error' });
    expect(res.errors).toEqual([]);
    const r = await node('out-binary/binary.js');
    expect(maxAbsDiff(r.output, expected())).toBe(0);
  });

  it('esbuild, no plugins, default loader: a bundle no longer sits beside build/, and init() says where it looked', async () => {
    writeFileSync(join(pkg.dir, 'plain.mjs'), `import { init, LSTM } from 'wasm-rnn';\nawait init();\n${FORWARD}`);
    await build({ absWorkingDir: pkg.dir, entryPoints: ['plain.mjs'], bundle: true, format: 'esm', platform: 'node', outfile: 'out-plain/deep/plain.js', logLevel: 'error' });
    const looked = new URL('../../build/wasm-rnn.wasm', `file://${join(pkg.dir, 'out-plain/deep/plain.js')}`);
    expect(existsSync(looked)).toBe(false);
    const err = await node('out-plain/deep/plain.js').then(() => null, (e: { stderr: string }) => e.stderr);
    expect(err).toContain(`cannot load the engine module from ${looked.href}`);
    expect(err).toMatch(/pass its bytes or a WebAssembly\.Module to init\(\)/);
  });
});
