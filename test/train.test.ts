// The training machinery around the layers: batches, fit's guards and early stopping,
// checkpoints, stateful sampling, truncated BPTT, and memory that stays flat.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, BatchIterator, CrossEntropyLoss, Embedding, FormatError, GRU, LSTM, Linear, MSELoss, NumericError, ShapeError,
  RNN, SGD, SequenceHead, Sequential, Tensor, makeBatch, addingProblem, createEngine, type Engine, type Sample,
} from '../src/index.js';
import { loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';
import { fit, type LossFn } from '../src/train/fit.js';
import { generate, sampleLogits } from '../src/train/generate.js';
import { fitStream } from '../src/train/stream.js';
import { Rng } from '../src/random.js';
import { writeSafetensors, readSafetensors } from '../src/io/safetensors.js';
import { BUILD, engine, maxAbsDiff, randomArray } from './helpers/engine.js';

// The threads build matching the build under test (plain, or relaxed with WASM_RNN_BUILD=relaxed).
const THREADS = BUILD === 'wasm-rnn.relaxed.wasm' ? 'wasm-rnn.threads-relaxed.wasm' : 'wasm-rnn.threads.wasm';

let e: Engine;
beforeAll(async () => { e = await engine(); });

const classifier = (seed = 1) => new Sequential([
  new GRU({ inputSize: 3, hiddenSize: 13, seed }), new SequenceHead({ mode: 'last' }), new Linear({ inFeatures: 13, outFeatures: 3, seed: seed + 1 }),
]);
const samples = (n: number, seed: number): Sample[] => {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => {
    const T = 2 + Math.floor(r.next() * 6);
    const input = Array.from({ length: T }, () => [r.next(), r.next(), r.next()]);
    return { input, target: input[0][0] > 0.5 ? 1 : input[T - 1][1] > 0.5 ? 2 : 0 };
  });
};
const same = (a: Record<string, Tensor>, b: Record<string, Tensor>) => {
  expect(Object.keys(a)).toEqual(Object.keys(b));
  for (const k of Object.keys(a)) expect(Buffer.from(a[k].data.buffer).equals(Buffer.from(b[k].data.buffer)), k).toBe(true);
};

describe('batches', () => {
  it('pads time-major, keeps lengths, marks padded per-step targets as ignored', () => {
    const b = makeBatch([{ input: [1, 2, 3], target: [4, 5, 6] }, { input: [7], target: [8] }], 'step');
    expect([...b.x.shape]).toEqual([3, 2]);
    expect([...b.x.data]).toEqual([1, 7, 2, 0, 3, 0]);
    expect([...b.lengths]).toEqual([3, 1]);
    expect([...b.target.data]).toEqual([4, 8, 5, -100, 6, -100]);
    expect(() => makeBatch([{ input: [1, 2], target: [1, 2] }])).toThrow(/targetKind/);
    expect(() => makeBatch([{ input: [[1, 2]], target: 0 }, { input: [[1]], target: 1 }])).toThrow(/1 features, expected 2/);
    // Per-step target vectors of another length: refused (a longer one overwrote the next sample's).
    const vec = (target: number[][]) => ({ input: [1, 2], target });
    expect(() => makeBatch([vec([[1, 2], [3, 4]]), vec([[6, 7, 99], [8, 9]])])).toThrow(/sample 1, step 0: target has 3 values, expected 2/);
    expect(() => makeBatch([vec([[1, 2], [3, 4]]), vec([[6, 7], [8]])])).toThrow(/sample 1, step 1: target has 1 values, expected 2/);
    expect([...makeBatch([vec([[1, 2], [3, 4]]), vec([[6, 7], [8, 9]])]).target.data]).toEqual([1, 2, 6, 7, 3, 4, 8, 9]);
  });

  it('shuffles by seed: the same orders in every run, a new order each epoch', () => {
    const data = Array.from({ length: 10 }, (_, i) => ({ input: [i], target: i }));
    const order = (seed: number) => { const it = new BatchIterator(data, { batchSize: 10, shuffle: true, seed }); return [0, 1].map(() => [...[...it.epoch()][0].x.data]); };
    expect(order(3)).toEqual(order(3));
    expect(order(3)[0]).not.toEqual(order(3)[1]);
    expect(order(3)[0]).not.toEqual(order(4)[0]);
  });
});

describe('masked batches through a whole model', () => {
  it('give the same loss gradients as each sequence alone', () => {
    const model = classifier(5), loss = new CrossEntropyLoss({ reduction: 'sum' });
    const data = samples(5, 9);
    model.zeroGrad();
    const b = makeBatch(data);
    loss.forward(model.forward(b.x, { lengths: b.lengths }), b.target);
    model.backward(loss.backward());
    const batched = model.gradients();
    model.zeroGrad();
    for (const s of data) {
      const one = makeBatch([s]);
      loss.forward(model.forward(one.x, { lengths: one.lengths }), one.target);
      model.backward(loss.backward());
    }
    const alone = model.gradients();
    for (const k of Object.keys(batched)) expect(maxAbsDiff(batched[k].data, alone[k].data), k).toBeLessThan(2e-6);
    model.dispose(); loss.dispose();
  });
});

