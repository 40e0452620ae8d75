// wasm-rnn against its peers, side by side in one run (issue 4): `node bench/run.mjs --peers`.
//
// For every workload (W1–W5) the shared weights and inputs are generated once (seeded,
// bench/lib/weights.mjs) and handed to every implementation, each converting them to its own
// layout. Before anything is timed, each implementation's output is checked against wasm-rnn's
// (and wasm-rnn's against a float64 reference); a difference above the tolerance aborts the run.
// Then the implementations are timed in turn with the same protocol, in `rounds` rounds (each
// round: every implementation set up, warmed up, timed for its share of the runs, disposed), so
// that a burst of load from other processes on this shared machine spreads over all of them
// instead of landing on one; the times of all rounds are pooled into one median and minimum.
// Results: bench/results/peers.md (tables) and bench/results/peers.svg (chart).
//
// An implementation (bench/peers/*.mjs) is
//   { name, detail, version, load() → { ok } | { ok: false, reason },
//     setup(workload, shared) → { skip: reason }
//                              | { output() → result, run() | time(timing) → { times }, dispose() } }
// where result is { y: Float32Array (T, B, H) time-major } for inference and
// { losses: [L0 … Ln], grads: { PyTorch name → Float32Array } } for training.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  BENCH_DIR, environment, fmtMs, markdownTable, sinkIsFinite, summarize, textTable, time,
} from './lib/common.mjs';
import { makeShared } from './lib/weights.mjs';
import { gruReference, lstmReference, maxAbs, maxAbsDiff } from './lib/reference.mjs';
import { groupedBarChart, PALETTE } from './lib/svg.mjs';
import { buildAt } from './lib/snapshot.mjs';
import { measureMachine } from './lib/machine.mjs';
import wasmRnn, { relaxed as wasmRnnRelaxed, twoThreads as wasmRnnThreads, twoThreadsRelaxed as wasmRnnThreadsRelaxed } from './peers/wasm-rnn.mjs';
import { onnxruntimeNode, onnxruntimeWeb } from './peers/onnxruntime.mjs';
import { tfjsCpu, tfjsWasm } from './peers/tfjs.mjs';
import pytorch from './peers/torch.mjs';

export const DEFAULT_TIMING = { warmup: 5, warmupMinMs: 500, warmupMaxMs: 3000, runs: 10, minTimeMs: 2000, rounds: 3 };
const TOLERANCE = 1e-4;
const TOL = '1e-4';

const TRAIN = { lr: 1e-3, eps: 1e-8, checkSteps: 3 };
export const WORKLOADS = [
  { id: 'W1', kind: 'LSTM', I: 32, H: 128, T: 100, B: 1, task: 'infer', seed: 101 },
  { id: 'W2', kind: 'LSTM', I: 32, H: 128, T: 100, B: 32, task: 'infer', seed: 102 },
  { id: 'W3', kind: 'LSTM', I: 128, H: 512, T: 50, B: 1, task: 'infer', seed: 103 },
  { id: 'W4', kind: 'GRU', I: 32, H: 128, T: 100, B: 1, task: 'infer', seed: 104 },
  { id: 'W5', kind: 'LSTM', I: 32, H: 128, T: 50, B: 32, C: 64, task: 'train', seed: 105, ...TRAIN },
].map((w) => ({
  ...w,
  label: w.task === 'train'
    ? `${w.id} train step: ${w.kind}(${w.I}→${w.H}) + Linear(${w.C}) + softmax CE, T ${w.T}, B ${w.B}, Adam`
    : `${w.id} ${w.kind} ${w.I}→${w.H}, T ${w.T}, B ${w.B}, inference`,
  short: w.task === 'train' ? `train T${w.T} B${w.B}` : `${w.kind} ${w.I}→${w.H} T${w.T} B${w.B}`,
}));

export const IMPLEMENTATIONS = [wasmRnn, wasmRnnRelaxed, wasmRnnThreads, wasmRnnThreadsRelaxed, onnxruntimeWeb, onnxruntimeNode, tfjsWasm, tfjsCpu, pytorch];

