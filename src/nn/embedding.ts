// torch.nn.Embedding as a Module: a lookup table of V rows of D floats. Forward gathers one row
// per token id (f32_gather_rows); backward scatter-adds dY into the weight gradient
// (f32_scatter_add_rows: dW[id] += dY row, repeated ids accumulate), the transpose of the gather.
//
// Token ids are not differentiable: backward returns a ZERO tensor with the ids' shape, so the
// Module contract (dx has the shape forward was given) holds inside a Sequential.
//
// Key: V numEmbeddings, D embeddingDim, N tokens (product of the ids' shape).
import { engineOption, type Engine } from '../engine/engine.js';
import { ShapeError, StateError } from '../errors.js';
import { seedOption, Rng } from '../random.js';
import { asTensor, Tensor, assertShape, type TensorLike, positiveInt } from '../tensor.js';
import { Arena } from './arena.js';
import type { Context, Module } from './module.js';
import { Layer } from './layer.js';
import { ParameterStore } from './params.js';

export interface EmbeddingOptions {
  numEmbeddings: number;
  embeddingDim: number;
  /** Seed of the default initialisation N(0, 1) (torch's), by Box–Muller. */
  seed?: number;
  engine?: Engine;
}

export class Embedding extends Layer implements Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly engine: Engine;
  readonly params: ParameterStore;
  private readonly arena: Arena;
  private pending: { N: number; shape: readonly number[] } | null = null;
  protected get label(): string { return 'Embedding'; }

  constructor(o: EmbeddingOptions) {
    super();
    if (!o || typeof o !== 'object') throw new ShapeError('Embedding: options object required ({ numEmbeddings, embeddingDim })');
    this.numEmbeddings = positiveInt(o.numEmbeddings, 'Embedding: numEmbeddings');
    this.embeddingDim = positiveInt(o.embeddingDim, 'Embedding: embeddingDim');
    this.engine = engineOption(o.engine, 'Embedding');
    this.params = new ParameterStore(this.engine, [{ name: 'weight', shape: [this.numEmbeddings, this.embeddingDim] }]);
    this.arena = new Arena(this.engine);
    this.resetParameters(seedOption(o.seed, 'Embedding'));
  }

  /** torch's default: weight ~ N(0, 1), seeded. */
  resetParameters(seed: number): void {
    this.live();
    const rng = new Rng(seed), data = new Float32Array(this.numEmbeddings * this.embeddingDim);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    this.params.load({ weight: new Tensor(data, [this.numEmbeddings, this.embeddingDim]) });
  }

  /** ids (any shape; integer values in 0…V−1) → (…, D). */
  forward(input: TensorLike, _ctx?: Context): Tensor {
    this.live();
    const V = this.numEmbeddings, D = this.embeddingDim, name = 'Embedding.forward';
    const ids = asTensor(input, `${name}: ids`);
    for (let i = 0; i < ids.size; i++) {
      const v = ids.data[i];
      if (!Number.isInteger(v)) throw new ShapeError(`${name}: ids[${i}] = ${v} is not an integer token id`);
      if (v < 0 || v >= V) throw new ShapeError(`${name}: ids[${i}] = ${v} is out of range 0…${V - 1} (numEmbeddings = ${V})`);
    }
    const N = ids.size, e = this.engine, a = this.arena;
    this.pending = null;
    a.ensure(`${N}`, [['ids', N], ['y', N * D]]);
    new Int32Array(e.memory.buffer, a.at('ids'), N).set(ids.data);
    e.kernels.f32_gather_rows(N, D, a.at('ids'), this.params.addr('weight'), D, a.at('y'), D);
    this.pending = { N, shape: ids.shape };
    return new Tensor(e.read(a.at('y'), N * D), [...ids.shape, D]);
  }

  /** dy (…, D): adds into the weight gradient; returns zeros with the ids' shape. One per forward. */
  backward(dOutput: TensorLike): Tensor {
    this.live();
    const p = this.checkBackward(), D = this.embeddingDim, name = 'Embedding.backward';
    const dy = asTensor(dOutput, `${name}: dOutput`);
    assertShape(dy.shape, [...p.shape, D], `${name}: dOutput`);
    this.engine.assertFinite(dy.data, `${name}: dOutput`);
    const e = this.engine, a = this.arena;
    e.write(a.at('y'), dy.data);                       // the output rows are free now: reuse them for dY
    e.kernels.f32_scatter_add_rows(p.N, D, a.at('ids'), a.at('y'), D, this.params.gradAddr('weight'), D);
    this.pending = null;
    return Tensor.zeros(p.shape);
  }

  /** The saved forward, or the StateError backward throws. */
  checkBackward(): { N: number; shape: readonly number[] } {
    this.live();
    if (!this.pending) throw new StateError('Embedding.backward: no forward to backpropagate (call forward first; each forward allows one backward)');
    return this.pending;
  }

  discardForward(): void { this.pending = null; }

  protected release(): void {
    this.arena.release();
    this.pending = null;
  }
}