describe('Sequential keeps activations in engine memory between modules', () => {
  // Between two modules that both take Residents (Linear, the recurrent layers) the activation
  // and its gradient never pass through JS. Outputs, input gradients and parameter gradients
  // must be the bits of chaining the same modules by hand through public Tensors.
  const byHand = (mods: (LSTM | GRU | RNN | Linear | SequenceHead | Embedding)[], x: Tensor, dy: Tensor, lengths?: Int32Array) => {
    let y = x;
    for (const m of mods) {
      if (m instanceof Linear) y = m.forward(y);
      else if (m instanceof SequenceHead || m instanceof Embedding) y = m.forward(y, { training: true, ...(lengths ? { lengths } : {}) });
      else y = m.forward(y, lengths ? { lengths } : {}).output;
    }
    let g: Tensor | null = dy;
    for (let i = mods.length - 1; i >= 0; i--) {
      const m = mods[i];
      if (m instanceof Linear || m instanceof SequenceHead) g = m.backward(g!);
      else if (m instanceof Embedding) { m.backward(g!); g = null; }
      else g = m.backward({ dOutput: g! }).dInput;
    }
    return { y, dx: g };
  };
  const cases: [string, (en: Engine) => (LSTM | GRU | RNN | Linear | SequenceHead | Embedding)[], number, number, boolean][] = [
    ['LSTM → Linear', (en) => [new LSTM({ inputSize: 5, hiddenSize: 13, seed: 1, engine: en }), new Linear({ inFeatures: 13, outFeatures: 3, seed: 2, engine: en })], 5, 3, false],
    ['Linear → GRU (2 layers, bidirectional) → Linear, lengths', (en) => [new Linear({ inFeatures: 4, outFeatures: 6, activation: 'tanh', seed: 3, engine: en }),
      new GRU({ inputSize: 6, hiddenSize: 7, numLayers: 2, bidirectional: true, seed: 4, engine: en }), new Linear({ inFeatures: 14, outFeatures: 2, seed: 5, engine: en })], 4, 5, true],
    ['RNN → SequenceHead → Linear (a module without Residents in the middle)', (en) => [new RNN({ inputSize: 3, hiddenSize: 5, seed: 6, engine: en }),
      new SequenceHead({ mode: 'mean' }), new Linear({ inFeatures: 5, outFeatures: 2, seed: 7, engine: en })], 3, 4, true],
    ['LSTM (2 layers, bidirectional) → Linear (the top layer rows handed on where they lie)', (en) => [new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, seed: 11, engine: en }),
      new Linear({ inFeatures: 10, outFeatures: 2, seed: 12, engine: en })], 3, 4, false],
    ['LSTM → LSTM → Linear, batch of 9 (split across threads on a threaded engine)', (en) => [new LSTM({ inputSize: 2, hiddenSize: 6, seed: 8, engine: en }),
      new LSTM({ inputSize: 6, hiddenSize: 4, seed: 9, engine: en }), new Linear({ inFeatures: 4, outFeatures: 3, seed: 10, engine: en })], 2, 9, false],
  ];
  let two: Engine;
  beforeAll(async () => { two = await createEngine(readFileSync(new URL(`../build/${THREADS}`, import.meta.url)), { threads: 2 }); });
  afterAll(() => two?.dispose());
  for (const [name, make, F, B, masked] of cases) for (const threads of [1, 2]) it(`${name}, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
    const en = threads > 1 ? two : e, T = 6, a = make(en), b = make(en);
    const seq = new Sequential(b);
    const x = new Tensor(randomArray(T * B * F, 11), [T, B, F]);
    const lengths = masked ? Int32Array.from({ length: B }, (_, i) => 1 + ((i * 5) % T)) : undefined;
    const ys = seq.forward(x, lengths ? { lengths } : {});
    const dy = new Tensor(randomArray(ys.size, 12), ys.shape);
    const hand = byHand(a, x, dy, lengths);
    expect(Buffer.from(ys.data.buffer).equals(Buffer.from(hand.y.data.buffer)), 'output').toBe(true);
    const dx = seq.backward(dy);
    expect(Buffer.from(dx.data.buffer).equals(Buffer.from(hand.dx!.data.buffer)), 'dInput').toBe(true);
    a.forEach((m, i) => { if ('gradients' in m) same((b[i] as typeof m).gradients(), m.gradients()); });
    // Repeating allocates nothing more.
    const used = en.heap.bytesInUse;
    seq.forward(x, lengths ? { lengths } : {}); seq.backward(dy);
    expect(en.heap.bytesInUse).toBe(used);
    seq.dispose(); a.forEach((m) => m.dispose());
  });
});

describe('Sequential: refused calls add nothing and leave nothing mixed', () => {
  const lm = () => new Sequential([new Embedding({ numEmbeddings: 5, embeddingDim: 3, seed: 1 }), new LSTM({ inputSize: 3, hiddenSize: 4, seed: 2 }),
    new GRU({ inputSize: 4, hiddenSize: 4, seed: 3 }), new Linear({ inFeatures: 4, outFeatures: 5, seed: 4 })]);
  const ids = (T: number, B: number, seed: number) => new Tensor(Float32Array.from(randomArray(T * B, seed, 0, 5), Math.floor), [T, B]);
  const grads = (m: Sequential) => Object.fromEntries(Object.entries(m.gradients()).map(([k, v]) => [k, v.data.slice()]));
  it('a forward refused by a later module (lengths): every module forgets its saved forward, and backward adds nothing', () => {
    const m = lm();
    const y = m.forward(ids(4, 2, 5));
    m.zeroGrad();
    // The Embedding runs on the new ids, then the LSTM refuses the lengths.
    expect(() => m.forward(ids(4, 2, 6), { lengths: Int32Array.from([9, 1]) })).toThrow(/lengths/);
    const before = grads(m);
    expect(() => m.backward(new Tensor(randomArray(y.size, 7), y.shape))).toThrow(/Embedding.backward: no forward to backpropagate/);
    for (const [k, v] of Object.entries(grads(m))) expect(Buffer.from(v.buffer).equals(Buffer.from(before[k].buffer)), k).toBe(true);
    m.dispose();
  });
  it('stateful: a forward refused by the second recurrent layer puts the first layer\'s carried state back', () => {
    const m = lm(), ref = lm();
    m.stateful = true; ref.stateful = true;
    m.forward(ids(3, 2, 8)); ref.forward(ids(3, 2, 8));
    const rec = m.modules[2] as unknown as { layer: GRU; stateful: boolean; restore(s: object): void };
    // Only the GRU (module 2) refuses: it carries a state for batch 1.
    rec.restore({ h0: new Tensor(new Float32Array(4), [1, 1, 4]) });
    const refRec = ref.modules[2] as unknown as { restore(s: object): void };
    refRec.restore({ h0: new Tensor(new Float32Array(4), [1, 1, 4]) });
    expect(() => m.forward(ids(3, 2, 9))).toThrow(/carried state is for 1 sequences/);
    const [a, b] = [m.saveState(), ref.saveState()];
    expect(Buffer.from(a[0].h0!.data.buffer).equals(Buffer.from(b[0].h0!.data.buffer)), 'the LSTM\'s carried h').toBe(true);
    expect(Buffer.from(a[0].c0!.data.buffer).equals(Buffer.from(b[0].c0!.data.buffer)), 'the LSTM\'s carried c').toBe(true);
    m.dispose(); ref.dispose();
  });
  it('a backward after the parameters changed is refused before any module adds a gradient (Linear checks too)', () => {
    const m = lm();
    const y = m.forward(ids(4, 2, 10));
    m.zeroGrad();
    const opt = new SGD(m, { lr: 0.1 });
    opt.step(); opt.dispose(); // between forward and backward
    const before = grads(m);
    expect(() => m.backward(new Tensor(randomArray(y.size, 11), y.shape))).toThrow(/the parameters changed after forward/);
    for (const [k, v] of Object.entries(grads(m))) expect(Buffer.from(v.buffer).equals(Buffer.from(before[k].buffer)), k).toBe(true);
    const lin = new Linear({ inFeatures: 2, outFeatures: 2, seed: 5 });
    lin.forward(new Tensor(randomArray(4, 12), [2, 2]));
    lin.params.markChanged();
    expect(() => lin.backward(new Tensor(randomArray(4, 13), [2, 2]))).toThrow(/Linear.backward: the parameters changed after forward/);
    m.dispose(); lin.dispose();
  });
  it('loadStateDict takes indices only as torch writes them: \'01.\', \'1e0.\', \' 1.\' are unexpected keys', () => {
    const m = lm(), sd = m.stateDict();
    for (const bad of ['01.weight_ih_l0', '1e0.weight_ih_l0', ' 1.weight_ih_l0', '0x1.weight_ih_l0', '+1.weight_ih_l0']) {
      expect(() => m.loadStateDict({ ...sd, [bad]: sd['1.weight_ih_l0'] }), bad).toThrow(/unexpected parameter/);
    }
    m.loadStateDict(sd);
    m.dispose();
  });
});

describe('backward without the input gradient', () => {
  // { inputGrad: false } skips the first module's ∂L/∂input product; the parameter gradients
  // must be the same bits as with it, and nothing is returned for the input.
  const cases: [string, () => Sequential, number][] = [
    ['LSTM, 2 layers, bidirectional', () => new Sequential([new LSTM({ inputSize: 5, hiddenSize: 13, numLayers: 2, bidirectional: true, seed: 3 }), new Linear({ inFeatures: 26, outFeatures: 3, seed: 4 })]), 5],
    ['LSTM with projection', () => new Sequential([new LSTM({ inputSize: 3, hiddenSize: 7, projSize: 5, seed: 3 }), new Linear({ inFeatures: 5, outFeatures: 3, seed: 4 })]), 3],
    ['GRU', () => new Sequential([new GRU({ inputSize: 37, hiddenSize: 5, seed: 3 }), new Linear({ inFeatures: 5, outFeatures: 3, seed: 4 })]), 37],
    ['RNN', () => new Sequential([new RNN({ inputSize: 1, hiddenSize: 3, seed: 3 }), new Linear({ inFeatures: 3, outFeatures: 3, seed: 4 })]), 1],
    ['Linear first', () => new Sequential([new Linear({ inFeatures: 13, outFeatures: 5, seed: 4 }), new GRU({ inputSize: 5, hiddenSize: 3, seed: 3 })]), 13],
  ];
  for (const [name, make, F] of cases) it(name, () => {
    const m = make(), T = 4, B = 3;
    const x = new Tensor(randomArray(T * B * F, 7), [T, B, F]);
    const y = m.forward(x), dy = new Tensor(randomArray(y.size, 8), y.shape);
    m.zeroGrad();
    m.forward(x);
    const dx = m.backward(dy);
    expect(dx.shape).toEqual([T, B, F]);
    expect(dx.data.some((v) => v !== 0)).toBe(true);
    const withDx = m.gradients();
    m.zeroGrad();
    m.forward(x);
    expect(m.backward(dy, { inputGrad: false })).toBeNull();
    same(m.gradients(), withDx);
    m.dispose();
  });
  it('a recurrent layer alone returns no dInput', () => {
    const l = new LSTM({ inputSize: 3, hiddenSize: 5, seed: 1 });
    const x = new Tensor(randomArray(2 * 3, 1), [2, 1, 3]);
    l.forward(x);
    const r = l.backward({ dOutput: new Tensor(randomArray(2 * 5, 2), [2, 1, 5]), inputGrad: false });
    expect('dInput' in r).toBe(false);
    expect(r.dh0.shape).toEqual([1, 1, 5]);
    l.dispose();
  });
});

describe('fit', () => {
  it('learns, reports every step and epoch, and keeps memory flat across epochs', () => {
    const model = classifier(), loss = new CrossEntropyLoss(), opt = new Adam(model, { lr: 1e-2 });
    const steps: number[] = [], used: number[] = [];
    const h = fit(model, samples(200, 1), { loss, optimizer: opt, epochs: 6, batchSize: 20, clipNorm: 5, validation: samples(100, 2),
      callbacks: { onStep: (r) => { steps.push(r.loss); expect(r.gradNorm).toBeGreaterThanOrEqual(0); }, onEpoch: () => used.push(e.heap.bytesInUse) } });
    expect(steps.length).toBe(60);
    expect(h.epochs[5].valAccuracy!).toBeGreaterThan(h.epochs[0].valAccuracy! - 1e-9);
    expect(h.epochs[5].loss).toBeLessThan(h.epochs[0].loss);
    expect(new Set(used.slice(1)).size).toBe(1);
    model.dispose(); opt.dispose(); loss.dispose();
  });

  it('stops on a non-finite loss before updating, keeping the last good weights', () => {
    const model = classifier(), opt = new SGD(model, { lr: 0.1 });
    let calls = 0;
    const inner = new CrossEntropyLoss();
    const loss: LossFn = { forward: (x, t, o) => (++calls === 3 ? NaN : inner.forward(x, t, o)), backward: () => inner.backward() };
    let before: Record<string, Tensor> = {};
    expect(() => fit(model, samples(100, 3), { loss, optimizer: opt, epochs: 1, batchSize: 10,
      callbacks: { onStep: () => { before = model.stateDict(); } } })).toThrow(/loss is NaN at epoch 1, step 3/);
    same(model.stateDict(), before);
    model.dispose(); opt.dispose(); inner.dispose();
  });

  it('restores the weights from before an update that made them non-finite', () => {
    const model = classifier(), opt = new SGD(model, { lr: 3e38, weightDecay: 100 }), loss = new CrossEntropyLoss();
    const before = model.stateDict();
    expect(() => fit(model, samples(20, 3), { loss, optimizer: opt, epochs: 1, batchSize: 10 })).toThrow(NumericError);
    same(model.stateDict(), before);
    model.dispose(); opt.dispose(); loss.dispose();
  });

  it('early stopping restores the best weights', () => {
    const model = classifier(), loss = new CrossEntropyLoss(), opt = new Adam(model, { lr: 0.5 }); // too high: validation gets worse
    let best: Record<string, Tensor> = {}, bestLoss = Infinity;
    const h = fit(model, samples(100, 4), { loss, optimizer: opt, epochs: 30, batchSize: 10, validation: samples(50, 5), earlyStopping: { patience: 2 },
      callbacks: { onEpoch: (r) => { if (r.valLoss! < bestLoss) { bestLoss = r.valLoss!; best = model.stateDict(); } } } });
    expect(h.stoppedEarly).toBe(true);
    expect(h.epochs.length).toBeLessThan(30);
    same(model.stateDict(), best);
    for (const earlyStopping of [{ patience: 0 }, { patience: NaN }, { patience: 2, minDelta: -1 }]) {
      expect(() => fit(model, samples(10, 4), { loss, optimizer: opt, epochs: 1, earlyStopping }), JSON.stringify(earlyStopping)).toThrow(/earlyStopping needs patience/);
    }
    model.dispose(); opt.dispose(); loss.dispose();
  });
});

describe('checkpoints', () => {
  it('round-trip bit-exactly with optimizer state; a loaded model predicts the same and resumes identically', () => {
    const model = classifier(7), loss = new CrossEntropyLoss(), opt = new Adam(model, { lr: 1e-2, weightDecay: 1e-3 });
    const data = samples(60, 6);
    fit(model, data, { loss, optimizer: opt, epochs: 2, batchSize: 20, shuffle: false });
    const bytes = saveCheckpoint(model, { optimizer: opt });
    const ck = loadCheckpoint(bytes);
    const loaded = ck.model as Sequential;
    same(loaded.stateDict(), model.stateDict());
    const b = makeBatch(data.slice(0, 7));
    model.eval(); loaded.eval();
    expect(maxAbsDiff(loaded.forward(b.x, { lengths: b.lengths }).data, model.forward(b.x, { lengths: b.lengths }).data)).toBe(0);
    expect(ck.optimizerKind).toBe('Adam');
    const opt2 = new Adam(loaded, { lr: 1 });
    opt2.loadStateDict(ck.optimizer!);
    expect(opt2.lr).toBe(1e-2);
    fit(model, data, { loss, optimizer: opt, epochs: 1, batchSize: 20, shuffle: false });
    fit(loaded, data, { loss, optimizer: opt2, epochs: 1, batchSize: 20, shuffle: false });
    same(loaded.stateDict(), model.stateDict());
    for (const m of [model, loaded]) m.dispose();
    opt.dispose(); opt2.dispose(); loss.dispose();
  });

  it('a single recurrent layer round-trips; a foreign or damaged file is a FormatError', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, projSize: 2, numLayers: 2, dropout: 0.25, seed: 8 });
    const ck = loadCheckpoint(saveCheckpoint(lstm));
    expect((ck.model as LSTM).config).toEqual(lstm.config);
    same((ck.model as LSTM).stateDict(), lstm.stateDict());
    expect(() => loadCheckpoint(lstm.saveSafetensors())).toThrow(/not a wasm-rnn checkpoint/);
    const file = readSafetensors(saveCheckpoint(lstm));
    expect(() => loadCheckpoint(writeSafetensors(file.tensors, { ...file.metadata, format: 'wasm-rnn/9' }))).toThrow(/another version/);
    expect(() => loadCheckpoint(writeSafetensors(file.tensors, { ...file.metadata, model: '{"type":"Conv"' }))).toThrow(FormatError);
    const { weight_hr_l1: _, ...missing } = file.tensors;
    const used = e.heap.bytesInUse;
    expect(() => loadCheckpoint(writeSafetensors(missing, file.metadata))).toThrow(/missing: weight_hr_l1/);
    expect(e.heap.bytesInUse).toBe(used); // the half-built model was disposed
    lstm.dispose();
  });
});

describe('checkpoints refuse what they could not load back, and lying descriptions before building', () => {
  it('a description asking for far more than the file holds is refused before anything is allocated', () => {
    const m = new Sequential([new Embedding({ numEmbeddings: 5, embeddingDim: 3, seed: 1 }), new LSTM({ inputSize: 3, hiddenSize: 4, seed: 2 })]);
    const file = readSafetensors(saveCheckpoint(m));
    const spec = JSON.parse(file.metadata.model);
    spec.layers[0].options.numEmbeddings = 1e8;
    const bytes = e.memory.buffer.byteLength, used = e.heap.bytesInUse;
    expect(() => loadCheckpoint(writeSafetensors(file.tensors, { ...file.metadata, model: JSON.stringify(spec) })))
      .toThrow(/tensor '0.weight' has shape \[5, 3\], the model needs \[100000000, 3\]/);
    expect(e.memory.buffer.byteLength).toBe(bytes);
    expect(e.heap.bytesInUse).toBe(used);
    const { '1.bias_hh_l0': _, ...missing } = file.tensors;
    expect(() => loadCheckpoint(writeSafetensors({ ...missing, '1.extra': missing['1.bias_ih_l0'] }, file.metadata)))
      .toThrow(/missing: 1.bias_hh_l0; unexpected: 1.extra/);
    m.dispose();
  });
  it('layer descriptions: only known types and their options, of the right kinds', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 3 });
    const file = readSafetensors(saveCheckpoint(lstm));
    const spec = JSON.parse(file.metadata.model);
    const load = (model: unknown) => () => loadCheckpoint(writeSafetensors(file.tensors, { ...file.metadata, model: JSON.stringify(model) }));
    expect(load(null)).toThrow(/the model is not a layer description/);
    expect(load({ type: 'Sequential', layers: [null] })).toThrow(/layer 0 is not a layer description/);
    expect(load({ ...spec, options: { ...spec.options, engine: {} } })).toThrow(/unknown options: engine/);
    expect(load({ ...spec, options: { ...spec.options, bias: 'yes' } })).toThrow(/bias must be true or false, got "yes"/);
    expect(load({ type: 'Linear', options: { inFeatures: 3, outFeatures: 4 } })).toThrow(/a single Linear is not a model/);
    expect(() => new Linear({ inFeatures: 1, outFeatures: 1, bias: 1 as never })).toThrow(/Linear: bias must be true or false, got 1/);
    expect(() => new SequenceHead({ mode: 'last', bidirectional: 'no' as never })).toThrow(/SequenceHead: bidirectional must be true or false/);
    expect(() => new GRU({ inputSize: 1, hiddenSize: 1, batchFirst: 0 as never })).toThrow(/GRU: batchFirst must be true or false/);
    for (const o of ['null', '5', '{"kind":"Adam","step":-1,"options":{}}', '{"kind":"Adam","step":1}']) {
      expect(() => loadCheckpoint(writeSafetensors(file.tensors, { ...file.metadata, optimizer: o })), o).toThrow(/'optimizer' metadata is not \{ kind, step/);
    }
    lstm.dispose();
  });
  it('a model with a non-finite weight is not saved (the loaders would refuse the file); reserved metadata keys are refused', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 4 });
    const w = lstm.stateDict();
    w.weight_hh_l0.data[7] = NaN;
    lstm.params.set('weight_hh_l0', new Float32Array(w.weight_hh_l0.data.length)); // finite first: set() checks
    lstm.engine.f32[(lstm.params.addr('weight_hh_l0') >>> 2) + 7] = NaN;         // then poisoned in memory, as a diverged step would
    expect(() => saveCheckpoint(lstm)).toThrow(NumericError);
    expect(() => saveCheckpoint(lstm)).toThrow(/parameter 'weight_hh_l0'.*NaN.*7/);
    expect(() => lstm.saveSafetensors()).toThrow(/LSTM.saveSafetensors: parameter 'weight_hh_l0'/);
    lstm.resetParameters(5);
    const file = readSafetensors(saveCheckpoint(lstm));
    file.tensors.bias_ih_l0.data[2] = Infinity; // a file written elsewhere: its loader says what is wrong, as a NumericError
    expect(() => loadCheckpoint(writeSafetensors(file.tensors, file.metadata))).toThrow(NumericError);
    for (const k of ['format', 'model', 'optimizer']) expect(() => saveCheckpoint(lstm, { metadata: { [k]: 'x' } }), k).toThrow(new RegExp(`'${k}' is the checkpoint's own`));
    expect(readSafetensors(saveCheckpoint(lstm, { metadata: { note: 'x' } })).metadata.note).toBe('x');
    lstm.dispose();
  });
});

