// GEMM against the measured f32x4 peak of one core (bench/lib/machine.mjs: the best of the
// probes in bench/peak/peak.ts, for the build the engine loaded: plain SIMD, or relaxed SIMD
// with its fused multiply-add); the GEMMs are the library's own kernels on the engine's memory.
// Usage: npm run build && node bench/gemm.mjs (node --experimental-wasm-relaxed-simd … for the
// relaxed build).
import { hasRelaxedSimd, init } from '../dist/index.js';
import { measureMachine } from './lib/machine.mjs';
import { summarize } from './lib/common.mjs';

const machine = await measureMachine();
const relaxed = hasRelaxedSimd();
const e = await init();
const k = e.kernels;
const buf = (n) => { const p = e.alloc(n); const f = e.f32; for (let i = 0; i < n; i++) f[(p >>> 2) + i] = Math.sin(i) * 0.1; return p; };

function gemm(name, M, N, K) {
  const A = buf(M * K), W = buf(N * K), C = buf(M * N), Bt = buf(K * N), Wp = buf(k.f32_packed_size(N, K));
  k.f32_pack_w(N, K, W, K, Wp);
  const run = {
    f32_gemm_pk: () => k.f32_gemm_pk(M, N, K, A, K, Wp, C, N, 0),
    f32_gemm_nt: () => k.f32_gemm_nt(M, N, K, A, K, W, K, C, N, 0),
    f32_gemm_nn: () => k.f32_gemm_nn(M, N, K, A, K, 1, Bt, N, C, N, 0),
  }[name];
  const flops = 2 * M * N * K, reps = Math.max(1, Math.round(2e8 / flops));
  for (let i = 0; i < reps; i++) run();
  const g = [];
  for (let r = 0; r < 11; r++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) run();
    g.push((flops * reps) / ((performance.now() - t) * 1e6));
  }
  for (const p of [A, W, C, Bt, Wp]) e.release(p);
  return summarize(g).median;
}

const p = relaxed ? machine.peak.relaxed : machine.peak.plain;
console.log(`f32x4 peak of one core, ${relaxed ? 'relaxed SIMD (fused multiply-add)' : 'plain SIMD (multiply + add)'}: ${p.toFixed(1)} GFLOP/s (the engine runs the ${relaxed ? 'relaxed' : 'plain'} build)\n`);
console.log('| kernel | M × N × K | GFLOP/s | % of peak |\n| --- | --- | ---: | ---: |');
for (const [M, N, K] of [[256, 512, 128], [100, 512, 32], [32, 512, 128], [1, 512, 128], [512, 512, 512]]) {
  for (const name of ['f32_gemm_pk', 'f32_gemm_nt', 'f32_gemm_nn']) {
    const g = gemm(name, M, N, K);
    console.log(`| ${name} | ${M} × ${N} × ${K} | ${g.toFixed(1)} | ${((100 * g) / p).toFixed(0)}% |`);
  }
}
