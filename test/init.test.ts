// Initialisers: the properties each one promises, checked on the parameters it wrote.
import { beforeAll, describe, expect, it } from 'vitest';
import { LSTM, RNN, GRU } from '../src/index.js';
import { forgetBias, identity, orthogonal, orthogonalMatrix, xavierUniform } from '../src/nn/init.js';
import { Rng } from '../src/random.js';
import { engine } from './helpers/engine.js';

beforeAll(async () => { await engine(); });

describe('initialisers', () => {
  it('orthogonal: QᵀQ = I for tall, wide and square matrices, seeded', () => {
    for (const [r, c] of [[13, 5], [5, 13], [37, 37], [1, 3]]) {
      const q = orthogonalMatrix(r, c, new Rng(r * 100 + c));
      const k = Math.min(r, c), tall = r >= c;
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        let dot = 0;
        for (let t = 0; t < Math.max(r, c); t++) dot += tall ? q[t * c + i] * q[t * c + j] : q[i * c + t] * q[j * c + t];
        expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('orthogonal per gate block on an LSTM weight_hh', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 13, seed: 1 });
    orthogonal(m, /^weight_hh/, { blocks: 4, seed: 2 });
    const w = m.stateDict().weight_hh_l0.data;
    for (let g = 0; g < 4; g++) for (let i = 0; i < 13; i++) for (let j = 0; j < 13; j++) {
      let dot = 0;
      for (let t = 0; t < 13; t++) dot += w[(g * 13 + i) * 13 + t] * w[(g * 13 + j) * 13 + t];
      expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-5);
    }
    const again = new LSTM({ inputSize: 3, hiddenSize: 13, seed: 1 });
    orthogonal(again, /^weight_hh/, { blocks: 4, seed: 2 });
    expect([...again.stateDict().weight_hh_l0.data]).toEqual([...w]);
  });

  it('xavier uniform stays within ±gain·√(6/(fanIn+fanOut)) and fills it', () => {
    const m = new GRU({ inputSize: 5, hiddenSize: 13, seed: 3 });
    xavierUniform(m, 'weight_ih_l0', { gain: 2, seed: 4 });
    const w = m.stateDict().weight_ih_l0.data, a = 2 * Math.sqrt(6 / (39 + 5));
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(a);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * a);
  });

  it('identity for an IRNN and forget-gate bias 1 for an LSTM', () => {
    const r = new RNN({ inputSize: 2, hiddenSize: 5, nonlinearity: 'relu', seed: 5 });
    identity(r, /^weight_hh/);
    const w = r.stateDict().weight_hh_l0.data;
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(w[i * 5 + j]).toBe(i === j ? 1 : 0);
    const m = new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, seed: 6 });
    const before = m.stateDict();
    forgetBias(m, 1);
    const sd = m.stateDict();
    for (const k of ['bias_ih_l0', 'bias_ih_l1_reverse']) {
      expect([...sd[k].data.subarray(3, 6)]).toEqual([1, 1, 1]);
      expect([...sd[k].data.subarray(0, 3)]).toEqual([...before[k].data.subarray(0, 3)]);
      expect([...sd[k.replace('ih', 'hh')].data.subarray(3, 6)]).toEqual([0, 0, 0]);
    }
    expect(() => identity(m, 'nope')).toThrow(/no parameter matches/);
    // Only LSTM biases have a forget gate: a GRU whose bias size divides by 4 is refused, untouched.
    const gru = new GRU({ inputSize: 2, hiddenSize: 4, seed: 7 });
    const gb = gru.stateDict().bias_ih_l0.data;
    expect(() => forgetBias(gru)).toThrow(/not the bias of an LSTM layer/);
    expect([...gru.stateDict().bias_ih_l0.data]).toEqual([...gb]);
  });
});
