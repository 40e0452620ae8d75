// torch.nn.Linear (y = x·Wᵀ + b) with an optional fused activation, as a Module.
// All leading dimensions are rows of one GEMM: forward is one packed GEMM over N rows (W packed
// into panels once per parameter version, the bias added as the product is stored), then the
// activation in place; backward (llm.c's matmul_backward, activation first):
//   dZ = dY ⊙ f'(·) from the saved output Y,   dX = dZ·W,   dW += dZᵀ·X,   db += Σ_rows dZ.
//
// Key: N rows (product of the leading dimensions), I inFeatures, O outFeatures.
import { engineOption, type Engine } from '../engine/engine.js';
import { ShapeError, StateError } from '../errors.js';
import { seedOption } from '../random.js';
import { asTensor, Tensor, assertShape, type TensorLike, flag, positiveInt } from '../tensor.js';
import { Arena } from './arena.js';
import { Resident, type BackwardOptions, type Context, type Module } from './module.js';
import { Layer } from './layer.js';
import { splitEven, type Call } from '../engine/pool.js';
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

/** Rows at least this many are split across the engine's threads. */
const PARALLEL_MIN_ROWS = 64;
const ACT_FORWARD = { none: null, tanh: 'f32_vtanh', sigmoid: 'f32_vsigmoid', relu: 'f32_vrelu' } as const;
const ACT_BACKWARD = { none: null, tanh: 'f32_vtanh_backward', sigmoid: 'f32_vsigmoid_backward', relu: 'f32_vrelu_backward' } as const;