/** The wasm-rnn configurations: which arithmetic peak and how many cores each one's floor gets. */
const CONFIGS = [
  { impl: wasmRnn, relaxed: false, threads: 1 },
  { impl: wasmRnnRelaxed, relaxed: true, threads: 1 },
  { impl: wasmRnnThreads, relaxed: false, threads: 2 },
  { impl: wasmRnnThreadsRelaxed, relaxed: true, threads: 2 },
];

/** The targets of the performance issue, checked on every run: wasm-rnn ≤ peer / factor. */
export const TARGETS = [
  { w: 'W1', text: 'W1 ≥ 2× faster than onnxruntime-web', peer: 'onnxruntime-web', factor: 2 },
  { w: 'W1', text: 'W1 faster than onnxruntime-node', peer: 'onnxruntime-node', factor: 1 },
  { w: 'W2', text: 'W2 ≥ 1.6× faster than onnxruntime-web on one thread', peer: 'onnxruntime-web', factor: 1.6, threads: 1 },
  { w: 'W2', text: 'W2 faster than onnxruntime-node with 2 threads', peer: 'onnxruntime-node', factor: 1, threads: 2 },
  { w: 'W3', text: 'W3 ≥ 1.3× faster than onnxruntime-web', peer: 'onnxruntime-web', factor: 1.3 },
  { w: 'W4', text: 'W4 ≥ 2× faster than onnxruntime-web', peer: 'onnxruntime-web', factor: 2 },
  { w: 'W5', text: 'W5 ≥ 20× faster than TF.js wasm', peer: 'tfjs-wasm', factor: 20 },
  { w: 'W5', text: 'W5 no slower than PyTorch on one thread', peer: 'pytorch', factor: 1, threads: 1 },
];

/**
 * The matrix-product FLOPs of one run of a workload (a multiply-add counts 2): inference, the
 * input projection of all T·B rows and the recurrent product of every step; training (W5, whose
 * backward skips ∂L/∂x), the LSTM forward and backward (dW_ih, dW_hh, dh) and the Linear layer's
 * forward, dW and dX.
 */
export function flopsOf(w) {
  const G = (w.kind === 'GRU' ? 3 : 4) * w.H, TB = w.T * w.B;
  if (w.task === 'train') return 2 * TB * G * (w.I + w.H) + 2 * TB * G * (w.I + 2 * w.H) + 6 * TB * w.H * w.C;
  return 2 * TB * G * (w.I + w.H);
}

/**
 * A lower bound on one run, ms, from the machine's measured limits (bench/lib/machine.mjs): every
 * matrix product at the f32x4 peak of the build (relaxed: with FMA) on `threads` cores, split
 * perfectly; at batch 1, each step also reads its share of W_hh (G·H floats) at the measured
 * read bandwidth of a working set that size, whichever takes longer. Gate math, loss,
 * optimizer, synchronisation and the JS layer count nothing, so no implementation can be faster
 * on these cores with 16-byte SIMD; null without a relaxed peak.
 */
export function floorMs(w, machine, { relaxed, threads }) {
  const peak = relaxed ? machine.peak.relaxed : machine.peak.plain;
  if (!peak) return null;
  const P = peak * 1e6 * threads; // FLOP per ms
  if (w.task === 'train' || w.B > 1) return flopsOf(w) / P;
  const G = (w.kind === 'GRU' ? 3 : 4) * w.H, bytes = (4 * G * w.H) / threads;
  const input = (2 * w.T * G * w.I) / P, step = Math.max((2 * G * w.H) / P, bytes / (machine.bandwidth(bytes) * 1e6));
  return input + w.T * step;
}

const NOT_RUN = {
  'brain.js': 'brain.js 2.0.0-beta.24 is not a peer for these workloads: its `LSTM` feeds the previous output back as the cell state (c_t = f ⊙ h_{t−1} + i ⊙ g; there is no separate c), its GRU is the reset-before variant with one bias, every model ends in its own output layer, and it runs one unbatched sequence at a time in plain JS. No PyTorch weights can reproduce a PyTorch LSTM/GRU there, so no output could be checked; it is left out (not installed).',
};

