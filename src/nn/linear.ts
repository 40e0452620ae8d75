// torch.nn.Linear (y = x·Wᵀ + b) with an optional fused activation, as a Module.
// All leading dimensions are rows of one GEMM: forward is one f32_gemm_nt over N rows, the bias
// and the activation in place; backward (llm.c's matmul_backward, activation first):
//   dZ = dY ⊙ f'(·) from the saved output Y,   dX = dZ·W,   dW += dZᵀ·X,   db += Σ_rows dZ.
//
// Key: N rows (product of the leading dimensions), I inFeatures, O outFeatures.
import { getEngine, type Engine } from '../engine/engine.js';
import { ShapeError, StateError } from '../errors.js';
import { nextSeed } from '../random.js';
import { Tensor, assertFinite, assertShape, type TensorLike, positiveInt } from '../tensor.js';
import { Arena } from './arena.js';
import type { Context, Module } from './module.js';
import { Layer } from './layer.js';
import { uniform } from './init.js';
import { ParameterStore } from './params.js';

export type Activation = 'none' | 'tanh' | 'sigmoid' | 'relu';
const ACTIVATIONS: readonly Activation[] = ['none', 'tanh', 'sigmoid', 'relu'];

export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  bias?: boolean;
  /** Applied to x·Wᵀ + b inside the layer (its derivative uses the saved output). */
  activation?: Activation;
  /** Seed of the default initialisation U(−1/√I, 1/√I) of weight and bias (torch's). */
  seed?: number;
  engine?: Engine;
}

export class Linear extends Layer implements Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
  readonly activation: Activation;
  readonly engine: Engine;
  readonly params: ParameterStore;
  private readonly arena: Arena;
  private pending: { N: number; shape: readonly number[] } | null = null;
  protected get label(): string { return 'Linear'; }

  constructor(o: LinearOptions) {
    super();
    if (!o || typeof o !== 'object') throw new ShapeError('Linear: options object required ({ inFeatures, outFeatures, … })');
    this.inFeatures = positiveInt(o.inFeatures, 'Linear: inFeatures');
    this.outFeatures = positiveInt(o.outFeatures, 'Linear: outFeatures');
    this.bias = o.bias ?? true;
    this.activation = o.activation ?? 'none';
    if (!ACTIVATIONS.includes(this.activation)) {
      throw new ShapeError(`Linear: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(o.activation)}`);
    }
    this.engine = o.engine ?? getEngine();
    const I = this.inFeatures, O = this.outFeatures;
    this.params = new ParameterStore(this.engine, [{ name: 'weight', shape: [O, I] }, ...(this.bias ? [{ name: 'bias', shape: [O] }] : [])]);
    this.arena = new Arena(this.engine);
    this.resetParameters(o.seed ?? nextSeed());
  }

  /** torch's default: weight and bias ~ U(−1/√I, 1/√I) (kaiming_uniform with a = √5), seeded. */
  resetParameters(seed: number): void {
    this.live();
    const k = 1 / Math.sqrt(this.inFeatures);
    uniform(this.params, /^/, -k, k, seed);
  }


  /** x (…, I) → (…, O). Saves the input and the output for backward. */
  forward(input: TensorLike, _ctx?: Context): Tensor {
    this.live();
    const I = this.inFeatures, O = this.outFeatures, name = 'Linear.forward';
    const x = input instanceof Tensor ? input : Tensor.from(input, `${name}: input`);
    if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== I) {
      throw new ShapeError(`${name}: input must be (…, ${I}) (last dimension = inFeatures), got [${x.shape.join(', ')}]`);
    }
    assertFinite(x.data, `${name}: input`);
    const N = x.size / I;
    this.pending = null;
    const e = this.engine, a = this.ensure(N), k = e.kernels, y = a.at('y');
    e.write(a.at('x'), x.data);
    k.f32_gemm_nt(N, O, I, a.at('x'), I, this.params.addr('weight'), I, y, O, 0);
    if (this.bias) k.f32_add_bias(N, O, this.params.addr('bias'), y, O);
    if (this.activation === 'tanh') k.f32_vtanh(N * O, y, y);
    else if (this.activation === 'sigmoid') k.f32_vsigmoid(N * O, y, y);
    else if (this.activation === 'relu') k.f32_vrelu(N * O, y, y);
    this.pending = { N, shape: x.shape };
    return new Tensor(e.read(y, N * O), [...x.shape.slice(0, -1), O]);
  }

  /** dy (…, O) → dx (…, I); adds dW (and db) into gradients(). One backward per forward. */
  backward(dOutput: TensorLike): Tensor {
    this.live();
    const p = this.pending, I = this.inFeatures, O = this.outFeatures, name = 'Linear.backward';
    if (!p) throw new StateError(`${name}: no forward to backpropagate (call forward first; each forward allows one backward)`);
    const dy = dOutput instanceof Tensor ? dOutput : Tensor.from(dOutput, `${name}: dOutput`);
    assertShape(dy.shape, [...p.shape.slice(0, -1), O], `${name}: dOutput`);
    assertFinite(dy.data, `${name}: dOutput`);
    const { N } = p, e = this.engine, a = this.arena, k = e.kernels;
    const dz = a.at('dy'), y = a.at('y'), dx = a.at('dx');
    e.write(dz, dy.data);
    if (this.activation === 'tanh') k.f32_vtanh_backward(N * O, y, dz, dz);
    else if (this.activation === 'sigmoid') k.f32_vsigmoid_backward(N * O, y, dz, dz);
    else if (this.activation === 'relu') k.f32_vrelu_backward(N * O, y, dz, dz);
    k.f32_gemm_nn(N, I, O, dz, O, 1, this.params.addr('weight'), I, dx, I, 0);            // dX = dZ · W
    k.f32_gemm_nn(O, I, N, dz, 1, O, a.at('x'), I, this.params.gradAddr('weight'), I, 1); // dW += dZᵀ · X
    if (this.bias) k.f32_colsum(N, O, dz, O, this.params.gradAddr('bias'));               // db += Σ dZ
    this.pending = null;
    return new Tensor(e.read(dx, N * I), p.shape);
  }

  protected release(): void {
    this.arena.release();
    this.pending = null;
  }

  /** Working memory for N rows: x (N, I), y (N, O) saved by forward; dy (N, O), dx (N, I). */
  private ensure(N: number): Arena {
    const I = this.inFeatures, O = this.outFeatures;
    this.arena.ensure(`${N}`, [['x', N * I], ['y', N * O], ['dy', N * O], ['dx', N * I]]);
    return this.arena;
  }
}
