// wasm-rnn engine benchmark, and (with --peers) the side-by-side comparison with its peers.
//
//   npm run build && node bench/run.mjs [filter...] [--warmup N] [--runs N] [--min-time MS] [--out FILE]
//   node bench/run.mjs --peers [W1 W3 …] [--impl NAME …] [--rounds N] [--warmup N] [--runs N] [--min-time MS]
//                              [--out DIR] [--at REV | --wasm-rnn ROOT]
//
// Without --peers: every (workload × implementation) pair is timed with performance.now():
// `warmup` untimed runs, then at least `runs` timed runs (more, up to MAX_RUNS, until `min-time`
// ms have been spent timing), reporting the median and the minimum. GFLOP/s is
// flops(workload) / median. Results: bench/results/engine.md.
//
// With --peers: bench/peers.mjs runs the issue-4 workloads W1–W5 on wasm-rnn and on every peer
// installed from bench/package.json (onnxruntime-web, onnxruntime-node, TF.js wasm / cpu) plus
// PyTorch through /usr/bin/python3 when it imports; the same weights everywhere, outputs
// checked before timing. Results: bench/results/peers.md and peers.svg.
//
// Layout of the engine suite:
//   WORKLOADS        what to compute: model kind, sizes, pass (fwd | fwd+bwd), FLOP count.
//   IMPLEMENTATIONS  who computes it: { name, load(), setup(workload, data) → { run, dispose } }.
// The inputs (x, dOutput) come from a seeded PRNG, so every implementation gets the same bytes in
// every run.
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  BENCH_DIR, MAX_RUNS, environment, fmtG, fmtMs, intOption, markdownTable, mulberry32,
  sinkIsFinite, textTable, time, uniformArray,
} from './lib/common.mjs';

const HERE = BENCH_DIR;
const DEFAULT_OUT = path.join(HERE, 'results', 'engine.md');

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
// Deterministic data: mulberry32, uniform in [-1, 1) (bench/lib/common.mjs). Seeded per model, so
// fwd and fwd+bwd (and every implementation) see the same x and dOutput.
// ---------------------------------------------------------------------------------------------
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
  // The peers (onnxruntime, TF.js, PyTorch) run in the --peers suite: bench/peers.mjs.
];

// ---------------------------------------------------------------------------------------------
// Reporting.
// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
// Main.
// ---------------------------------------------------------------------------------------------
const { values: opts, positionals: filters } = parseArgs({
  allowPositionals: true,
  options: {
    peers: { type: 'boolean', default: false },
    impl: { type: 'string', multiple: true, default: [] },
    'wasm-rnn': { type: 'string' },
    at: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    runs: { type: 'string' },
    'min-time': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (opts.help) {
  console.log(`usage: node bench/run.mjs [filter...] [--warmup N] [--runs N] [--min-time MS] [--out FILE]
       node bench/run.mjs --peers [W1 … W5] [--impl NAME …] [--rounds N] [--warmup N] [--runs N] [--min-time MS]
                                   [--out DIR] [--at REV | --wasm-rnn ROOT]

  engine suite (default): wasm-rnn forward and forward+backward → bench/results/engine.md
  filter      keep workloads whose id contains any filter (ids: ${WORKLOADS.map((w) => w.id).join(', ')})
  --warmup    untimed runs before timing (default 5)
  --runs      minimum timed runs (default 15)
  --min-time  keep timing until this many ms are spent, up to ${MAX_RUNS} runs (default 1000)
  --out       Markdown results file (default bench/results/engine.md; a filtered run writes
              only when --out is given, so it never overwrites the full table with a partial one)

  --peers     the side-by-side comparison (issue 4): W1–W5 on wasm-rnn and every peer that is
              installed (npm --prefix bench ci) → bench/results/peers.md and peers.svg
  W1 … W5     only these workloads
  --impl      only these peers (substring of onnxruntime-web, onnxruntime-node, tfjs-wasm,
              tfjs-cpu, pytorch; repeatable); wasm-rnn always runs, as the baseline
  --rounds    time every implementation in N interleaved rounds, pooling the times (default 3)
  --warmup    per round: at least N warm-up runs and 0.5 s of them, stopping at 3 s (default 5)
  --runs      minimum timed runs over all rounds (default 10)
  --min-time  keep timing until this many ms are spent, over all rounds (default 2000)
  --out       directory for peers.md and peers.svg (default bench/results; a filtered run
              writes only when --out is given)
  --at REV    benchmark wasm-rnn as of git revision REV (e.g. HEAD): git archive into a
              temporary directory, npm run build there; a rebuild of the working tree during
              the run cannot change the code under test, and the report names the commit
  --wasm-rnn  package root to take wasm-rnn's dist/ and build/ from (default: this checkout)`);
  process.exit(0);
}

if (opts.peers) {
  const { runPeers, DEFAULT_TIMING } = await import('./peers.mjs');
  const timing = {
    ...DEFAULT_TIMING,
    ...(opts.warmup !== undefined && { warmup: intOption(opts.warmup, 'warmup') }),
    ...(opts.runs !== undefined && { runs: intOption(opts.runs, 'runs', 1) }),
    ...(opts['min-time'] !== undefined && { minTimeMs: intOption(opts['min-time'], 'min-time') }),
    ...(opts.rounds !== undefined && { rounds: intOption(opts.rounds, 'rounds', 1) }),
  };
  try {
    await runPeers({ filters, implFilter: opts.impl, timing, out: opts.out ?? null, wasmRnnRoot: opts['wasm-rnn'] ?? null, at: opts.at ?? null });
  } catch (err) {
    console.error(`bench: ${err.message}`);
    process.exit(1);
  }
  process.exit(0);
}

const timing = {
  warmup: intOption(opts.warmup ?? '5', 'warmup'),
  runs: intOption(opts.runs ?? '15', 'runs', 1),
  minTimeMs: intOption(opts['min-time'] ?? '1000', 'min-time'),
};

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
if (!sinkIsFinite()) console.error('bench: warning, a run returned a non-finite value');

// The peers are not part of this suite; say how to get them.
const peersInstalled = existsSync(path.join(HERE, 'node_modules', 'onnxruntime-web'));
console.log(peersInstalled
  ? 'peers: installed; `node bench/run.mjs --peers` runs the side-by-side comparison (W1–W5, several minutes)'
  : 'peers: skipped (not installed); `npm --prefix bench ci` installs them, then `node bench/run.mjs --peers`');
