// Loading failures say what is wrong and where: a runtime without WASM SIMD (names the
// feature), a .wasm that is not where it was looked for (names the URL), in Node and over HTTP.
// (A checkpoint from another format version: test/train.test.ts.)
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StateError, createEngine, defaultBuild, hasRelaxedSimd, hasSimd } from '../../src/index.js';
import { serveStatic } from '../../scripts/static-server.mjs';

let server: { url: string; close(): Promise<void> };
beforeAll(async () => { server = await serveStatic(new URL('../../', import.meta.url).pathname); });
afterAll(async () => { await server?.close(); });

describe('clear loading errors', () => {
  it('a runtime without WebAssembly SIMD: StateError naming "simd128", before anything is fetched', async () => {
    const validate = vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      expect(hasSimd()).toBe(false);
      expect(hasRelaxedSimd()).toBe(false);
      expect(defaultBuild().pathname).toMatch(/\/build\/wasm-rnn\.wasm$/);
      const err = await createEngine().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateError);
      expect((err as Error).message).toMatch(/does not support WebAssembly SIMD \(the "simd128" feature\)/);
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      validate.mockRestore();
      fetchSpy.mockRestore();
    }
  });

  it('a missing file: names the file URL it tried and suggests passing bytes or a Module', async () => {
    const where = new URL('file:///nonexistent/wasm-rnn/build/wasm-rnn.wasm');
    const err = await createEngine(where).then(() => new Error('loaded'), (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(StateError);
    expect(err.message).toContain(`cannot load the engine module from ${where.href}`);
    expect(err.message).toMatch(/pass its bytes or a WebAssembly\.Module to init\(\)/);
    // A relative path is resolved against the working directory, and reported resolved.
    await expect(createEngine('no/such/wasm-rnn.wasm')).rejects.toThrow(`file://${process.cwd()}/no/such/wasm-rnn.wasm`);
  });

  it('over HTTP: a 404 names the URL and the status, from a URL or from a Response', async () => {
    const url = `${server.url}/build/missing.wasm`;
    await expect(createEngine(url)).rejects.toThrow(`cannot load the engine module from ${url} (HTTP 404)`);
    await expect(createEngine(fetch(url))).rejects.toThrow(`HTTP 404 ${url}`);
    const ok = await createEngine(fetch(`${server.url}/build/wasm-rnn.wasm`));
    expect(typeof ok.kernels.heap_base).toBe('function');
  });

  it('bytes that are not the module: a WebAssembly error, not a hang', async () => {
    await expect(createEngine(new Uint8Array([0, 1, 2, 3]))).rejects.toThrow(WebAssembly.CompileError);
  });
});