// ---------------------------------------------------------------------------------------------
// The check. Inference: y against wasm-rnn's y (and wasm-rnn's against a float64 reference),
// max |Δ| ≤ 1e-4. Training: the loss at the shared weights (|Δ| ≤ 1e-4), every gradient
// (max |Δ| ≤ 1e-4 · max |g|, relative to that tensor's largest gradient, since the gradients of
// a mean loss are ~1e-3), and the losses after each Adam step (|Δ| ≤ 1e-4; not for TF.js, whose
// single LSTM bias makes Adam take a different path after the first step).
// ---------------------------------------------------------------------------------------------
function referenceFor(w, s, variant) {
  if (w.kind === 'LSTM') return lstmReference(w, s.params, s.x);
  return gruReference(w, s.params, s.x, { resetAfter: variant !== 'gru-reset-before' });
}

function check(w, s, name, result, base, refs) {
  const lines = [];
  const fail = [];
  const cmp = (what, diff, tol, { info = false } = {}) => {
    lines.push(`${what} ${diff.toExponential(1)}${info ? ' (not compared)' : ''}`);
    if (!info && !(diff <= tol)) fail.push(`${what} = ${diff.toExponential(3)} > ${TOL}`);
  };
  if (w.task === 'infer') {
    const variant = result.variant ?? 'pytorch';
    refs[variant] ??= referenceFor(w, s, variant);
    if (variant === 'pytorch' && base) cmp('max abs Δy vs wasm-rnn', maxAbsDiff(result.y, base.y), TOLERANCE);
    cmp(`max abs Δy vs float64${variant === 'pytorch' ? '' : ` ${variant}`} reference`, maxAbsDiff(result.y, refs[variant]), TOLERANCE);
    if (variant !== 'pytorch' && base) cmp('max abs Δy vs wasm-rnn', maxAbsDiff(result.y, base.y), TOLERANCE, { info: true });
  } else if (base) {
    cmp('Δloss', Math.abs(result.losses[0] - base.losses[0]), TOLERANCE);
    let rel = 0;
    for (const [k, g] of Object.entries(base.grads)) rel = Math.max(rel, maxAbsDiff(result.grads[k], g) / maxAbs(g));
    cmp('grads max abs Δ / max abs g', rel, TOLERANCE);
    const after = Math.max(...result.losses.slice(1).map((l, i) => Math.abs(l - base.losses[i + 1])));
    cmp(`Δloss after ${w.checkSteps} Adam steps`, after, TOLERANCE, { info: Boolean(result.singleBias) });
  } else {
    lines.push(`loss ${result.losses[0].toFixed(6)} → ${result.losses.at(-1).toFixed(6)} after ${w.checkSteps} Adam steps`);
  }
  if (fail.length) {
    const msg = `bench: ${name} disagrees with wasm-rnn on ${w.id}: ${fail.join('; ')}`;
    console.error(`\n${'!'.repeat(msg.length)}\n${msg}\n${'!'.repeat(msg.length)}\n`);
    throw new Error(msg);
  }
  return lines.join(', ');
}

// ---------------------------------------------------------------------------------------------
// Running.
// ---------------------------------------------------------------------------------------------
export async function runPeers({ filters = [], implFilter = [], timing = DEFAULT_TIMING, out = null, wasmRnnRoot = null, at = null }) {
  // Where wasm-rnn comes from: this checkout's dist/ + build/ (default), another package root,
  // or a clean build of a git revision.
  let source = null;
  let snapshot = null;
  if (at) {
    snapshot = buildAt(at);
    wasmRnn.root = snapshot.root;
    wasmRnn.commit = snapshot.commit;
    source = `commit ${snapshot.commit}, built in a clean temporary copy (\`--at ${at}\`)`;
  } else if (wasmRnnRoot) {
    wasmRnn.root = path.resolve(wasmRnnRoot);
    source = `dist/ and build/ from ${wasmRnn.root} (\`--wasm-rnn\`)`;
  }
  try {
    await runAll({ filters, implFilter, timing, out, source });
  } finally {
    snapshot?.cleanup();
  }
}