describe('checkpoint fuzzing', () => {
  it('damaged checkpoints load or fail with a FormatError, and a failure leaves no memory behind', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, seed: 9 });
    const model = new Sequential([lstm, new SequenceHead({ mode: 'mean' }), new Linear({ inFeatures: 5, outFeatures: 2, seed: 10 })]);
    const opt = new Adam(model, { lr: 1e-2 });
    const good = saveCheckpoint(model, { optimizer: opt });
    const rng = new Rng(77);
    let loaded = 0, refused = 0;
    for (let iter = 0; iter < 300; iter++) {
      const bytes = good.slice();
      const flips = 1 + Math.floor(rng.next() * 3);
      // Half the damage lands in the header (JSON, metadata), half anywhere.
      for (let f = 0; f < flips; f++) {
        const where = iter % 2 ? Math.floor(rng.next() * bytes.length) : 8 + Math.floor(rng.next() * Math.min(600, bytes.length - 8));
        bytes[where] ^= 1 << Math.floor(rng.next() * 8);
      }
      const used = e.heap.bytesInUse;
      try {
        const ck = loadCheckpoint(bytes);
        ck.model.dispose();
        loaded++;
      } catch (err) {
        expect(err, `iteration ${iter}: ${String(err)}`).toBeInstanceOf(FormatError);
        refused++;
      }
      expect(e.heap.bytesInUse, `iteration ${iter} leaked`).toBe(used);
    }
    expect(loaded + refused).toBe(300);
    expect(refused).toBeGreaterThan(50);
    model.dispose(); opt.dispose();
  });
});

