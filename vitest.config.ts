import { defineConfig } from 'vitest/config';

// WASM_RNN_BUILD=relaxed runs the same suite against the relaxed-SIMD build (Node 20 only
// validates relaxed SIMD behind --experimental-wasm-relaxed-simd).
const relaxed = process.env.WASM_RNN_BUILD === 'relaxed';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    ...(relaxed ? { execArgv: ['--experimental-wasm-relaxed-simd'] } : {}),
  },
});