async function runAll({ filters, implFilter, timing, out, source }) {
  const workloads = filters.length ? WORKLOADS.filter((w) => filters.some((f) => w.id.toLowerCase() === f.toLowerCase() || w.label.toLowerCase().includes(f.toLowerCase()))) : WORKLOADS;
  if (!workloads.length) throw new Error(`no workload matches ${filters.join(', ')} (ids: ${WORKLOADS.map((w) => w.id).join(', ')})`);
  const wanted = IMPLEMENTATIONS.filter((i) => i === wasmRnn || !implFilter.length || implFilter.some((f) => i.name.includes(f)));

  const impls = [];
  const unavailable = [];
  for (const impl of wanted) {
    const r = await impl.load();
    if (r.ok) impls.push(impl);
    else {
      if (impl === wasmRnn) throw new Error(`wasm-rnn: ${r.reason}`);
      unavailable.push({ name: impl.name, reason: r.reason });
      console.error(`bench: ${impl.name} not available, skipped: ${r.reason}`);
    }
  }
  if (unavailable.some((u) => u.name !== 'pytorch')) {
    console.error('bench: install the JS peers with `npm --prefix bench ci` (see bench/README.md)');
  }

  // The machine's limits, for the floors (before anything else runs: no worker is spinning).
  let machine = null;
  try {
    machine = await measureMachine();
    console.error(`machine: f32x4 peak ${machine.peak.plain.toFixed(1)} GFLOP/s plain, ${machine.peak.relaxed ? `${machine.peak.relaxed.toFixed(1)} relaxed` : 'relaxed not measured (no relaxed SIMD here)'}; read bandwidth 256 KB ${machine.bandwidth(256 << 10).toFixed(0)} GB/s, 4 MB ${machine.bandwidth(4 << 20).toFixed(0)} GB/s`);
  } catch (err) {
    console.error(`bench: the machine probes failed, no floors: ${err.message}`);
  }

  const env = { ...environment(), loadStart: os.loadavg()[0] };
  console.log(`wasm-rnn vs peers — ${env.date}, Node ${env.node}, ${env.cpu} (${env.cores} logical CPUs)`);
  console.log(`${timing.rounds} rounds, each: warm-up ≥ ${timing.warmup} runs and ≥ ${timing.warmupMinMs} ms (stopping at ${timing.warmupMaxMs} ms), then ≥ ${Math.ceil(timing.runs / timing.rounds)} timed runs and ≥ ${Math.round(timing.minTimeMs / timing.rounds)} ms per implementation\n`);

  // Each round times ⌈runs / rounds⌉ runs and minTimeMs / rounds ms per implementation.
  const perRound = {
    ...timing,
    runs: Math.ceil(timing.runs / timing.rounds),
    minTimeMs: timing.minTimeMs / timing.rounds,
  };
  const results = new Map(); // `${w.id}/${impl}` → { median, min, n } | { skip }
  const checks = new Map();
  for (const w of workloads) {
    const s = makeShared(w, w.seed);
    const refs = {};
    let base = null;
    const times = new Map(impls.map((impl) => [impl.name, []]));
    console.error(`${w.label}`);
    for (let round = 0; round < timing.rounds; round++) {
      for (const impl of impls) {
        const key = `${w.id}/${impl.name}`;
        if (results.get(key)?.skip) continue;
        const bench = await impl.setup(w, s);
        if (bench.skip) {
          results.set(key, { skip: bench.skip });
          console.error(`  ${impl.name.padEnd(17)} skipped: ${bench.skip}`);
          continue;
        }
        try {
          if (round === 0) {
            const result = await bench.output();
            checks.set(key, check(w, s, impl.name, result, base, refs));
            if (impl === wasmRnn) base = result;
          }
          const t = bench.time ? await bench.time(perRound) : await time(bench.run, perRound);
          times.get(impl.name).push(...t.times);
          console.error(`  ${impl.name.padEnd(17)} round ${round + 1}/${timing.rounds}: median ${fmtMs(t.median).padStart(8)} ms  min ${fmtMs(t.min).padStart(8)} ms  (${t.n} runs)`);
        } finally {
          await bench.dispose?.();
        }
      }
    }
    for (const impl of impls) {
      const key = `${w.id}/${impl.name}`;
      if (results.get(key)?.skip) continue;
      const t = summarize(times.get(impl.name));
      results.set(key, t);
      const ratio = impl === wasmRnn ? '' : `  ${(t.median / results.get(`${w.id}/wasm-rnn`).median).toFixed(2)}× wasm-rnn`;
      console.error(`  ${impl.name.padEnd(17)} all rounds: median ${fmtMs(t.median).padStart(8)} ms  min ${fmtMs(t.min).padStart(8)} ms  (${t.n} runs)${ratio}  [${checks.get(key)}]`);
    }
  }

  env.load = `${env.loadStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end`;
  const report = { env, timing, workloads, impls, unavailable, results, checks, source, machine };
  const tables = makeTables(report);
  const short = makeTables(report, { short: true });
  console.log(`\n${textTable(short.matrix, 1)}\n`);
  if (short.relaxedMatrix) console.log(`relaxed-SIMD build against the peers:\n${textTable(short.relaxedMatrix, 1)}\n`);
  if (tables.floors) console.log(`floors (ms) and wasm-rnn against them:\n${textTable(short.floors, 1)}\n\ntargets:\n${textTable(tables.targets, 1)}\n`);
  console.log('ms = median (min); ratio = peer median / wasm-rnn median (> 1: wasm-rnn is faster)\n');

  const outDir = out ?? (filters.length || implFilter.length ? null : path.join(BENCH_DIR, 'results'));
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'peers.md'), markdown(report, tables));
    writeFileSync(path.join(outDir, 'peers.svg'), chart(report));
    const rel = (f) => {
      const r = path.relative(process.cwd(), path.resolve(outDir, f));
      return r.startsWith('..') ? path.resolve(outDir, f) : r;
    };
    console.log(`wrote ${rel('peers.md')}, ${rel('peers.svg')}`);
  } else {
    console.log('(filtered run: results not written; pass --out DIR to write peers.md and peers.svg there)');
  }
  if (!sinkIsFinite()) console.error('bench: warning, a run returned a non-finite value');
}

