// Where the time of a batch-1 forward split by gate rows across 2 threads goes (W1, W4 and W3
// of bench/peers.mjs): the API call; the kernel lists it hands the pool (both threads, with the
// per-step barriers); the first thread's list alone (no partner, no barrier); within that, the
// thread's recurrent products run as independent calls (one step's products do not wait for the
// last step's h, as they must inside the forward), with the rate they stream W_hh at; and the
// same forward on one thread. So: JS = API − lists; barriers and the partner = lists − alone;
// the rest of a thread's share (input projection, gates, each step waiting on the last) =
// alone − products. Reads private fields (the pool, the packed weights) for the measurement.
// Usage: npm run build && node [--experimental-wasm-relaxed-simd] bench/batch1.mjs
import { readFileSync } from 'node:fs';
import { createEngine, defaultBuild, defaultThreadsBuild, hasRelaxedSimd, LSTM, GRU, Tensor } from '../dist/index.js';

const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
// The median of single calls, as bench/peers.mjs reports (a mean over a batch of calls would
// also carry the occasional garbage collection that the forward's output arrays cause).
function time(fn, reps) {
  for (let i = 0; i < 300; i++) fn();
  const per = [];
  for (let i = 0; i < 21 * reps; i++) {
    const t = performance.now();
    fn();
    per.push((performance.now() - t) * 1000);
  }
  return median(per);
}

const one = await createEngine(readFileSync(defaultBuild()));
const two = await createEngine(readFileSync(defaultThreadsBuild()), { threads: 2 });
const rows = [];
for (const [name, Kind, I, H, T] of [['W1', LSTM, 32, 128, 100], ['W4', GRU, 32, 128, 100], ['W3', LSTM, 128, 512, 50]]) {
  const x = new Tensor(new Float32Array(T * I).map((_, i) => Math.sin(i * 0.37)), [T, 1, I]);
  const reps = H > 256 ? 20 : 100;
  const m1 = new Kind({ inputSize: I, hiddenSize: H, seed: 3, engine: one });
  const oneUs = time(() => m1.forward(x), reps);
  m1.dispose();
  const m = new Kind({ inputSize: I, hiddenSize: H, seed: 3, engine: two });
  const pool = two.pool, run = pool.run.bind(pool);
  let lists = null;
  pool.run = (l) => { lists = l; run(l); };
  const apiUs = time(() => m.forward(x), reps);
  pool.run = run;
  if (!lists || !lists[0][0][0].endsWith('_split')) throw new Error(`${name}: the forward was not split by gate rows`);
  const listsUs = time(() => run(lists), reps);
  const call = lists[0][0], solo = call.slice();
  solo[solo.length - 2] = 1; // n = 1: this thread alone, its barrier a no-op
  const fn = pool.fns[solo[0]];
  const aloneUs = time(() => fn(...solo.slice(1)), reps);
  // The thread's recurrent products, each step's independent of the last.
  const [j0, j1] = [call.at(-5), call.at(-4)], w = j1 - j0, G = Kind === LSTM ? 4 : 3, k = two.kernels;
  const pw = m.packed.at('weight_hh_l0'), h = two.alloc(H), c = two.alloc(G * w);
  two.zero(h, H);
  const productsUs = time(() => {
    for (let t = 0; t < T; t++) for (let q = 0; q < G; q++) k.f32_gemm_pk(1, w, H, h, H, pw + (q * H + j0) / 16 * H * 64, c + q * w * 4, G * w, 1);
  }, reps);
  two.release(h); two.release(c);
  m.dispose();
  const bytes = T * G * w * H * 4;
  rows.push({ name, shape: `${Kind.name} ${I}→${H}, T ${T}`, oneUs, apiUs, listsUs, aloneUs, productsUs, gbs: bytes / productsUs / 1e3 });
}
two.dispose();
console.log(`build: ${hasRelaxedSimd() ? 'relaxed SIMD' : 'SIMD'}; µs, medians`);
console.log('| | 1 thread | 2 threads: forward | kernel lists | thread 0 alone | its W_hh products, independent (GB/s) | JS | barriers, partner | rest of the share |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const f = (v) => v.toFixed(1);
  console.log(`| ${r.name} ${r.shape} | ${f(r.oneUs)} | ${f(r.apiUs)} | ${f(r.listsUs)} | ${f(r.aloneUs)} | ${f(r.productsUs)} (${r.gbs.toFixed(0)}) | ${f(r.apiUs - r.listsUs)} | ${f(r.listsUs - r.aloneUs)} | ${f(r.aloneUs - r.productsUs)} |`);
}
