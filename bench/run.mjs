// wasm-rnn engine benchmark.
//
//   npm run build && node bench/run.mjs [filter...] [--warmup N] [--runs N] [--min-time MS] [--out FILE]
//
// Every (workload × implementation) pair is timed with performance.now(): `warmup` untimed
// runs, then at least `runs` timed runs (more, up to MAX_RUNS, until `min-time` ms have been
// spent timing), reporting the median and the minimum. GFLOP/s is flops(workload) / median.
//
// Layout, so that peers (onnxruntime-web, TF.js; later, from bench/package.json) slot in beside
// each workload:
//   WORKLOADS        what to compute: model kind, sizes, pass (fwd | fwd+bwd), FLOP count.
//   IMPLEMENTATIONS  who computes it: { name, load(), setup(workload, data) → { run, dispose } }.
//                    A peer is one more entry; load() returns false when its package is missing,
//                    and setup() returns null for a workload it cannot run.
// The inputs (x, dOutput) come from a seeded PRNG in this file, so every implementation gets the
// same bytes in every run.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_OUT = path.join(HERE, 'results', 'engine.md');
const MAX_RUNS = 2000;

// ---------------------------------------------------------------------------------------------
// FLOP counting.
//
// One layer, one direction, forward: the matrix products are, per step, gates = x·W_ihᵀ + h·W_hhᵀ,
// a (B × I)·(I × G) plus a (B × H)·(H × G) product; one multiply-add counts as 2 FLOPs:
//     fwd = 2 · T · B · G · (I + H),        G = 4H (LSTM), 3H (GRU), H (RNN).
// Backward does twice the forward matrix work: dX = dG·W_ih and dh = dG·W_hh (the same shapes as
// the forward products), plus dW_ih += dGᵀ·X and dW_hh += dGᵀ·H (again the same sizes):
//     bwd = 2 · fwd = 4 · T · B · G · (I + H),   fwd+bwd = 3 · fwd.
// The elementwise part (sigmoids, tanh, the cell/gate updates: O(T·B·H) against O(T·B·H·(I+H)))
// is not counted: ~20–30 FLOPs per hidden unit per step against 2·G·(I + H)/H = 960 (GRU) or
// 1280 (LSTM) at I = 32, H = 128, so a few per cent of the total (though sigmoid/tanh cost more
// cycles than their FLOPs suggest). Biases are not counted.
// These figures are the single-layer, unidirectional, no-projection case the workloads use.
// ---------------------------------------------------------------------------------------------
const GATES = { RNN: 1, LSTM: 4, GRU: 3 };

function forwardFlops({ kind, T, B, I, H }) {
  const G = GATES[kind] * H;
  return 2 * T * B * G * (I + H);
}

function passFlops(model, pass) {
  const f = forwardFlops(model);
  return pass === 'fwd' ? f : 3 * f; // fwd+bwd = fwd + 2·fwd
}

// ---------------------------------------------------------------------------------------------
// Workloads: each model × each pass. id is what the CLI filter matches (substring).
// ---------------------------------------------------------------------------------------------
const MODELS = [
  { id: 'lstm-b1', kind: 'LSTM', T: 100, B: 1, I: 32, H: 128 },
  { id: 'lstm-b32', kind: 'LSTM', T: 100, B: 32, I: 32, H: 128 },
  { id: 'gru-b1', kind: 'GRU', T: 100, B: 1, I: 32, H: 128 },
];
const PASSES = ['fwd', 'fwd+bwd'];

const WORKLOADS = MODELS.flatMap((model) =>
  PASSES.map((pass) => ({
    id: `${model.id}/${pass}`,
    label: `${model.kind}(${model.I}→${model.H}) T=${model.T} B=${model.B} ${pass}`,
    model,
    pass,
    flops: passFlops(model, pass),
  })),
);

// ---------------------------------------------------------------------------------------------
// Deterministic data: mulberry32, uniform in [-1, 1). Seeded per model, so fwd and fwd+bwd (and
// every implementation) see the same x and dOutput.
// ---------------------------------------------------------------------------------------------
function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniformArray(n, rand) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * rand() - 1;
  return a;
}