// ---------------------------------------------------------------------------------------------
// Reporting.
// ---------------------------------------------------------------------------------------------
const ratioOf = (r, base) => (r && base && !r.skip && !base.skip ? r.median / base.median : null);
const fmtRatio = (x) => (x >= 10 ? x.toFixed(0) : x >= 2 ? x.toFixed(1) : x.toFixed(2));

function makeTables({ workloads, impls, results, checks, machine }, { short = false } = {}) {
  const peers = impls.filter((i) => i !== wasmRnn);
  const others = impls.filter((i) => !i.name.startsWith('wasm-rnn'));
  // The peers against the relaxed-SIMD build, when it ran: what browsers and edge runtimes get.
  const relaxedMatrix = impls.includes(wasmRnnRelaxed) ? {
    head: ['workload', 'wasm-rnn relaxed ms', ...others.map((p) => `× ${p.name}`)],
    body: workloads.map((w) => {
      const base = results.get(`${w.id}/${wasmRnnRelaxed.name}`);
      if (!base || base.skip) return [short ? `${w.id} ${w.short}` : w.label, '—', ...others.map(() => '—')];
      return [
        short ? `${w.id} ${w.short}` : w.label, `${fmtMs(base.median)} (${fmtMs(base.min)})`,
        ...others.map((p) => {
          const r = results.get(`${w.id}/${p.name}`);
          return !r || r.skip ? '—' : `${fmtRatio(ratioOf(r, base))}×`;
        }),
      ];
    }),
  } : null;
  const matrix = {
    head: ['workload', 'wasm-rnn ms', ...peers.flatMap((p) => [`${p.name} ms`, '×'])],
    body: workloads.map((w) => {
      const base = results.get(`${w.id}/wasm-rnn`);
      return [
        short ? `${w.id} ${w.short}` : w.label, `${fmtMs(base.median)} (${fmtMs(base.min)})`,
        ...peers.flatMap((p) => {
          const r = results.get(`${w.id}/${p.name}`);
          if (!r || r.skip) return ['—', '—'];
          return [`${fmtMs(r.median)} (${fmtMs(r.min)})`, `${fmtRatio(ratioOf(r, base))}×`];
        }),
      ];
    }),
  };
  const detail = {
    head: ['workload', 'implementation', 'runs', 'median ms', 'min ms', 'median ratio', 'min ratio', 'check (before timing)'],
    align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
    body: workloads.flatMap((w) => {
      const base = results.get(`${w.id}/wasm-rnn`);
      return impls.map((impl) => {
        const r = results.get(`${w.id}/${impl.name}`);
        if (!r || r.skip) return [w.id, impl.name, '—', '—', '—', '—', '—', r?.skip ? `skipped: ${r.skip}` : 'not run'];
        return [
          w.id, impl.name, String(r.n), fmtMs(r.median), fmtMs(r.min),
          `${fmtRatio(r.median / base.median)}×`, `${fmtRatio(r.min / base.min)}×`, checks.get(`${w.id}/${impl.name}`) ?? '',
        ];
      });
    }),
  };
  return { matrix, relaxedMatrix, detail, ...(machine ? floorTables({ workloads, impls, results, machine }, short) : {}) };
}

