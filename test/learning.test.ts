// Tests that prove learning (seeded, small enough for CI; they assert on the final metric):
// tasks that need memory, where a plain tanh RNN is shown to do worse than an LSTM.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, CrossEntropyLoss, Embedding, GRU, LSTM, Linear, MSELoss, RNN, SequenceHead, Sequential,
  addingProblem, charVocab, delayedRecall, grammarText,
} from '../src/index.js';
import { fit } from '../src/train/fit.js';
import { fitStream } from '../src/train/stream.js';
import { generate } from '../src/train/generate.js';
import { forgetBias } from '../src/nn/init.js';
import { engine } from './helpers/engine.js';

beforeAll(async () => { await engine(); });

function addingRun(kind: 'LSTM' | 'RNN', T: number): number {
  const H = 32;
  const cell = kind === 'LSTM' ? new LSTM({ inputSize: 2, hiddenSize: H, seed: 1 }) : new RNN({ inputSize: 2, hiddenSize: H, seed: 1 });
  const model = new Sequential([cell, new SequenceHead({ mode: 'last' }), new Linear({ inFeatures: H, outFeatures: 1, seed: 2 })]);
  const train = addingProblem(3000, T, 10), test = addingProblem(500, T, 11);
  const loss = new MSELoss();
  const opt = new Adam(model, { lr: 1e-2 });
  const h = fit(model, train, { loss, optimizer: opt, epochs: 15, batchSize: 50, clipNorm: 1, validation: test, targetKind: 'sequence', seed: 3,
    callbacks: { onEpoch: (r) => process.env.VERBOSE && console.log(kind, r.epoch, r.loss.toFixed(4), r.valLoss?.toFixed(4), r.seconds.toFixed(2)) } });
  model.dispose(); opt.dispose(); loss.dispose();
  return h.epochs[h.epochs.length - 1].valLoss!;
}

describe('learning', () => {
  it('adding problem, T = 50: an LSTM beats the 0.167 baseline by far; a tanh RNN does worse', () => {
    const lstm = addingRun('LSTM', 50), rnn = addingRun('RNN', 50);
    console.log(`adding problem T=50: LSTM test MSE ${lstm.toFixed(4)}, tanh RNN ${rnn.toFixed(4)} (baseline 0.167)`);
    expect(lstm).toBeLessThan(0.05);
    expect(rnn).toBeGreaterThan(2 * lstm);
    expect(rnn).toBeGreaterThan(0.1);
  });

  it('delayed recall over 25 steps: the first symbol, recalled at the end', () => {
    const cell = new LSTM({ inputSize: 6, hiddenSize: 32, seed: 4 });
    forgetBias(cell, 2); // remember by default (Gers et al. 2000): the signal must cross 25 steps
    const model = new Sequential([cell, new SequenceHead({ mode: 'last' }), new Linear({ inFeatures: 32, outFeatures: 4, seed: 5 })]);
    const loss = new CrossEntropyLoss(), opt = new Adam(model, { lr: 5e-3 });
    const h = fit(model, delayedRecall(1500, { symbols: 4, delay: 25, seed: 6 }), {
      loss, optimizer: opt, epochs: 8, batchSize: 50, clipNorm: 1, seed: 7,
      validation: delayedRecall(300, { symbols: 4, delay: 25, seed: 8 }) });
    const acc = h.epochs[h.epochs.length - 1].valAccuracy!;
    console.log(`delayed recall, delay 25, 4 symbols: LSTM accuracy by epoch ${h.epochs.map((e) => e.valAccuracy!.toFixed(2)).join(' ')} (chance 0.25)`);
    expect(h.epochs[0].valAccuracy!).toBeLessThan(0.95); // it had to learn it
    expect(acc).toBeGreaterThan(0.95);
    model.dispose(); opt.dispose(); loss.dispose();
  });

  it('character-level language model on generated text: bits per character fall below 1.5', () => {
    const text = grammarText(3000, 12);
    const { chars, ids } = charVocab(text);
    const V = chars.length, tokens = Array.from(text, (c) => ids.get(c)!);
    const model = new Sequential([
      new Embedding({ numEmbeddings: V, embeddingDim: 16, seed: 13 }),
      new LSTM({ inputSize: 16, hiddenSize: 64, seed: 14 }),
      new Linear({ inFeatures: 64, outFeatures: V, seed: 15 }),
    ]);
    const loss = new CrossEntropyLoss(), opt = new Adam(model, { lr: 1e-2 });
    const nats = fitStream(model, tokens, { loss, optimizer: opt, batchSize: 32, k1: 40, epochs: 4, clipNorm: 1 });
    // Held-out text from another seed, scored in one pass with the state carried through.
    const held = Array.from(grammarText(200, 99), (c) => ids.get(c)!);
    model.eval();
    const out = model.forward({ data: Float32Array.from(held.slice(0, -1)), shape: [held.length - 1, 1] } as never);
    const bpc = loss.forward(out, Int32Array.from(held.slice(1))) / Math.LN2;
    const unigram = entropyBits(tokens);
    const sample = generate(model, Array.from('the ', (c) => ids.get(c)!), { steps: 80, temperature: 0.5, seed: 1 }).map((i) => chars[i]).join('');
    console.log(`char LM: ${V} symbols, train nats/char by epoch ${nats.map((x) => x.toFixed(3)).join(' ')}; ` +
      `held-out ${bpc.toFixed(3)} bits/char (unigram entropy ${unigram.toFixed(2)}); sample: "the ${sample}"`);
    expect(bpc).toBeLessThan(1.5);
    expect(bpc).toBeLessThan(unigram / 2);
    model.dispose(); opt.dispose(); loss.dispose();
  });
});

function entropyBits(tokens: number[]): number {
  const counts = new Map<number, number>();
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / tokens.length) * Math.log2(c / tokens.length);
  return h;
}