function makeData(model, seed = 0x5eed) {
  const { T, B, I, H } = model;
  const rand = mulberry32(seed);
  return {
    x: { data: uniformArray(T * B * I, rand), shape: [T, B, I] }, // time-major (T, B, I)
    dOutput: { data: uniformArray(T * B * H, rand), shape: [T, B, H] },
    weightSeed: 1234,
  };
}

// ---------------------------------------------------------------------------------------------
// Implementations. run() is the timed closure; everything else (model construction, weight init,
// input creation) happens in setup(), outside the timing.
// ---------------------------------------------------------------------------------------------
const IMPLEMENTATIONS = [
  {
    name: 'wasm-rnn',
    lib: null,
    async load() {
      this.lib = await import('../dist/index.js');
      await this.lib.init();
      return true;
    },
    setup({ model, pass }, data) {
      const { LSTM, GRU } = this.lib;
      const Ctor = { LSTM, GRU }[model.kind];
      if (!Ctor) return null;
      const m = new Ctor({ inputSize: model.I, hiddenSize: model.H, numLayers: 1, seed: data.weightSeed });
      const { x, dOutput } = data;
      // Whole public-API calls: input copy-in, the WASM sequence kernel, output copy-out.
      // Parameter gradients accumulate across runs (no zeroGrad in the timed region).
      const run = pass === 'fwd'
        ? () => m.forward(x).output.data[0]
        : () => { m.forward(x); return m.backward({ dOutput }).dInput.data[0]; };
      return { run, dispose: () => m.dispose() };
    },
  },
  // Peers go here, e.g.
  // {
  //   name: 'onnxruntime-web', lib: null,
  //   async load() { try { this.lib = await import('onnxruntime-web'); return true; } catch { return false; } },
  //   async setup(workload, data) { …; return { run: async () => …, dispose() {} }; },
  // },
];

// ---------------------------------------------------------------------------------------------
// Timing.
// ---------------------------------------------------------------------------------------------
let sink = 0; // results of run() land here so nothing is optimised away

async function time(run, { warmup, runs, minTimeMs }) {
  for (let i = 0; i < warmup; i++) sink += Number(await run()) || 0;
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
  ms.sort((a, b) => a - b);
  const mid = ms.length >> 1;
  const median = ms.length % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2;
  return { median, min: ms[0], n: ms.length };
}

// ---------------------------------------------------------------------------------------------
// Reporting.
// ---------------------------------------------------------------------------------------------
const fmtMs = (v) => (v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(1));
const fmtG = (v) => v.toFixed(2);

function rows(results, implNames) {
  const multi = implNames.length > 1;
  const head = ['workload', 'impl', 'MFLOP', 'runs', 'ms median', 'ms min', 'GFLOP/s @median'];
  if (multi) head.push(`median / ${implNames[0]}`);
  const body = results.map((r) => {
    const row = [
      r.workload.label, r.impl, (r.workload.flops / 1e6).toFixed(1), String(r.n),
      fmtMs(r.median), fmtMs(r.min), fmtG(r.workload.flops / (r.median * 1e6)),
    ];
    if (multi) {
      const base = results.find((q) => q.workload === r.workload && q.impl === implNames[0]);
      row.push(base ? `${(r.median / base.median).toFixed(2)}×` : '–');
    }
    return row;
  });
  return { head, body };
}

