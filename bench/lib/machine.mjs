// The limits of this machine that bound every kernel: one core's f32x4 arithmetic peak (plain
// SIMD, and relaxed SIMD with its fused multiply-add) and its read bandwidth at a given working
// set, measured by the probes in bench/peak/peak.ts, compiled here with the project's asc.
// Used by bench/gemm.mjs (GEMM as % of peak) and bench/peers.mjs (the floor of each workload).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BENCH_DIR, summarize } from './common.mjs';

const median = (xs) => summarize(xs).median;

/** Relaxed SIMD validates here (Node 20: only with --experimental-wasm-relaxed-simd). */
function hasRelaxed(bytes) {
  try { return WebAssembly.validate(bytes); } catch { return false; }
}

/**
 * Compile the probes for the plain and (where it validates) the relaxed-SIMD build. asc runs in a
 * temporary directory so that it cannot pick up the project's asconfig.json.
 */
function compile() {
  const dir = mkdtempSync(path.join(tmpdir(), 'wasm-rnn-peak-'));
  const asc = path.join(BENCH_DIR, '..', 'node_modules', '.bin', 'asc');
  const src = path.join(BENCH_DIR, 'peak', 'peak.ts');
  try {
    const out = {};
    for (const [name, enable] of [['plain', 'simd'], ['relaxed', 'simd,relaxed-simd']]) {
      const file = path.join(dir, `${name}.wasm`);
      execFileSync(asc, [src, '-O3', '--enable', enable, '--runtime', 'stub', '--use', 'abort=', '--importMemory', '-o', file], { cwd: dir });
      out[name] = readFileSync(file);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Largest working set measured, bytes; the probes' memory holds it plus the tile's 5 KB. */
const MAX_BYTES = 16 << 20;

/**
 * Measure the machine: `{ peak: { plain, relaxed }, bandwidth(bytes) }`, GFLOP/s (a multiply-add
 * on 4 lanes counts 8 FLOPs; relaxed is null where relaxed SIMD does not validate) and GB/s.
 * The peak is the best of three probes (12 dependent multiply-add chains, 6 accumulators fed by
 * independent products, the library's GEMM tile on L1-resident data), each a median of 9 runs.
 * bandwidth(bytes) reads a buffer of that many bytes (rounded up to 128) over and over, after
 * writing it once: the read bandwidth of the cache level that holds it (untouched memory would
 * all map to one zero page and read at L1 speed). Results are cached per size.
 */
export async function measureMachine() {
  const bins = compile();
  const memory = new WebAssembly.Memory({ initial: (MAX_BYTES >> 16) + 2 });
  new Uint8Array(memory.buffer).fill(0x3c); // finite floats everywhere, every page written
  const mods = {};
  for (const [name, bytes] of Object.entries(bins)) {
    if (name === 'relaxed' && !hasRelaxed(bytes)) continue;
    mods[name] = (await WebAssembly.instantiate(bytes, { env: { memory } })).instance.exports;
  }
  const base = 65536;
  const peakOf = (x) => {
    const forms = [
      [(n, r) => x.peak_madd(n, r), 12 * 8, 2e6],
      [(n, r) => x.peak_acc(n, r), 6 * 8, 2e6],
      [(n) => x.peak_tile(n, base), 64 * 8 * 8, 4e4],
    ];
    let best = 0;
    for (const [f, flopsPerIter, iters] of forms) {
      f(iters / 10, 1);
      const g = [];
      for (let r = 0; r < 9; r++) {
        const t = performance.now();
        f(iters, r + 1);
        g.push((iters * flopsPerIter) / ((performance.now() - t) * 1e6));
      }
      best = Math.max(best, median(g));
    }
    return best;
  };
  const peak = { plain: peakOf(mods.plain), relaxed: mods.relaxed ? peakOf(mods.relaxed) : null };
  const cache = new Map();
  const bandwidth = (bytes) => {
    const n = Math.min(MAX_BYTES, Math.max(128, Math.ceil(bytes / 128) * 128));
    if (!cache.has(n)) {
      const reps = Math.max(1, Math.round(2e8 / n));
      mods.plain.stream_read(base, n, 1);
      const g = [];
      for (let r = 0; r < 9; r++) {
        const t = performance.now();
        mods.plain.stream_read(base, n, reps);
        g.push((n * reps) / ((performance.now() - t) * 1e6));
      }
      cache.set(n, median(g));
    }
    return cache.get(n);
  };
  return { peak, bandwidth };
}