/**
 * floors: per workload, the FLOPs, the floor of each wasm-rnn configuration and the share of it
 * reached (floor / median). targets: each target of the performance issue, what it needs and
 * each allowed configuration's median against it, with the verdict — met; not met but above the
 * floor (reachable in principle); or asking for less than the floor (out of reach here).
 */
function floorTables({ workloads, impls, results, machine }, short) {
  // Every configuration with a measured peak, whether it ran or not: a floor needs no run, and a
  // verdict of "out of reach" must hold for all of them.
  const configs = CONFIGS.filter((c) => !c.relaxed || machine.peak.relaxed);
  const cfgName = (c) => c.impl.name.replace(/^wasm-rnn ?/, '') || 'plain';
  const floors = {
    head: ['workload', 'matrix GFLOP', ...configs.map((c) => `floor ${cfgName(c)} ms`), ...configs.map((c) => `${cfgName(c)} at`)],
    body: workloads.map((w) => [
      short ? `${w.id} ${w.short}` : w.label, (flopsOf(w) / 1e9).toFixed(4),
      ...configs.map((c) => { const f = floorMs(w, machine, c); return f === null ? '—' : fmtMs(f); }),
      ...configs.map((c) => {
        const f = floorMs(w, machine, c), r = results.get(`${w.id}/${c.impl.name}`);
        return f === null || !r || r.skip ? '—' : `${Math.round((100 * f) / r.median)}%`;
      }),
    ]),
  };
  const targets = {
    head: ['target', 'needs ≤ ms', ...configs.map((c) => `${cfgName(c)} ms (floor)`), 'verdict'],
    align: ['l', 'r', ...configs.map(() => 'r'), 'l'],
    body: TARGETS.filter((t) => workloads.some((w) => w.id === t.w)).map((t) => {
      const w = workloads.find((x) => x.id === t.w), peer = results.get(`${t.w}/${t.peer}`);
      if (!peer || peer.skip) return [t.text, '—', ...configs.map(() => '—'), `${t.peer} did not run`];
      const need = peer.median / t.factor;
      let met = false, reachable = false;
      const cells = configs.map((c) => {
        if (t.threads && t.threads !== c.threads) return '—';
        const r = results.get(`${t.w}/${c.impl.name}`), f = floorMs(w, machine, c);
        if (f !== null && f <= need) reachable = true;
        if (!r || r.skip) return `not run (${f === null ? '—' : fmtMs(f)})`;
        if (r.median <= need) met = true;
        return `${r.median <= need ? '✓' : '✗'} ${fmtMs(r.median)} (${f === null ? '—' : fmtMs(f)})`;
      });
      const verdict = met ? 'met' : reachable ? 'not met; above the floor (reachable in principle)' : 'not met; needs less than the floor of every configuration: out of reach with f32x4 on these cores';
      return [t.text, fmtMs(need), ...cells, verdict];
    }),
  };
  return { floors, targets };
}