export class Linear extends Layer implements Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
  readonly activation: Activation;
  readonly engine: Engine;
  readonly params: ParameterStore;
  private readonly arena: Arena;
  /** W packed by f32_pack_w for the forward product, and the parameter version it holds. */
  private readonly packed: Arena;
  private packedVersion = -1;
  private pending: { N: number; shape: readonly number[]; version: number } | null = null;
  private extraGrads: number[] = [];
  protected get label(): string { return 'Linear'; }

  constructor(o: LinearOptions) {
    super();
    if (!o || typeof o !== 'object') throw new ShapeError('Linear: options object required ({ inFeatures, outFeatures, … })');
    this.inFeatures = positiveInt(o.inFeatures, 'Linear: inFeatures');
    this.outFeatures = positiveInt(o.outFeatures, 'Linear: outFeatures');
    this.bias = flag(o.bias, true, 'Linear: bias');
    this.activation = o.activation ?? 'none';
    if (!ACTIVATIONS.includes(this.activation)) {
      throw new ShapeError(`Linear: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(o.activation)}`);
    }
    this.engine = engineOption(o.engine, 'Linear');
    const I = this.inFeatures, O = this.outFeatures;
    this.params = new ParameterStore(this.engine, [{ name: 'weight', shape: [O, I] }, ...(this.bias ? [{ name: 'bias', shape: [O] }] : [])]);
    this.arena = new Arena(this.engine);
    this.packed = new Arena(this.engine);
    this.resetParameters(seedOption(o.seed, 'Linear'));
  }

  /** torch's default: weight and bias ~ U(−1/√I, 1/√I) (kaiming_uniform with a = √5), seeded. */
  resetParameters(seed: number): void {
    this.live();
    const k = 1 / Math.sqrt(this.inFeatures);
    uniform(this.params, /^/, -k, k, seed);
  }


  /** x (…, I) → (…, O). Saves the input and the output for backward. */
  forward(input: TensorLike, _ctx?: Context): Tensor {
    return this.forwardResident(asTensor(input, 'Linear.forward: input')).toTensor();
  }

  /** forward with the output left in engine memory (for Sequential, see Resident). */
  forwardResident(x: Tensor | Resident, _ctx?: Context): Resident {
    this.live();
    const I = this.inFeatures, O = this.outFeatures, name = 'Linear.forward';
    if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== I) {
      throw new ShapeError(`${name}: input must be (…, ${I}) (last dimension = inFeatures), got [${x.shape.join(', ')}]`);
    }
    if (x instanceof Tensor) this.engine.assertFinite(x.data, `${name}: input`);
    const N = x.size / I;
    this.pending = null;
    const e = this.engine, a = this.ensure(N), y = a.at('y'), xa = a.at('x');
    stage(e, xa, x);
    const pw = this.pack(), b = this.bias ? this.params.addr('bias') : 0;
    const act = ACT_FORWARD[this.activation];
    // Rows are independent: each thread takes a slice of them (one slice on one thread).
    e.run(this.rowSlices(N).map(([r0, n]) => {
      const xs = xa + r0 * I * 4, ys = y + r0 * O * 4;
      const calls: Call[] = [['gemm_pk_bias', n, O, I, xs, I, pw, ys, O, 0, b, 0]];
      if (act) calls.push([act, n * O, ys, ys]);
      return calls;
    }));
    this.pending = { N, shape: x.shape, version: this.params.version };
    return new Resident(e, y, [...x.shape.slice(0, -1), O]);
  }

  /**
   * dy (…, O) → dx (…, I); adds dW (and db) into gradients(). One backward per forward.
   * With `{ inputGrad: false }` the dX product is skipped and null returned.
   */
  backward(dOutput: TensorLike): Tensor;
  backward(dOutput: TensorLike, opts: BackwardOptions & { inputGrad: false }): null;
  backward(dOutput: TensorLike, opts?: BackwardOptions): Tensor | null;
  backward(dOutput: TensorLike, opts?: BackwardOptions): Tensor | null {
    return this.backwardResident(asTensor(dOutput, 'Linear.backward: dOutput'), opts)?.toTensor() ?? null;
  }

  /** backward with dX left in engine memory (for Sequential, see Resident). */
  backwardResident(dy: Tensor | Resident, opts?: BackwardOptions): Resident | null {
    const wantDx = opts?.inputGrad !== false;
    this.live();
    const I = this.inFeatures, O = this.outFeatures, name = 'Linear.backward';
    const p = this.checkBackward();
    assertShape(dy.shape, [...p.shape.slice(0, -1), O], `${name}: dOutput`);
    if (dy instanceof Tensor) this.engine.assertFinite(dy.data, `${name}: dOutput`);
    const { N } = p, e = this.engine, a = this.arena, ps = this.params;
    const dz = a.at('dy'), y = a.at('y'), dx = a.at('dx'), x = a.at('x'), W = ps.addr('weight');
    // Slices after the first sum their dW, db into private buffers, added in afterwards.
    const slices = this.rowSlices(N), extra = this.gradBuffers(slices.length - 1);
    stage(e, dz, dy);
    const act = ACT_BACKWARD[this.activation];
    e.run(slices.map(([r0, n], i) => {
      const zs = dz + r0 * O * 4, xs = x + r0 * I * 4, g = i ? extra[i - 1] : ps.gradsPtr;
      const gw = ps.addrIn(g, 'weight');
      const calls: Call[] = i ? [['f32_fill', ps.size, g, 0]] : [];
      if (act) calls.push([act, n * O, y + r0 * O * 4, zs, zs]);                    // dZ = act'(y) ⊙ dY
      if (wantDx) calls.push(['f32_gemm_nn', n, I, O, zs, O, 1, W, I, dx + r0 * I * 4, I, 0]); // dX = dZ · W
      calls.push(['f32_gemm_nn', O, I, n, zs, 1, O, xs, I, gw, I, 1]);                 // dW += dZᵀ · X
      if (this.bias) calls.push(['f32_colsum', n, O, zs, O, ps.addrIn(g, 'bias')]);        // db += Σ dZ
      return calls;
    }));
    for (const g of extra) e.kernels.f32_add_rows(1, ps.size, g, 0, ps.gradsPtr, 0);
    this.pending = null;
    return wantDx ? new Resident(e, dx, p.shape) : null;
  }

  /** The saved forward, or the StateError backward throws (none, or the parameters changed since: dX needs forward's W). */
  checkBackward(): { N: number; shape: readonly number[] } {
    this.live();
    const p = this.pending, name = 'Linear.backward';
    if (!p) throw new StateError(`${name}: no forward to backpropagate (call forward first; each forward allows one backward)`);
    if (p.version !== this.params.version) {
      throw new StateError(`${name}: the parameters changed after forward (loadStateDict, an optimizer step…); run forward again`);
    }
    return p;
  }

  discardForward(): void { this.pending = null; }

  protected release(): void {
    this.arena.release();
    this.packed.release();
    for (const g of this.extraGrads) this.engine.release(g);
    this.extraGrads = [];
    this.pending = null;
  }

  /** The address of W packed for the forward, packed again when the parameters changed. */
  private pack(): number {
    const I = this.inFeatures, O = this.outFeatures, k = this.engine.kernels, p = this.params;
    if (this.packedVersion !== p.version) {
      this.packed.ensure('w', [['w', k.f32_packed_size(O, I)]]);
      k.f32_pack_w(O, I, p.addr('weight'), I, this.packed.at('w'));
      this.packedVersion = p.version;
    }
    return this.packed.at('w');
  }

  /** Row slices [first row, rows] for the engine's threads: one unless N is large enough. */
  private rowSlices(N: number): [number, number][] {
    const t = this.engine.threads, parts = t > 1 && N >= PARALLEL_MIN_ROWS ? Math.min(t, N >> 1) : 1;
    let r0 = 0;
    return splitEven(N, parts).map((n) => { const s: [number, number] = [r0, n]; r0 += n; return s; });
  }

  /** `count` private gradient buffers (the parameter layout), allocated once. */
  private gradBuffers(count: number): number[] {
    while (this.extraGrads.length < count) this.extraGrads.push(this.engine.alloc(this.params.size));
    return this.extraGrads.slice(0, count);
  }

  /** Working memory for N rows: x (N, I), y (N, O) saved by forward; dy (N, O), dx (N, I). */
  private ensure(N: number): Arena {
    const I = this.inFeatures, O = this.outFeatures;
    this.arena.ensure(`${N}`, [['x', N * I], ['y', N * O], ['dy', N * O], ['dx', N * I]]);
    return this.arena;
  }
}

/** Copy x into engine memory at ptr: from JS, or within the memory when it already lives there. */
function stage(e: Engine, ptr: number, x: Tensor | Resident): void {
  if (!(x instanceof Resident)) { e.write(ptr, x.data); return; }
  if (x.engine === e) { const s = x.ptr >>> 2; e.f32.copyWithin(ptr >>> 2, s, s + x.size); return; }
  e.write(ptr, x.view());
}
