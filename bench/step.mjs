// Streaming step() overhead: time per call of LSTM.step() against the WASM kernel it runs
// (lstm_seq_forward with T = 1, called directly with the same buffers), so the difference is
// what the TypeScript layer adds per step (input checks, copies in and out, the state handling).
// Then large layers on one thread and on a 2-thread engine, where step() splits every step's
// gate rows across the threads (from 500K multiply-adds per layer step: splitTuning in src/nn/recurrent.ts).
// Usage: npm run build && node bench/step.mjs
import { readFileSync } from 'node:fs';
import { createEngine, init, LSTM, GRU, RNN } from '../dist/index.js';

const e = await init();
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
function time(fn, reps) {
  for (let i = 0; i < 2000; i++) fn();
  const per = [];
  for (let r = 0; r < 31; r++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) fn();
    per.push(((performance.now() - t) / reps) * 1000);
  }
  return median(per);
}

const rows = [];
for (const [I, H] of [[1, 4], [32, 128]]) {
  const m = new LSTM({ inputSize: I, hiddenSize: H, seed: 1 });
  m.resetState(1);
  const x = new Float32Array(I).fill(0.1), out = new Float32Array(H);
  const stepUs = time(() => m.step(x, out), 2000);
  // The same kernel call step() makes, with the model's own buffers (private fields, read for the bench).
  const k = e.kernels, a = m.stepArena, pk = m.packed, p = m.params;
  const h = a.at('h'), c = a.at('c');
  const kernelUs = time(() => k.lstm_seq_forward(1, 1, I, H, 0, 0, a.at('x'), I, pk.at('weight_ih_l0'), pk.at('weight_hh_l0'),
    p.addr('bias_ih_l0'), p.addr('bias_hh_l0'), 0, h, c, a.at('o0'), H, h, c, a.at('g'), a.at('cs'), 0, 0), 2000);
  rows.push({ model: `LSTM(${I}→${H})`, stepUs, kernelUs, overheadUs: stepUs - kernelUs });
  m.dispose();
}
console.log('| model | step() µs | kernel µs | overhead µs |\n| --- | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.model} | ${r.stepUs.toFixed(2)} | ${r.kernelUs.toFixed(2)} | ${r.overheadUs.toFixed(2)} |`);

// Large layers: one thread against two (the threads build, so the 2-thread figure is the split).
const two = await createEngine(readFileSync(new URL('../build/wasm-rnn.threads.wasm', import.meta.url)), { threads: 2 });
const large = [];
/** Median µs of single steps taken one every 2 ms (a streamed input: the worker has gone to sleep). */
function spaced(fn) {
  for (let i = 0; i < 200; i++) fn();
  const per = [];
  for (let i = 0; i < 150; i++) {
    const until = performance.now() + 2;
    while (performance.now() < until);
    const t = performance.now();
    fn();
    per.push((performance.now() - t) * 1000);
  }
  return median(per);
}
for (const [Kind, I, H, L] of [[LSTM, 128, 512, 1], [LSTM, 64, 256, 2], [GRU, 128, 512, 1], [RNN, 128, 1024, 1]]) {
  const us = [e, two].map((engine) => {
    const m = new Kind({ inputSize: I, hiddenSize: H, numLayers: L, seed: 1, engine });
    m.resetState(1);
    const x = new Float32Array(I).fill(0.1), out = new Float32Array(H);
    const t = [time(() => m.step(x, out), 100), spaced(() => m.step(x, out))];
    m.dispose();
    return t;
  });
  large.push({ model: `${Kind.name}(${I}→${H})${L > 1 ? ` × ${L} layers` : ''}`, one: us[0], two: us[1] });
}
two.dispose();
console.log('\n| model, batch 1 | back to back: 1 thread µs | 2 threads µs | one every 2 ms: 1 thread µs | 2 threads µs |\n| --- | ---: | ---: | ---: | ---: |');
for (const r of large) console.log(`| ${r.model} | ${r.one[0].toFixed(1)} | ${r.two[0].toFixed(1)} | ${r.one[1].toFixed(1)} | ${r.two[1].toFixed(1)} |`);