function textTable({ head, body }) {
  const right = (i) => i >= 2;
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (right(i) ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

function markdownTable({ head, body }) {
  const sep = head.map((_, i) => (i >= 2 ? '---:' : '---'));
  return [head, sep, ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function environment() {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: HERE, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString().trim();
  } catch { /* not a git checkout */ }
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    commit,
  };
}

// ---------------------------------------------------------------------------------------------
// Main.
// ---------------------------------------------------------------------------------------------
const { values: opts, positionals: filters } = parseArgs({
  allowPositionals: true,
  options: {
    warmup: { type: 'string', default: '5' },
    runs: { type: 'string', default: '15' },
    'min-time': { type: 'string', default: '1000' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (opts.help) {
  console.log(`usage: node bench/run.mjs [filter...] [--warmup N] [--runs N] [--min-time MS] [--out FILE]

  filter      keep workloads whose id contains any filter (ids: ${WORKLOADS.map((w) => w.id).join(', ')})
  --warmup    untimed runs before timing (default 5)
  --runs      minimum timed runs (default 15)
  --min-time  keep timing until this many ms are spent, up to ${MAX_RUNS} runs (default 1000)
  --out       Markdown results file (default bench/results/engine.md; a filtered run writes
              only when --out is given, so it never overwrites the full table with a partial one)`);
  process.exit(0);
}

const timing = {
  warmup: Number(opts.warmup),
  runs: Number(opts.runs),
  minTimeMs: Number(opts['min-time']),
};
for (const [k, v] of Object.entries(timing)) {
  if (!Number.isInteger(v) || v < 0 || (k === 'runs' && v < 1)) {
    console.error(`bench: --${k === 'minTimeMs' ? 'min-time' : k} must be a non-negative integer (runs ≥ 1)`);
    process.exit(2);
  }
}

const selected = filters.length ? WORKLOADS.filter((w) => filters.some((f) => w.id.includes(f))) : WORKLOADS;
if (!selected.length) {
  console.error(`bench: no workload matches ${filters.join(', ')}; ids: ${WORKLOADS.map((w) => w.id).join(', ')}`);
  process.exit(2);
}

const impls = [];
for (const impl of IMPLEMENTATIONS) {
  if (await impl.load()) impls.push(impl);
  else console.error(`bench: ${impl.name} not available, skipped`);
}

const env = environment();
console.log(`wasm-rnn bench — ${env.date}, Node ${env.node}, ${env.cpu} (${env.cores} logical CPUs)`);
console.log(`warm-up ${timing.warmup}, then ≥ ${timing.runs} timed runs and ≥ ${timing.minTimeMs} ms per row\n`);

const results = [];
const dataCache = new Map();
for (const workload of selected) {
  if (!dataCache.has(workload.model)) dataCache.set(workload.model, makeData(workload.model));
  const data = dataCache.get(workload.model);
  for (const impl of impls) {
    const bench = await impl.setup(workload, data);
    if (!bench) continue;
    try {
      const t = await time(bench.run, timing);
      results.push({ workload, impl: impl.name, ...t });
      const gf = workload.flops / (t.median * 1e6);
      console.error(`  ${workload.id.padEnd(18)} ${impl.name.padEnd(16)} median ${fmtMs(t.median)} ms  (${fmtG(gf)} GFLOP/s)`);
    } finally {
      await bench.dispose?.();
    }
  }
}

const table = rows(results, impls.map((i) => i.name));
console.log(`\n${textTable(table)}\n`);

const flopNote = [
  'FLOPs count only the matrix products, a multiply-add as 2: forward = 2·T·B·G·(I + H) with',
  'G = 4H (LSTM) or 3H (GRU); forward + backward = 3 × forward (backward: dX, dh, dW_ih, dW_hh).',
  'Elementwise work and biases are not counted.',
].join(' ');

const outFile = opts.out ?? (filters.length ? null : DEFAULT_OUT);
if (outFile) {
  const md = [
    '# wasm-rnn engine benchmark',
    '',
    `- Date: ${env.date}`,
    `- Node: ${env.node}`,
    `- CPU: ${env.cpu} (${env.cores} logical CPUs)`,
    `- Platform: ${env.platform}`,
    `- Commit: ${env.commit}`,
    `- Timing: ${timing.warmup} warm-up runs, then ≥ ${timing.runs} timed runs and ≥ ${timing.minTimeMs} ms per row; performance.now() around one public-API call (forward, or forward + backward), copies in and out included.`,
    filters.length ? `- Filter: ${filters.join(', ')}` : null,
    '',
    markdownTable(table),
    '',
    flopNote,
    '',
    'Medians on a noisy (shared, 2-core) machine move by about 1.3× between runs: compare ratios within one run, not absolute figures across runs.',
    '',
  ].filter((l) => l !== null).join('\n');
  mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  writeFileSync(outFile, md);
  const rel = path.relative(process.cwd(), path.resolve(outFile));
  console.log(`wrote ${rel.startsWith('..') ? path.resolve(outFile) : rel}`);
} else {
  console.log('(filtered run: results file not written; pass --out FILE to write one)');
}
if (!Number.isFinite(sink)) console.error('bench: warning, a run returned a non-finite value');
