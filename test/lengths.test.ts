// Variable-length batches: a padded batch with `lengths` must give exactly what running each
// sequence alone gives: outputs, final states (each at its own end; the reverse direction
// starting there), input and state gradients, and summed parameter gradients. Padded steps
// produce zero output and no gradient, whatever dOutput holds there.
import { beforeAll, describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, Tensor, type Recurrent } from '../src/index.js';
import { engine, maxAbsDiff, randomArray } from './helpers/engine.js';

beforeAll(async () => { await engine(); });

function compare(make: () => Recurrent) {
  const m = make();
  const { inputSize: I, numLayers: L, hiddenSize: H, kind } = m.config;
  const D = m.numDirections, R = m.outputSize, W = D * R;
  const lengths = [5, 2, 7, 1], B = lengths.length, T = 7;
  const x = randomArray(T * B * I, 21);
  const h0 = randomArray(D * L * B * R, 22, -0.5, 0.5), c0 = randomArray(D * L * B * H, 23, -0.5, 0.5);
  const dOut = randomArray(T * B * W, 24), dhN = randomArray(D * L * B * R, 25), dcN = randomArray(D * L * B * H, 26);
  const lstm = kind === 'LSTM';
  const rows = (src: Float32Array, n: number, b: number, w: number) => { // (n, B, w) → row b as (n, 1, w)
    const out = new Float32Array(n * w);
    for (let t = 0; t < n; t++) out.set(src.subarray((t * B + b) * w, (t * B + b + 1) * w), t * w);
    return out;
  };
  const stateRow = (src: Float32Array, b: number, w: number) => rows(src, D * L, b, w);

  m.zeroGrad();
  const f = m.forward({ data: x, shape: [T, B, I] }, { h0: { data: h0, shape: [D * L, B, R] },
    ...(lstm ? { c0: { data: c0, shape: [D * L, B, H] } } : {}), lengths });
  const g = m.backward({ dOutput: { data: dOut, shape: [T, B, W] }, dhN: { data: dhN, shape: [D * L, B, R] },
    ...(lstm ? { dcN: { data: dcN, shape: [D * L, B, H] } } : {}) });
  const batched = m.gradients();

  m.zeroGrad();
  let worst = 0;
  const close = (a: Float32Array, b: Float32Array, what: string) => {
    const err = maxAbsDiff(a, b);
    worst = Math.max(worst, err);
    expect(err, what).toBeLessThan(2e-6);
  };
  for (let b = 0; b < B; b++) {
    const n = lengths[b];
    const fb = m.forward({ data: rows(x, n, b, I), shape: [n, 1, I] }, { h0: { data: stateRow(h0, b, R), shape: [D * L, 1, R] },
      ...(lstm ? { c0: { data: stateRow(c0, b, H), shape: [D * L, 1, H] } } : {}) });
    const gb = m.backward({ dOutput: { data: rows(dOut, n, b, W), shape: [n, 1, W] }, dhN: { data: stateRow(dhN, b, R), shape: [D * L, 1, R] },
      ...(lstm ? { dcN: { data: stateRow(dcN, b, H), shape: [D * L, 1, H] } } : {}) });
    const outB = rows(f.output.data, T, b, W), dxB = rows(g.dInput.data, T, b, I);
    close(outB.subarray(0, n * W), fb.output.data, `${kind} output of sequence ${b}`);
    expect(Math.max(0, ...outB.subarray(n * W).map(Math.abs)), 'padded output is zero').toBe(0);
    close(stateRow(f.hN.data, b, R), fb.hN.data, `${kind} hN of sequence ${b}`);
    if (lstm) close(stateRow(f.cN!.data, b, H), fb.cN!.data, `cN of sequence ${b}`);
    close(dxB.subarray(0, n * I), gb.dInput.data, `${kind} dInput of sequence ${b}`);
    expect(Math.max(0, ...dxB.subarray(n * I).map(Math.abs)), 'padded dInput is zero').toBe(0);
    close(stateRow(g.dh0.data, b, R), gb.dh0.data, `${kind} dh0 of sequence ${b}`);
    if (lstm) close(stateRow(g.dc0!.data, b, H), gb.dc0!.data, `dc0 of sequence ${b}`);
  }
  const summed = m.gradients();
  for (const k of Object.keys(batched)) close(batched[k].data, summed[k].data, `${kind} gradient ${k}`);
  console.log(`${kind} padded batch vs one by one: max abs difference ${worst.toExponential(2)}`);
  m.dispose();
}

describe('variable-length batches match running each sequence alone', () => {
  it('LSTM, bidirectional, 2 layers, projection', () =>
    compare(() => new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2, seed: 31 })));
  it('GRU, bidirectional, 2 layers', () => compare(() => new GRU({ inputSize: 3, hiddenSize: 13, numLayers: 2, bidirectional: true, seed: 32 })));
  it('RNN relu, bidirectional', () => compare(() => new RNN({ inputSize: 4, hiddenSize: 5, bidirectional: true, nonlinearity: 'relu', seed: 33 })));

  it('rejects lengths that do not fit the batch', () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 3 });
    const x = new Tensor(randomArray(12, 1), [3, 2, 2]);
    expect(() => m.forward(x, { lengths: [3] })).toThrow(/one per sequence \(2\)/);
    expect(() => m.forward(x, { lengths: [3, 4] })).toThrow(/lengths\[1\] = 4, expected an integer in 1…3/);
    expect(() => m.forward(x, { lengths: [0, 2] })).toThrow(/lengths\[0\] = 0/);
  });
});
