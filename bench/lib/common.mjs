// Shared by both benchmark suites (bench/run.mjs, bench/peers.mjs): seeded data, the timing loop,
// table formatting and a description of the machine.
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MAX_RUNS = 2000;

// ---------------------------------------------------------------------------------------------
// Deterministic data: mulberry32, uniform in [lo, hi).
// ---------------------------------------------------------------------------------------------
export function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniformArray(n, rand, lo = -1, hi = 1) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

// ---------------------------------------------------------------------------------------------
// Timing. Warm-up: untimed runs until at least `warmup` runs AND `warmupMinMs` ms are done, but
// stopping (after at least one run) once `warmupMaxMs` ms have passed — so fast code gets
// hundreds of warm-up runs (WASM engines compile hot functions again, optimised, after a while:
// onnxruntime-web's first ~20 runs here are 2× slower than the rest) and slow code only one or
// two. Then at least `runs` timed runs, continuing (up to MAX_RUNS) until `minTimeMs` ms have
// been spent timing. run() may be async; its result is folded into a sink so that nothing can be
// optimised away. bench/peers/torch_bench.py follows the same protocol.
// ---------------------------------------------------------------------------------------------
let sink = 0;
export const sinkIsFinite = () => Number.isFinite(sink);

export async function time(run, { warmup, runs, minTimeMs, warmupMinMs = 0, warmupMaxMs = Infinity }) {
  const w0 = performance.now();
  for (let i = 0; ; i++) {
    const spent = performance.now() - w0;
    if ((i >= warmup && spent >= warmupMinMs) || (i > 0 && spent >= warmupMaxMs)) break;
    sink += Number(await run()) || 0;
  }
  const ms = [];
  let spent = 0;
  while (ms.length < runs || (spent < minTimeMs && ms.length < MAX_RUNS)) {
    const t0 = performance.now();
    const r = await run();
    const dt = performance.now() - t0;
    sink += Number(r) || 0;
    ms.push(dt);
    spent += dt;
  }
  return summarize(ms);
}

/** Median, minimum and count of a list of times (ms), and the times themselves. */
export function summarize(times) {
  const ms = [...times].sort((a, b) => a - b);
  const mid = ms.length >> 1;
  const median = ms.length % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2;
  return { median, min: ms[0], n: ms.length, times };
}

// ---------------------------------------------------------------------------------------------
// Formatting.
// ---------------------------------------------------------------------------------------------
export const fmtMs = (v) => (v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v < 1000 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'));
export const fmtG = (v) => v.toFixed(2);

/** Alignment of column i: `align` ('l' / 'r' per column) when given, else right from `firstRight` on. */
const rightAligned = (i, firstRight, align) => (align ? align[i] === 'r' : i >= firstRight);

/** Plain-text table. */
export function textTable({ head, body, align }, firstRight = 2) {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (rightAligned(i, firstRight, align) ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

/** GitHub Markdown table; `|` inside cells is escaped. */
export function markdownTable({ head, body, align }, firstRight = 2) {
  const sep = head.map((_, i) => (rightAligned(i, firstRight, align) ? '---:' : '---'));
  const cell = (c) => String(c).replace(/\|/g, '\\|');
  return [head.map(cell), sep, ...body.map((r) => r.map(cell))].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function environment() {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString().trim();
  } catch { /* not a git checkout */ }
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    commit,
  };
}

/** Parse a non-negative integer CLI option; exits with a message when it is not one. */
export function intOption(value, name, min = 0) {
  const v = Number(value);
  if (!Number.isInteger(v) || v < min) {
    console.error(`bench: --${name} must be an integer ≥ ${min}, got ${value}`);
    process.exit(2);
  }
  return v;
}

/** Version of a package installed under bench/node_modules (null when it is not installed). */
export function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(path.join(BENCH_DIR, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}