describe('sampling', () => {
  const lm = () => new Sequential([new Embedding({ numEmbeddings: 7, embeddingDim: 5, seed: 1 }), new LSTM({ inputSize: 5, hiddenSize: 13, seed: 2 }), new Linear({ inFeatures: 13, outFeatures: 7, seed: 3 })]);

  it('steps the state one token at a time: the same logits as one pass over the whole sequence', () => {
    const model = lm();
    const tokens = generate(model, [1, 2, 3], { steps: 6, temperature: 0.8, seed: 5 });
    expect(tokens).toEqual(generate(model, [1, 2, 3], { steps: 6, temperature: 0.8, seed: 5 }));
    const greedy = generate(model, [1, 2, 3], { steps: 6, temperature: 0 });
    expect(generate(model, [1, 2, 3], { steps: 6, topK: 1, seed: 9 })).toEqual(greedy);
    // Re-running the whole sequence once must pick the same greedy tokens.
    model.eval();
    const all = [1, 2, 3, ...greedy];
    const logits = model.forward(new Tensor(Float32Array.from(all), [all.length, 1]));
    for (let s = 0; s < greedy.length; s++) {
      const row = logits.data.subarray((2 + s) * 7, (3 + s) * 7);
      expect(row.indexOf(Math.max(...row))).toBe(greedy[s]);
    }
    model.dispose();
  });

  it('leaves the model as it found it: carried state, step() session, mode; bad options are refused before anything changes', () => {
    const model = lm(), lstm = model.modules[1] as unknown as { layer: LSTM };
    model.stateful = true; model.train();
    model.forward(new Tensor(Float32Array.from([1, 2, 3, 4]), [2, 2]));
    lstm.layer.resetState(4, { h0: new Tensor(randomArray(4 * 13, 3), [1, 4, 13]) });
    lstm.layer.step(randomArray(4 * 5, 4));
    const carried = model.saveState()[0], session = lstm.layer.state;
    const bits = (t: Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const unchanged = (what: string) => {
      const now = model.saveState()[0];
      expect(bits(now.h0!).equals(bits(carried.h0!)) && bits(now.c0!).equals(bits(carried.c0!)), `${what}: carried state`).toBe(true);
      const st = lstm.layer.state;
      expect(st.h.shape, `${what}: the step() session's batch`).toEqual([1, 4, 13]);
      expect(bits(st.h).equals(bits(session.h)) && bits(st.c!).equals(bits(session.c!)), `${what}: the step() session's state`).toBe(true);
      expect(model.stateful && model.training, `${what}: mode`).toBe(true);
    };
    for (const bad of [{ topP: 0 }, { temperature: -1 }, { topK: 2.5 }, { temperature: Infinity }, { seed: NaN }]) {
      expect(() => generate(model, [1], { steps: 0, ...bad }), JSON.stringify(bad)).toThrow(ShapeError);
      unchanged(JSON.stringify(bad));
    }
    generate(model, [1, 2], { steps: 5, seed: 1 });
    unchanged('after a generate');
    model.dispose();
  });

  it('top-k and top-p keep only the most likely tokens; temperature sharpens', () => {
    const logits = [2, 1, 0, -1, 3], rng = new Rng(1), count = (o: object) => {
      const c = new Array(5).fill(0);
      for (let i = 0; i < 4000; i++) c[sampleLogits(logits, o, rng)]++;
      return c;
    };
    expect(count({ topK: 2 }).filter((n, i) => n > 0 && i !== 0 && i !== 4)).toEqual([]);
    const p = count({ topP: 0.6 }); // p(4) = 0.64 alone reaches 0.6
    expect(p[4]).toBe(4000);
    const cold = count({ temperature: 0.25 }), warm = count({ temperature: 1 });
    expect(cold[4]).toBeGreaterThan(warm[4]);
    expect(warm[3]).toBeGreaterThan(0);
    expect(() => sampleLogits(logits, { topP: 0 }, rng)).toThrow(/topP/);
  });

  it('draws every kept token in proportion to its probability; refuses rows with no meaningful draw', () => {
    // Unfiltered (index order) and filtered (ranked) draws give the softmax / renormalised softmax.
    const logits = [0.5, -1, 2, 0, -Infinity, 1], rng = new Rng(5), N = 40000;
    const softmax = (xs: number[]) => { const e = xs.map((x) => Math.exp(x)), z = e.reduce((a, b) => a + b, 0); return e.map((v) => v / z); };
    for (const [o, p] of [[{}, softmax(logits)], [{ topK: 3 }, [softmax([0.5, 2, 1])[0], 0, softmax([0.5, 2, 1])[1], 0, 0, softmax([0.5, 2, 1])[2]]]] as const) {
      const c = new Array(6).fill(0);
      for (let i = 0; i < N; i++) c[sampleLogits(logits, o, rng)]++;
      for (let i = 0; i < 6; i++) expect(Math.abs(c[i] / N - p[i])).toBeLessThan(0.012);
      expect(c[4]).toBe(0); // -Infinity: never drawn
    }
    for (const bad of [[1, NaN, 0], [0, Infinity], [-Infinity, -Infinity], []]) {
      expect(() => sampleLogits(bad, {}, rng)).toThrow(/sampleLogits/);
      expect(() => sampleLogits(bad, { temperature: 0 }, rng)).toThrow(/sampleLogits/);
    }
  });
});

describe('truncated BPTT on a stream', () => {
  it('trains with k2 < k1 and carries no gradient across chunks', () => {
    const model = new Sequential([new Embedding({ numEmbeddings: 4, embeddingDim: 3, seed: 1 }), new GRU({ inputSize: 3, hiddenSize: 5, seed: 2 }), new Linear({ inFeatures: 5, outFeatures: 4, seed: 3 })]);
    const tokens = Array.from({ length: 400 }, (_, i) => i % 4); // 0 1 2 3 0 1 …: fully predictable
    const loss = new CrossEntropyLoss(), opt = new Adam(model, { lr: 3e-2 });
    const chunks: number[] = [];
    const l = fitStream(model, tokens, { loss, optimizer: opt, batchSize: 4, k1: 10, k2: 5, epochs: 5, onChunk: (r) => chunks.push(r.loss) });
    expect(chunks.length).toBe(5 * 10);
    expect(l[4]).toBeLessThan(0.2 * l[0]);
    expect(() => fitStream(model, tokens, { loss, optimizer: opt, batchSize: 4, k1: 5, k2: 0 })).toThrow(/k2 must be integers ≥ 1|k1 and k2/);
    for (const epochs of [0, -1, NaN, 1.5]) expect(() => fitStream(model, tokens, { loss, optimizer: opt, batchSize: 4, k1: 5, epochs })).toThrow(/epochs must be a positive integer/);
    expect(model.stateful).toBe(false);
    model.dispose(); opt.dispose(); loss.dispose();
  });

  it('with k2 > k1 (overlapping windows), each update sees exactly the gradient of its window', () => {
    // One update of fitStream(k1, k2) from a checkpoint equals, by hand: the state carried to
    // e − k2 without gradient, then forward/backward over [e − k2, e) scoring the last k1 steps.
    const make = () => new Sequential([new Embedding({ numEmbeddings: 5, embeddingDim: 3, seed: 4 }), new LSTM({ inputSize: 3, hiddenSize: 5, seed: 5 }), new Linear({ inFeatures: 5, outFeatures: 5, seed: 6 })]);
    const tokens = Array.from({ length: 2 * 13 + 1 }, (_, i) => (i * 7 + (i >> 2)) % 5), B = 2, rowLen = 13, k1 = 3, k2 = 7;
    const a = make(), ref = make();
    const lossA = new CrossEntropyLoss(), lossR = new CrossEntropyLoss();
    const grads: Record<string, Tensor>[] = [];
    const sgd = new SGD(a, { lr: 1e-9 }); // tiny steps: the weights stay (almost) where they are
    fitStream(a, tokens, { loss: lossA, optimizer: sgd, batchSize: B, k1, k2,
      onChunk: () => grads.push(a.gradients()) });
    // By hand for the third update: e = 9, window [2, 9), scored [6, 9).
    const ids = (start: number, T: number, off: number) => {
      const d = new Float32Array(T * B);
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) d[t * B + b] = tokens[b * rowLen + start + t + off];
      return new Tensor(d, [T, B]);
    };
    ref.stateful = true;
    ref.forward(ids(0, 2, 0));                           // carry the state to step 2, no gradient
    ref.zeroGrad();
    const out = ref.forward(ids(2, 7, 0));
    const scored = new Tensor(out.data.subarray(4 * B * 5), [3, B, 5]);
    lossR.forward(scored, ids(6, 3, 1));
    const d = Tensor.zeros(out.shape); d.data.set(lossR.backward().data, 4 * B * 5);
    ref.backward(d);
    const want = ref.gradients();
    for (const k of Object.keys(want)) expect(maxAbsDiff(grads[2][k].data, want[k].data), k).toBeLessThan(1e-5);
    expect(grads.length).toBe(Math.ceil(rowLen / k1));
    for (const m of [a, ref]) m.dispose();
    sgd.dispose(); lossA.dispose(); lossR.dispose();
  });

  it('stateful mode carries hN into the next forward until resetState', () => {
    const model = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 3, seed: 4 })]);
    const x = new Tensor(randomArray(12, 3), [6, 1, 2]);
    const whole = model.forward(x).data;
    model.stateful = true;
    const a = model.forward(new Tensor(x.data.slice(0, 6), [3, 1, 2])).data;
    const b = model.forward(new Tensor(x.data.slice(6), [3, 1, 2])).data;
    expect(maxAbsDiff([...a, ...b], whole)).toBeLessThan(1e-6);
    model.resetState();
    expect(maxAbsDiff(model.forward(new Tensor(x.data.slice(6), [3, 1, 2])).data, b)).toBeGreaterThan(1e-4);
    expect(() => model.forward(new Tensor(randomArray(12, 4), [3, 2, 2]))).toThrow(/carried state is for 1 sequences, this batch has 2/);
    model.dispose();
  });

  it('regression targets work through MSE on per-sequence outputs', () => {
    const model = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 8, seed: 1 }), new SequenceHead({ mode: 'mean' }), new Linear({ inFeatures: 8, outFeatures: 1, seed: 2 })]);
    const loss = new MSELoss(), opt = new Adam(model, { lr: 1e-2 });
    const h = fit(model, addingProblem(200, 6, 1), { loss, optimizer: opt, epochs: 5, batchSize: 20, targetKind: 'sequence' });
    expect(h.epochs[4].loss).toBeLessThan(h.epochs[0].loss);
    model.dispose(); opt.dispose(); loss.dispose();
  });
});
