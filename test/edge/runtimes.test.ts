// The built package (dist/ + build/*.wasm) in the edge runtimes: Deno and Bun (the package's
// default loader, reading the .wasm next to dist/) and a Cloudflare module worker in workerd
// (the .wasm imported as a module). Each loads a saved checkpoint, runs it forward and step
// by step, and must match the logits Node computed within 1e-5. The binaries come from the
// `deno`, `bun` and `workerd` npm packages (devDependencies). Needs `npm run build` first.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { getJson, startWorker } from '../../scripts/workerd.mjs';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url);
const path = (p: string) => new URL(p, root).pathname;
const TOL = 1e-5;

interface Result { runtime: string; build: string; relaxedSimd: boolean; forwardError: number; stepError: number; steps: number; error?: string }

function check(r: Result): void {
  console.log(`${r.runtime}: ${r.build}, forward max error ${r.forwardError.toExponential(2)}, step-by-step ${r.stepError.toExponential(2)}`);
  expect(r.error).toBeUndefined();
  expect(r.steps).toBe(20);
  expect(r.forwardError).toBeLessThan(TOL);
  expect(r.stepError).toBeLessThan(TOL);
  // All three have relaxed SIMD without flags, so the relaxed build is the one in use.
  expect(r.relaxedSimd).toBe(true);
  expect(r.build).toBe('wasm-rnn.relaxed.wasm');
}

async function runtime(cmd: string, args: string[]): Promise<Result> {
  const { stdout } = await run(path(`node_modules/.bin/${cmd}`), args, { cwd: root.pathname, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Result;
}

describe('edge runtimes: inference from a saved checkpoint matches Node', () => {
  it('Deno', async () => {
    const version = JSON.parse(readFileSync(path('node_modules/deno/package.json'), 'utf8')).version;
    const r = await runtime('deno', ['run', '--no-prompt', '--no-lock', '--no-config', '--allow-read', 'test/edge/smoke.mjs']);
    expect(r.runtime).toBe(`deno ${version}`);
    check(r);
  });

  it('Bun', async () => {
    const r = await runtime('bun', ['test/edge/smoke.mjs']);
    expect(r.runtime).toMatch(/^bun /);
    check(r);
  });

  it('a Cloudflare module worker in workerd (WebAssembly.Module imports)', async () => {
    const worker = await startWorker(path('test/edge/worker.mjs'), [
      { name: 'wasm-rnn.wasm', kind: 'wasm', file: path('build/wasm-rnn.wasm') },
      { name: 'wasm-rnn.relaxed.wasm', kind: 'wasm', file: path('build/wasm-rnn.relaxed.wasm') },
      { name: 'model.safetensors', kind: 'data', file: path('test/edge/fixtures/model.safetensors') },
    ], { external: ['*.wasm', '*.safetensors', 'node:*'] });
    try {
      const { status, body } = await getJson<Result>(`${worker.url}/check`);
      if (status !== 200) console.log(worker.log());
      expect(status, body.error).toBe(200);
      expect(body.runtime).toMatch(/^workerd/);
      check(body);
    } finally {
      await worker.stop();
    }
  });
});