function gitDirty() {
  try {
    const s = execFileSync('git', ['status', '--porcelain', '--', 'src', 'assembly'], { cwd: path.join(BENCH_DIR, '..'), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return s ? ' (with uncommitted changes in src/ or assembly/)' : '';
  } catch {
    return '';
  }
}

function markdown({ env, timing, workloads, impls, unavailable, results, source, machine }, tables) {
  const versions = impls.map((i) => `- ${i.name} ${i.version ?? '?'} — ${i.detail}`);
  const skipped = [];
  for (const w of workloads) {
    for (const i of impls) {
      const r = results.get(`${w.id}/${i.name}`);
      if (r?.skip) skipped.push(`${w.id} on ${i.name}: ${r.skip}.`);
    }
  }
  const skipNotes = skipped.map((s) => `- Skipped ${s}`);
  const gru = workloads.some((w) => w.kind === 'GRU') && impls.some((i) => i.name.startsWith('tfjs'));
  const train = workloads.some((w) => w.task === 'train');
  return [
    '# wasm-rnn against its peers',
    '',
    'Generated by `node bench/run.mjs --peers` (bench/peers.mjs). Same shapes and the same weights',
    'everywhere, outputs checked before timing, one thread each except the `2 threads` columns.',
    '',
    `- Date: ${env.date}`,
    `- Node: ${env.node} (V8 ${env.v8})`,
    `- CPU: ${env.cpu} (${env.cores} logical CPUs)`,
    `- Platform: ${env.platform}; load average (1 min): ${env.load} (other processes share these ${env.cores} CPUs)`,
    source
      ? `- wasm-rnn: ${source}; the bench ran from a checkout at ${env.commit}`
      : `- Commit: ${env.commit}${gitDirty()} (wasm-rnn from this checkout's dist/ and build/)`,
    `- Timing: ${timing.rounds} rounds; in each, every implementation in turn is set up, warmed up (≥ ${timing.warmup} runs and ≥ ${timing.warmupMinMs} ms, but stopping at ${timing.warmupMaxMs} ms after at least one run) and timed for ≥ ${Math.ceil(timing.runs / timing.rounds)} runs and until ≥ ${Math.round(timing.minTimeMs / timing.rounds)} ms were spent (at most 2000 runs); median and minimum over the runs of all rounds (so ≥ ${timing.rounds * Math.ceil(timing.runs / timing.rounds)} runs per cell). One run is one call through each library's public API, from a Float32Array in to a Float32Array out (copies across the JS/WASM or JS/native boundary included); PyTorch times itself in Python (time.perf_counter, same protocol).`,
    '',
    'Implementations:',
    '',
    ...versions,
    ...unavailable.map((u) => `- ${u.name} — not run: ${u.reason}`),
    '',
    '## Median (minimum) ms per run, and × = peer median / wasm-rnn median',
    '',
    '× > 1: wasm-rnn is faster; — : not run (see the notes).',
    '',
    markdownTable(tables.matrix, 1),
    '',
    ...(tables.relaxedMatrix ? [
      '## The relaxed-SIMD build against the peers',
      '',
      'What Chromium, Deno, Bun and workerd load by default (Node 20 with `--experimental-wasm-relaxed-simd`). Median (minimum) ms, and × = peer median / wasm-rnn relaxed median.',
      '',
      markdownTable(tables.relaxedMatrix, 1),
      '',
    ] : []),
    ...(tables.floors ? [
      '## Floors: how fast these cores allow',
      '',
      `Measured in this run (bench/lib/machine.mjs, bench/peak/peak.ts): one core's f32x4 peak ${machine.peak.plain.toFixed(1)} GFLOP/s with multiply + add${machine.peak.relaxed ? `, ${machine.peak.relaxed.toFixed(1)} GFLOP/s with relaxed SIMD's fused multiply-add` : ''} (the best of three probes: dependent chains, independent products, the library's GEMM tile on L1-resident data); read bandwidth with 16-byte loads ${[[64 << 10, '64 KB'], [256 << 10, '256 KB'], [2 << 20, '2 MB'], [4 << 20, '4 MB']].map(([b, l]) => `${l} ${machine.bandwidth(b).toFixed(0)}`).join(', ')} GB/s.`,
      '',
      'The floor of a run is a lower bound: every matrix product at that peak, split perfectly over the cores, and at batch 1 each step reading its share of W_hh at the bandwidth of a working set that size, whichever takes longer; gate math, loss, optimizer, synchronisation and JS count nothing. "at" = floor / wasm-rnn median.',
      '',
      markdownTable(tables.floors, 1),
      '',
      '## The targets of the performance issue',
      '',
      'What each target needs (peer median / factor), each allowed wasm-rnn configuration\'s median against it (✓ met, ✗ not) with its floor in parentheses, and the verdict. "Out of reach" means the target asks for less time than the floor of every configuration it allows.',
      '',
      markdownTable(tables.targets, 1),
      '',
    ] : []),
    '## Every cell, with its check',
    '',
    markdownTable(tables.detail, 2),
    '',
    '## Notes',
    '',
    '- Weights: one seeded set per workload (PyTorch\'s default U(−1/√H, 1/√H)), loaded into wasm-rnn with `loadStateDict` under PyTorch\'s names and converted to each peer\'s layout (ONNX gate order i,o,f,c / z,r,h with `linear_before_reset = 1`; TF.js kernels transposed to (in, G·H) with one bias b_ih + b_hh). The ONNX models (one LSTM / GRU node, W/R/B initializers, opset 14) are written by the bench itself (bench/lib/onnx.mjs, a hand-written protobuf encoder), not downloaded.',
    `- Check: inference outputs y (T, B, H) must agree with wasm-rnn's within ${TOL} (max abs difference), and wasm-rnn's with a float64 reference.${train ? ` Training: the loss at the shared weights within ${TOL}, every gradient within ${TOL} × its tensor's largest gradient (the gradients of a mean loss are ~1e-3), and the losses after 3 Adam steps (lr ${TRAIN.lr}, eps ${TRAIN.eps}) within ${TOL}.` : ''} A disagreement aborts the run before anything is timed.`,
    ...(gru ? ['- TF.js GRU (W4): TF.js implements only Keras\' `reset_after = false` GRU, n = tanh(W_h x + b_h + U_h (r ⊙ h)), not PyTorch\'s n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)); `resetAfter: true` throws. It runs the same weights and the same FLOPs but a different function, so its output is checked against a float64 reference of that variant (the difference from wasm-rnn is listed, not compared).'] : []),
    ...(train && impls.some((i) => i.name.startsWith('tfjs')) ? ['- TF.js training (W5): the LSTM layer has one bias where PyTorch has two (b_ih, b_hh). The loss and the gradients agree; after an Adam step the two parametrisations move differently (PyTorch moves the sum b_ih + b_hh by two steps), so the losses after the steps are listed, not compared. TF.js runs in production mode (`tf.enableProdMode()`).'] : []),
    ...skipNotes,
    `- ${NOT_RUN['brain.js']}`,
    '- Noise: a shared VM, where medians move by about 1.3× between runs. The rounds spread bursts of load over all implementations; still compare the ratios within this table rather than absolute figures across runs.',
    '',
    '![chart](peers.svg)',
    '',
  ].join('\n');
}

function chart({ env, workloads, impls, results }) {
  return groupedBarChart({
    title: 'wasm-rnn vs peers — median time per run, one thread unless named (lower is better, log scale)',
    subtitle: `${env.date.slice(0, 10)} · wasm-rnn @ ${wasmRnn.commit ?? env.commit} · Node ${env.node} · ${env.cpu} · same weights, outputs checked before timing`,
    footnote: workloads.some((w) => w.kind === 'GRU') && impls.some((i) => i.name.startsWith('tfjs'))
      ? 'TF.js has only the Keras reset-before GRU (W4): same weights and matrix work, a different function; details in peers.md.'
      : null,
    yLabel: 'ms per run (log scale)',
    series: impls.map((i, k) => ({ name: `${i.name} ${i.version ?? ''}`.trim(), color: PALETTE[k % PALETTE.length] })),
    groups: workloads.map((w) => ({
      label: w.id,
      sublabel: w.short,
      values: impls.map((i) => {
        const r = results.get(`${w.id}/${i.name}`);
        return r && !r.skip ? r.median : null;
      }),
    })),
    format: (v) => (v >= 1000 ? `${Math.round(v).toLocaleString('en-US')}` : v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(2)),
  });
}
