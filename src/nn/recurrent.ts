// RNN, LSTM and GRU layers shaped like torch.nn: same options, same parameter names, shapes and
// gate orders, same tensor layouts. The loop over time runs inside WASM: one call per layer and
// direction per sequence, forward and backward.
//
// Key: T time, B batch, I input, H hidden, P projection (LSTM only), R = P || H the width of h,
// G gate rows (H RNN, 4H LSTM, 3H GRU), L layers, D directions.
import { engineOption, type Engine } from '../engine/engine.js';
import { ShapeError, StateError } from '../errors.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { seedOption, Rng } from '../random.js';
import { asTensor, Tensor, assertFinite, assertShape, type TensorLike, positiveInt, checkLengths } from '../tensor.js';
import { Arena } from './arena.js';
import { Resident } from './module.js';
import { Layer } from './layer.js';
import { uniform } from './init.js';
import { splitEven, type Call } from '../engine/pool.js';
import { ParameterStore } from './params.js';
import {
  GATES, paramSpecs, resolveConfig, suffix,
  type LSTMOptions, type RNNOptions, type RecurrentConfig, type RecurrentKind, type RecurrentOptions,
} from './recurrent-config.js';
import { gatherRows, scatterRows, zeroPadded } from './rows.js';

export type { LSTMOptions, RNNOptions, RecurrentConfig, RecurrentKind, RecurrentOptions } from './recurrent-config.js';

export interface RecurrentState {
  h0?: TensorLike;
  c0?: TensorLike;
  /**
   * Per-sequence lengths (B values in 1…T) for a padded batch, with the guarantees of PyTorch's
   * pack_padded_sequence: steps past a sequence's end produce zeros in the output, no gradient,
   * and hN / cN are taken at each sequence's own end (the reverse direction starts there).
   */
  lengths?: ArrayLike<number>;
}
export interface ForwardResult { output: Tensor; hN: Tensor; cN?: Tensor }
/** forwardResident's result: the output left in engine memory (see Resident). */
type ResidentResult = Omit<ForwardResult, 'output'> & { output: Resident };
export interface BackwardGrads {
  dOutput: TensorLike; dhN?: TensorLike; dcN?: TensorLike;
  /** Compute ∂L/∂input (default true); false skips its product and the result has no dInput. */
  inputGrad?: boolean;
}
export interface BackwardResult { dInput: Tensor; dh0: Tensor; dc0?: Tensor }

/** Batches at least this large are split across the engine's threads. */
const PARALLEL_MIN_BATCH = 8;

/**
 * When a small batch's forward (or step()) splits its gate rows across threads. Two costs to
 * cover: a barrier after every step (~0.4 µs), so a step's recurrent product (gate rows ×
 * hidden × batch) must reach `minStepWork` multiply-adds; and, once per call, a worker to wake
 * when calls come spaced out (tens of µs), so the whole call (× T steps) must reach
 * `minCallWork`. Measured on 2 threads: back to back, GRU hidden 128 at batch 1, T 100 (49K per
 * step) 0.51 → 0.41 ms, LSTM hidden 128 0.69 → 0.54 ms, 128→512 8.0 → 2.9 ms; a 2-layer LSTM
 * hidden 48 at batch 3 (28K) became slower (0.15 → 0.22 ms). step() (T = 1), one every 2 ms:
 * LSTM 64→128 11 → 56 µs, 64→256 (262K) 49 → 68 µs, 64→512 (1M) 197 → 147 µs; back to back
 * (bench/step.mjs) 128→512 186 → 82 µs. Tests set both to 0 to reach the split paths.
 */
export const splitTuning = { minStepWork: 40000, minCallWork: 500000 };

/** One thread's share of a forward whose gate rows are split across threads (assembly/cells/split.ts). */
interface UnitPart { j0: number; j1: number; n: number }
/** One streamed step's calls (see buildStep): where x goes, where the output comes from. */
interface StepPlan { x: number; out: number; run: () => void; threads: number }

/**
 * Floats per hidden unit of the thread-private region of a forward split by gate rows
 * (assembly/cells/split.ts keeps each thread's gates there, [t][b][block][unit], and not in the
 * shared rows, which the threads would write side by side every step): LSTM gates 4·T·B; GRU
 * gates 3·T·B, h_n T·B and the step's recurrent products 3·B; Elman RNN pre-activations T·B.
 * The layout itself is split.ts's; these sizes mirror the ones its kernels state.
 */
function privPerUnit(kind: RecurrentKind, T: number, B: number): number {
  return kind === 'LSTM' ? 4 * T * B : kind === 'GRU' ? 4 * T * B + 3 * B : T * B;
}

/** The buffers of one layer and direction in a forward (byte addresses; 0 where unused). */
interface LayerBuffers {
  xin: number; out: number; ldo: number; h0: number; hN: number; c0: number; cN: number;
  g: number; cs: number; hp: number; hn: number; hg: number; pre: number; lens: number;
  /** The private region of a forward split by gate rows (see privPerUnit), else 0. */
  pv: number;
}

/**
 * The optional state pair of a call (h0 and c0, or dhN and dcN): each checked for its shape and
 * finite values, or null when not given; the cell-state one only for LSTM.
 */
function statePair(kind: RecurrentKind, h: TensorLike | undefined, c: TensorLike | undefined, [hName, cName]: [string, string],
                   hShape: readonly number[], cShape: readonly number[], where: string): [Tensor | null, Tensor | null] {
  if (c !== undefined && kind !== 'LSTM') throw new ShapeError(`${where}: ${cName} is only for LSTM`);
  const checked = (x: TensorLike | undefined, shape: readonly number[], what: string) => {
    if (x === undefined) return null;
    const t = asTensor(x, what);
    assertShape(t.shape, shape, what);
    assertFinite(t.data, what);
    return t;
  };
  return [checked(h, hShape, `${where}: ${hName}`), checked(c, cShape, `${where}: ${cName}`)];
}

/**
 * The row stride of the gate-gradient scratch of a backward (T·B rows of G): G plus one cache
 * line when G is a multiple of 16, so that rows lie an odd number of lines apart. The weight
 * gradients read that scratch by columns (dGᵀ · X, dGᵀ · h): at a power-of-two stride (G = 512:
 * 2 KB) a tile's rows all fall into two of the 64 L1 sets and evict each other (those products
 * at 37 GFLOP/s instead of 39 with the plain build, 46 instead of 52 with the relaxed one).
 */
function gradStride(G: number): number {
  return G % 16 === 0 ? G + 16 : G;
}

/** The floats of x to read: a Tensor's data, or a view of engine memory (take it after allocating). */
function source(x: Tensor | Resident): Float32Array {
  return x instanceof Resident ? x.view() : x.data;
}

/** Sequences b0 … b0+B-1 of a batch, with their working memory. */
interface Slice { b0: number; B: number; fwd: Arena; bwd: Arena; grads: number }

function releaseSlice(e: Engine, sl: Slice): void {
  sl.fwd.release();
  sl.bwd.release();
  if (sl.grads) e.release(sl.grads);
}

/** Input rows of layer l: the user's x, the previous layer's output, or its dropped copy. */
function layerInput(a: Arena, l: number, dropped: boolean): number {
  return l === 0 ? a.at('x') : a.at(dropped ? `xd${l - 1}` : `out${l - 1}`);
}

/** What a forward leaves for backward; parts: the gate-row split it ran with (its gates are in the private regions). */
interface Pending { T: number; B: number; unbatched: boolean; masked: boolean; dropped: boolean; version: number; parts: UnitPart[] | null }

export class Recurrent extends Layer {
  readonly config: RecurrentConfig;
  readonly engine: Engine;
  readonly params: ParameterStore;
  /** Batch slices of the last forward, one per thread used, each with its working memory. */
  private slices: Slice[] = [];
  /** The weights packed for the kernels (see pack()). */
  private readonly packed: Arena;
  private packedVersion = -1;
  /** Whether the packed arena holds the backward panels too, and whether it should. */
  private packedBackward = false;
  private packsBackward = false;
  /** Bumped on every repack (the packed addresses may move); step() rebuilds its calls then. */
  private packEpoch = 0;
  /** step()'s kernel calls: [0] reads the state in the first half of its buffers, [1] the second. */
  private stepPlans: StepPlan[] = [];
  private stepEpoch = -1;
  /**
   * Streaming (step()) buffers, batch size, and which half of the state buffers holds the state:
   * a step reads that half and writes the other, and only a step that returns flips `cur`, so a
   * step that throws part way (in a later layer, or on one thread of a split step) leaves the
   * state as it was.
   */
  private readonly stepArena: Arena;
  /** Where resident outputs and input gradients are gathered for Sequential (see Resident). */
  private readonly edges: { y: Arena; dx: Arena };
  private stepState: { B: number; cur: number } | null = null;
  private pending: Pending | null = null;
  private dropRng: Rng;
  private maskScratch = new Float32Array(0);
  /** The barrier words (assembly/cells/split.ts) of a forward split by gate rows; 0 until needed. */
  private barrier = 0;
  /** Training mode (the default, as in PyTorch): dropout between layers is active. */
  training = true;

  protected get label(): string { return this.config.kind; }

  constructor(kind: RecurrentKind, o: RecurrentOptions & Partial<LSTMOptions & RNNOptions>) {
    super();
    this.config = resolveConfig(kind, o);
    this.engine = engineOption(o.engine, kind);
    this.params = new ParameterStore(this.engine, paramSpecs(this.config));
    this.packed = new Arena(this.engine);
    this.stepArena = new Arena(this.engine);
    this.edges = { y: new Arena(this.engine), dx: new Arena(this.engine) };
    const seed = seedOption(o.seed, kind);
    this.dropRng = new Rng(seed ^ 0x9e3779b9);
    this.resetParameters(seed);
  }

  /** Training mode on or off (like torch's module.train(mode)). */
  train(on = true): this { this.training = on; return this; }
  /** Restart the dropout masks' random sequence (for reproducible training runs and tests). */
  manualSeed(seed: number): void { this.dropRng = new Rng(seed ^ 0x9e3779b9); }
  /** Evaluation mode: no dropout. */
  eval(): this { return this.train(false); }

  /** Dropout between layers is active in this forward. */
  private get dropping(): boolean {
    return this.training && this.config.dropout > 0 && this.config.numLayers > 1;
  }

  get numDirections(): number { return this.config.bidirectional ? 2 : 1; }
  /** Width of h: projSize when projecting, else hiddenSize. */
  get outputSize(): number { return this.config.projSize || this.config.hiddenSize; }

  /** PyTorch's default initialisation: every parameter ~ U(-1/√H, 1/√H), seeded. */
  resetParameters(seed: number): void {
    this.live();
    const k = 1 / Math.sqrt(this.config.hiddenSize);
    uniform(this.params, /^/, -k, k, seed);
  }


  /**
   * Run the whole sequence. x is (T, B, I), or (B, T, I) with batchFirst, or unbatched (T, I).
   * Returns output (T, B, D·R) (or (B, T, D·R)), hN (D·L, B, R) and, for LSTM, cN (D·L, B, H).
   * Saves what backward needs.
   */
  forward(input: TensorLike, state: RecurrentState = {}): ForwardResult {
    return this.forwardCore(asTensor(input, `${this.config.kind}.forward: input`), state, false) as ForwardResult;
  }

  /** forward with the output left in engine memory (for Sequential, see Resident); time-major. */
  forwardResident(input: Tensor | Resident, state: RecurrentState = {}): ResidentResult {
    return this.forwardCore(input, state, true) as ResidentResult;
  }

  private forwardCore(x: Tensor | Resident, state: RecurrentState, resident: boolean): ForwardResult | ResidentResult {
    this.live();
    if (!state || typeof state !== 'object') throw new ShapeError(`${this.config.kind}.forward: the second argument must be an object ({ h0, c0, lengths }), got ${String(state)}`);
    const { kind, inputSize: I, hiddenSize: H, numLayers: L, batchFirst } = this.config;
    const D = this.numDirections, R = this.outputSize;
    const name = `${kind}.forward`;
    const unbatched = x.shape.length === 2;
    if (x.shape.length !== 3 && !unbatched) {
      throw new ShapeError(`${name}: input must be 3-D (${batchFirst ? 'B, T' : 'T, B'}, ${I}) or 2-D (T, ${I}), got [${x.shape.join(', ')}]`);
    }
    const T = unbatched ? x.shape[0] : batchFirst ? x.shape[1] : x.shape[0];
    const B = unbatched ? 1 : batchFirst ? x.shape[0] : x.shape[1];
    if (x.shape[x.shape.length - 1] !== I) {
      throw new ShapeError(`${name}: input has ${x.shape[x.shape.length - 1]} features, expected inputSize = ${I}`);
    }
    if (T < 1 || B < 1) throw new ShapeError(`${name}: input needs at least one time step and one sequence, got [${x.shape.join(', ')}]`);
    if (x instanceof Tensor) this.engine.assertFinite(x.data, `${name}: input`);
    const stateShape = (w: number) => (unbatched ? [D * L, w] : [D * L, B, w]);
    const [h0, c0] = statePair(kind, state.h0, state.c0, ['h0', 'c0'], stateShape(R), stateShape(H), name);
    const lengths = state.lengths === undefined ? null : checkLengths(state.lengths, T, B, name);

    this.pending = null;
    const dropped = this.dropping;
    // A small batch on a threaded engine splits every step's gate rows (one slice then).
    const parts = this.unitParts(T, B, dropped, lengths !== null);
    const slices = this.plan(T, B, dropped, parts !== null);
    const e = this.engine, bf = batchFirst && !unbatched;
    // One slice, time-major, no lengths: the top layer's rows are the output as they stand, and
    // a resident result points at them (they stay until this layer's next forward); otherwise
    // the rows are gathered into the edge region.
    const direct = resident && slices.length === 1 && !bf && !lengths;
    const out = resident && !direct ? this.edgeRegion('y', T * B * D * R) : 0;
    const xs = source(x); // after every allocation of this call
    for (const sl of slices) {
      const a = sl.fwd;
      scatterRows(e, a.at('x'), xs, T, B, I, bf, sl.b0, sl.B);
      if (h0) scatterRows(e, a.at('h0'), h0.data, D * L, B, R, false, sl.b0, sl.B); else e.zero(a.at('h0'), D * L * sl.B * R);
      if (kind === 'LSTM') {
        if (c0) scatterRows(e, a.at('c0'), c0.data, D * L, B, H, false, sl.b0, sl.B); else e.zero(a.at('c0'), D * L * sl.B * H);
      }
      if (lengths) new Int32Array(e.memory.buffer, a.at('lens'), sl.B).set(lengths.subarray(sl.b0, sl.b0 + sl.B));
    }
    if (dropped) {
      // Inverted dropout masks m ∈ {0, 1/(1-p)} for the whole batch, drawn in one order whatever
      // the number of threads, then given to each slice (saved for backward).
      const p = this.config.dropout, scale = 1 / (1 - p), n = T * B * D * R;
      for (let l = 0; l < L - 1; l++) {
        // One slice: drawn straight into its memory; several: through one reused scratch array.
        const f = e.f32, one = slices.length === 1, base = slices[0].fwd.at(`dm${l}`) >>> 2;
        const mask = one ? f.subarray(base, base + n) : (this.maskScratch.length >= n ? this.maskScratch : (this.maskScratch = new Float32Array(n)));
        for (let i = 0; i < n; i++) mask[i] = this.dropRng.next() < p ? 0 : scale;
        if (!one) for (const sl of slices) scatterRows(e, sl.fwd.at(`dm${l}`), mask, T, B, D * R, false, sl.b0, sl.B);
      }
    }
    this.pack();
    this.run(parts
      ? parts.map((u) => this.forwardCalls(T, slices[0], dropped, false, u))
      : slices.map((sl) => this.forwardCalls(T, sl, dropped, lengths !== null)), parts !== null);

    this.pending = { T, B, unbatched, masked: lengths !== null, dropped, version: this.params.version, parts };
    const outShape = unbatched ? [T, D * R] : batchFirst ? [B, T, D * R] : [T, B, D * R];
    const output = direct ? null : resident ? e.f32.subarray(out >>> 2, (out >>> 2) + T * B * D * R) : new Float32Array(T * B * D * R);
    const hN = new Float32Array(D * L * B * R);
    const cN = kind === 'LSTM' ? new Float32Array(D * L * B * H) : null;
    for (const sl of slices) {
      if (output) gatherRows(e, sl.fwd.at(`out${L - 1}`), output, T, B, D * R, bf, sl.b0, sl.B);
      gatherRows(e, sl.fwd.at('hN'), hN, D * L, B, R, false, sl.b0, sl.B);
      if (cN) gatherRows(e, sl.fwd.at('cN'), cN, D * L, B, H, false, sl.b0, sl.B);
    }
    // The saved rows of padded steps carry the state (the next step's h_prev); users see zeros.
    if (lengths && output) zeroPadded(output, lengths, T, B, D * R, bf);
    const hNt = new Tensor(hN, stateShape(R)), cNt = cN ? new Tensor(cN, stateShape(H)) : undefined;
    if (resident) return { output: new Resident(e, direct ? slices[0].fwd.at(`out${L - 1}`) : out, outShape), hN: hNt, ...(cNt ? { cN: cNt } : {}) };
    const res: ForwardResult = { output: new Tensor(output!, outShape), hN: hNt };
    if (cNt) res.cN = cNt;
    return res;
  }

  /** The address of an edge region of n floats (see edges). */
  private edgeRegion(which: 'y' | 'dx', n: number): number {
    const a = this.edges[which];
    a.ensure(`${n}`, [[which, n]]);
    return a.at(which);
  }

  /**
   * engine.run for forwards; when a kernel failed on some thread (the pool then throws, and the
   * threads of a split forward have left its barrier early), the barrier words are zeroed for
   * the next call.
   */
  private run(lists: Call[][], split: boolean): void {
    // A split call's barrier counts arrivals from zero (see split_barrier); no thread is in it now.
    if (split) this.engine.zero(this.barrier, 1);
    try {
      this.engine.run(lists);
    } catch (err) {
      if (this.barrier) this.engine.zero(this.barrier, 16);
      throw err;
    }
  }

  /**
   * Batches too small to split by sequences (B < PARALLEL_MIN_BATCH) on a threaded engine: split
   * every step's gate rows instead, each thread taking whole 16-unit panels of every gate block
   * (hiddenSize a multiple of 16, no projection, no lengths, no dropout
   * between layers) and enough work per step (splitTuning). One part per thread, or null.
   */
  private unitParts(T: number, B: number, dropped: boolean, masked: boolean): UnitPart[] | null {
    const { kind, hiddenSize: H, projSize: P } = this.config, pool = this.engine.pool;
    if (!pool || B >= PARALLEL_MIN_BATCH || P || masked || dropped || H % 16 !== 0) return null;
    const work = GATES[kind] * H * H * B;
    if (work < splitTuning.minStepWork || work * T < splitTuning.minCallWork) return null;
    const panels = H / 16, n = Math.min(pool.size, panels);
    if (n < 2) return null;
    // 16 floats: a 64-byte cache line of its own (the heap aligns to lines), which threads spin on.
    if (!this.barrier) { this.barrier = this.engine.alloc(16); this.engine.zero(this.barrier, 16); }
    const parts: UnitPart[] = [];
    for (let i = 0, j = 0; i < n; i++) {
      const w = 16 * (Math.floor(panels / n) + (i < panels % n ? 1 : 0));
      parts.push({ j0: j, j1: j + w, n });
      j += w;
    }
    return parts;
  }

  /**
   * The kernel calls of one forward over one batch slice: every layer and direction in order;
   * with `part`, one thread's share of a forward split by gate rows (see unitParts).
   */
  private forwardCalls(T: number, sl: Slice, dropped: boolean, masked: boolean, part?: UnitPart): Call[] {
    const { kind, inputSize: I, hiddenSize: H, numLayers: L, projSize: P } = this.config;
    const D = this.numDirections, R = this.outputSize, B = sl.B, a = sl.fwd;
    const lens = masked ? a.at('lens') : 0;
    const calls: Call[] = [];
    for (let l = 0; l < L; l++) {
      if (dropped && l > 0) calls.push(['f32_vmul', T * B * D * R, a.at(`out${l - 1}`), a.at(`dm${l - 1}`), a.at(`xd${l - 1}`)]);
      const xin = layerInput(a, l, dropped), inW = l === 0 ? I : D * R;
      for (let d = 0; d < D; d++) {
        const ld = l * D + d;
        calls.push(this.layerCall(T, B, l, d, inW, part, {
          xin, out: a.at(`out${l}`) + d * R * 4, ldo: D * R,
          h0: a.at('h0') + ld * B * R * 4, hN: a.at('hN') + ld * B * R * 4,
          c0: kind === 'LSTM' ? a.at('c0') + ld * B * H * 4 : 0, cN: kind === 'LSTM' ? a.at('cN') + ld * B * H * 4 : 0,
          g: kind === 'RNN' ? 0 : a.at(`g${ld}`), cs: kind === 'LSTM' ? a.at(`cs${ld}`) : 0, hp: P ? a.at(`hp${ld}`) : 0,
          hn: kind === 'GRU' ? a.at(`hn${ld}`) : 0, hg: kind === 'GRU' && !part ? a.at('hg') : 0, pre: kind === 'RNN' && !part ? a.at('pre') : 0, lens,
          pv: part ? a.at(`pv${ld}`) : 0,
        }));
      }
    }
    return calls;
  }

  /**
   * Backpropagate through the last forward: given ∂L/∂output (and optionally ∂L/∂hN, ∂L/∂cN),
   * return ∂L/∂input, ∂L/∂h0 (and ∂L/∂c0), and add the parameter gradients into `gradients()`.
   * Each forward can be backpropagated once.
   */
  backward(grads: BackwardGrads & { inputGrad: false }): Omit<BackwardResult, 'dInput'>;
  backward(grads: BackwardGrads): BackwardResult;
  backward(grads: BackwardGrads): Omit<BackwardResult, 'dInput'> & { dInput?: Tensor } {
    if (!grads || typeof grads !== 'object') throw new ShapeError(`${this.config.kind}.backward: expected { dOutput, dhN?, dcN? }, got ${String(grads)}`);
    const dOutput = asTensor(grads.dOutput, `${this.config.kind}.backward: dOutput`);
    return this.backwardCore({ ...grads, dOutput }, false) as Omit<BackwardResult, 'dInput'> & { dInput?: Tensor };
  }

  /** The saved forward, or the StateError backward throws (none, or the parameters changed since). */
  checkBackward(): Pending {
    this.live();
    const p = this.pending, name = `${this.config.kind}.backward`;
    if (!p) throw new StateError(`${name}: no forward to backpropagate (call forward first; each forward allows one backward)`);
    if (p.version !== this.params.version) {
      throw new StateError(`${name}: the parameters changed after forward (loadStateDict, an optimizer step…); run forward again`);
    }
    return p;
  }

  /** Forget what the last forward saved (backward then needs a new forward). */
  discardForward(): void { this.pending = null; }

  /** backward with dInput left in engine memory (for Sequential, see Resident). */
  backwardResident(dOutput: Tensor | Resident, inputGrad: boolean): Resident | null {
    return (this.backwardCore({ dOutput, inputGrad }, true).dInput as Resident | undefined) ?? null;
  }

  private backwardCore(grads: Omit<BackwardGrads, 'dOutput'> & { dOutput: Tensor | Resident }, resident: boolean):
    Omit<BackwardResult, 'dInput'> & { dInput?: Tensor | Resident } {
    const p = this.checkBackward();
    const { kind, inputSize: I, hiddenSize: H, numLayers: L, batchFirst, projSize: P } = this.config;
    const name = `${kind}.backward`;
    const { T, B, unbatched, masked, dropped } = p;
    const D = this.numDirections, R = this.outputSize;
    const bf = batchFirst && !unbatched;
    const stateShape = (w: number) => (unbatched ? [D * L, w] : [D * L, B, w]);
    const dOut = grads.dOutput;
    assertShape(dOut.shape, unbatched ? [T, D * R] : bf ? [B, T, D * R] : [T, B, D * R], `${name}: dOutput`);
    if (dOut instanceof Tensor) this.engine.assertFinite(dOut.data, `${name}: dOutput`);
    const [dhN, dcN] = statePair(kind, grads.dhN, grads.dcN, ['dhN', 'dcN'], stateShape(R), stateShape(H), name);

    const slices = this.slices;
    const e = this.engine, k = e.kernels, wantDx = grads.inputGrad !== false;
    for (const sl of slices) this.ensureBackwardArena(sl, T);
    const edge = resident && wantDx ? this.edgeRegion('dx', T * B * I) : 0;
    const douts = source(dOut); // after every allocation of this call
    for (const sl of slices) {
      const b = sl.bwd;
      scatterRows(e, b.at('dout'), douts, T, B, D * R, bf, sl.b0, sl.B);
      if (dhN) scatterRows(e, b.at('dhN'), dhN.data, D * L, B, R, false, sl.b0, sl.B);
      if (dcN) scatterRows(e, b.at('dcN'), dcN.data, D * L, B, H, false, sl.b0, sl.B);
    }
    this.pack(true);
    this.engine.run(slices.map((sl) => [...this.unstashCalls(T, sl, p.parts), ...this.backwardCalls(T, sl, dropped, masked, dhN !== null, dcN !== null, wantDx)]));
    // Slices past the first accumulated into private gradient buffers: add them in.
    for (const sl of slices) if (sl.grads) k.f32_add_rows(1, this.params.size, sl.grads, 0, this.params.gradsPtr, 0);
    this.pending = null;

    const dInput = !wantDx ? null : edge ? e.f32.subarray(edge >>> 2, (edge >>> 2) + T * B * I) : new Float32Array(T * B * I);
    const dh0 = new Float32Array(D * L * B * R);
    const dc0 = kind === 'LSTM' ? new Float32Array(D * L * B * H) : null;
    for (const sl of slices) {
      if (dInput) gatherRows(e, sl.bwd.at('dx0'), dInput, T, B, I, bf, sl.b0, sl.B);
      gatherRows(e, sl.bwd.at('dh0'), dh0, D * L, B, R, false, sl.b0, sl.B);
      if (dc0) gatherRows(e, sl.bwd.at('dc0'), dc0, D * L, B, H, false, sl.b0, sl.B);
    }
    const res: Omit<BackwardResult, 'dInput'> & { dInput?: Tensor | Resident } = { dh0: new Tensor(dh0, stateShape(R)) };
    const inShape = unbatched ? [T, I] : bf ? [B, T, I] : [T, B, I];
    if (dInput) res.dInput = edge ? new Resident(e, edge, inShape) : new Tensor(dInput, inShape);
    if (dc0) res.dc0 = new Tensor(dc0, stateShape(H));
    return res;
  }

  /**
   * After a forward split by gate rows: copy each thread's private gates (and the GRU's h_n)
   * into the shared (T, B, G·H) layout the backward kernels read (assembly/cells/split.ts). Only
   * a backward pays for it; inference never does.
   */
  private unstashCalls(T: number, sl: Slice, parts: UnitPart[] | null): Call[] {
    const { kind, hiddenSize: H, numLayers: L } = this.config;
    // An Elman RNN's backward reads h, not the pre-activations: nothing to copy.
    if (!parts || kind === 'RNN') return [];
    const a = sl.fwd, calls: Call[] = [];
    for (let ld = 0; ld < L * this.numDirections; ld++) {
      for (const { j0, j1 } of parts) {
        calls.push(kind === 'LSTM'
          ? ['lstm_split_saved', T, sl.B, H, a.at(`pv${ld}`), j0, j1, a.at(`g${ld}`)]
          : ['gru_split_saved', T, sl.B, H, a.at(`pv${ld}`), j0, j1, a.at(`g${ld}`), a.at(`hn${ld}`)]);
      }
    }
    return calls;
  }

  /** The kernel calls of one backward over one batch slice: layers in reverse, every direction. */
  private backwardCalls(T: number, sl: Slice, dropped: boolean, masked: boolean, hasDhN: boolean, hasDcN: boolean,
                        wantDx: boolean): Call[] {
    const { kind, inputSize: I, hiddenSize: H, numLayers: L, projSize: P } = this.config;
    const D = this.numDirections, R = this.outputSize, B = sl.B, a = sl.fwd, b = sl.bwd, ps = this.params;
    const lens = masked ? a.at('lens') : 0, stash = masked ? b.at('stash') : 0, relu = this.config.nonlinearity === 'relu' ? 1 : 0;
    const gbase = sl.grads || ps.gradsPtr, ldg = gradStride(GATES[kind] * H);
    const calls: Call[] = sl.grads ? [['f32_fill', ps.size, sl.grads, 0]] : [];
    for (let l = L - 1; l >= 0; l--) {
      const inW = l === 0 ? I : D * R, xin = layerInput(a, l, dropped);
      // Layer 0's dx is ∂L/∂input: skipped (address 0) when the caller does not want it.
      const dx = l > 0 || wantDx ? b.at(`dx${l}`) : 0;
      if (dx) calls.push(['f32_fill', T * B * inW, dx, 0]);
      const doutL = l === L - 1 ? b.at('dout') : b.at(`dx${l + 1}`);
      // Through the dropout between layer l and l + 1: the same mask scales the gradient.
      if (dropped && l < L - 1) calls.push(['f32_vmul', T * B * D * R, doutL, a.at(`dm${l}`), doutL]);
      for (let d = 0; d < D; d++) {
        const sfx = suffix(l, d), ld = l * D + d;
        const out = a.at(`out${l}`) + d * R * 4, ldo = D * R, dout = doutL + d * R * 4;
        const pt = (n: string) => (ps.has(`${n}${sfx}`) ? this.packed.at(`${n}${sfx}^T`) : 0); // W as f32_pack_wt panels
        const ga = (n: string) => ps.addrIn(gbase, `${n}${sfx}`);
        const h0 = a.at('h0') + ld * B * R * 4, dh0 = b.at('dh0') + ld * B * R * 4;
        const dhN = hasDhN ? b.at('dhN') + ld * B * R * 4 : 0;
        if (kind === 'LSTM') {
          calls.push(['lstm_seq_backward', T, B, inW, H, P, d, xin, inW, pt('weight_ih'), pt('weight_hh'), pt('weight_hr'),
            h0, a.at('c0') + ld * B * H * 4, out, ldo, a.at(`g${ld}`), a.at(`cs${ld}`), P ? a.at(`hp${ld}`) : 0,
            dout, ldo, dhN, hasDcN ? b.at('dcN') + ld * B * H * 4 : 0, dx, inW, dh0, b.at('dc0') + ld * B * H * 4,
            ga('weight_ih'), ga('weight_hh'), ga('bias_ih'), ga('bias_hh'), ga('weight_hr'),
            b.at('dg'), ldg, P ? b.at('dhs') : 0, P ? b.at('dhpre') : 0, lens, stash]);
        } else if (kind === 'GRU') {
          calls.push(['gru_seq_backward', T, B, inW, H, d, xin, inW, pt('weight_ih'), pt('weight_hh'), h0, out, ldo,
            a.at(`g${ld}`), a.at(`hn${ld}`), dout, ldo, dhN, dx, inW, dh0,
            ga('weight_ih'), ga('weight_hh'), ga('bias_ih'), ga('bias_hh'), b.at('dg'), b.at('dg2'), ldg, lens, stash]);
        } else {
          calls.push(['rnn_seq_backward', T, B, inW, H, d, relu, xin, inW, pt('weight_ih'), pt('weight_hh'), h0, out, ldo,
            dout, ldo, dhN, dx, inW, dh0, ga('weight_ih'), ga('weight_hh'), ga('bias_ih'), ga('bias_hh'), b.at('dg'), ldg, lens, stash]);
        }
      }
    }
    return calls;
  }



  /**
   * Split the batch across the engine's threads (batches of at least PARALLEL_MIN_BATCH), in
   * slices of an even number of sequences (the last takes an odd one), so every sequence meets
   * the same GEMM tiles as on one thread and outputs are the same bit for bit. Each slice owns
   * its working memory; slices after the first also a private gradient buffer.
   */
  private plan(T: number, B: number, dropped: boolean, split: boolean): Slice[] {
    const threads = this.engine.threads;
    const n = threads > 1 && B >= PARALLEL_MIN_BATCH ? Math.min(threads, B >> 1) : 1;
    const sizes = splitEven(B, n);
    while (this.slices.length > n) releaseSlice(this.engine, this.slices.pop()!);
    while (this.slices.length < n) {
      const i = this.slices.length;
      this.slices.push({ b0: 0, B: 0, fwd: new Arena(this.engine), bwd: new Arena(this.engine), grads: i ? this.engine.alloc(this.params.size) : 0 });
    }
    let b0 = 0;
    this.slices.forEach((sl, i) => {
      sl.b0 = b0; sl.B = sizes[i]; b0 += sizes[i];
      // The backward arena re-carves itself by its own key.
      sl.fwd.ensure(`${T}x${sl.B}${dropped ? ' dropout' : ''}${split ? ' split' : ''}`, () => this.forwardRegions(T, sl.B, dropped, split));
    });
    return this.slices;
  }

  /**
   * Streaming inference: advance the carried state by one time step. x holds B·inputSize values
   * (one row per sequence); returns the top layer's output (B·outputSize), written into `out`
   * when given (no allocation), else into a fresh array. Nothing is saved for backward. The
   * state starts at zero, or at what resetState() set, and persists across calls; a step that
   * throws leaves it as it was.
   */
  step(x: ArrayLike<number>, out?: Float32Array): Float32Array {
    this.live();
    const st = this.stepState;
    if (!st) throw new StateError(`${this.config.kind}.step: call resetState(batch) first to set the batch size`);
    const { inputSize: I, kind } = this.config;
    const B = st.B, R = this.outputSize, e = this.engine;
    if (!x || typeof x.length !== 'number') throw new ShapeError(`${kind}.step: x must be an array of batch × inputSize = ${B} × ${I} numbers`);
    if (x.length !== B * I) throw new ShapeError(`${kind}.step: x has ${x.length} values, expected batch × inputSize = ${B} × ${I}`);
    assertFinite(x, `${kind}.step: x`);
    if (out && out.length !== B * R) throw new ShapeError(`${kind}.step: out has ${out.length} values, expected ${B * R}`);
    this.pack();
    // Rebuilt after a repack, and when the engine's threads changed (a plan split across threads
    // must not run after engine.dispose() stopped the workers: its barrier would wait forever).
    if (this.stepEpoch !== this.packEpoch || this.stepPlans[0].threads !== e.threads) {
      this.stepPlans = [this.buildStep(B, 0), this.buildStep(B, 1)]; this.stepEpoch = this.packEpoch;
    }
    const plan = this.stepPlans[st.cur];
    e.write(plan.x, x);
    plan.run();
    st.cur ^= 1;
    // Copied element by element: no view object per step.
    const res = out ?? new Float32Array(B * R);
    const f = e.f32, base = plan.out >>> 2;
    for (let i = 0; i < B * R; i++) res[i] = f[base + i];
    return res;
  }

  /**
   * The kernel call running layer l, direction d over (T, B) with the buffers `b` (addresses; 0
   * for what this kind does not use): the whole layer, or with `part` one thread's hidden units
   * of a forward split by gate rows (no projection, no lengths there).
   */
  private layerCall(T: number, B: number, l: number, d: number, inW: number, part: UnitPart | undefined, b: LayerBuffers): Call {
    const { kind, hiddenSize: H, projSize: P } = this.config, pk = this.packed, sfx = suffix(l, d);
    const pw = [pk.at(`weight_ih${sfx}`), pk.at(`weight_hh${sfx}`), this.params.addr(`bias_ih${sfx}`), this.params.addr(`bias_hh${sfx}`)];
    const relu = this.config.nonlinearity === 'relu' ? 1 : 0;
    const args = kind === 'LSTM'
      ? [T, B, inW, H, P, d, b.xin, inW, ...pw, P ? pk.at(`weight_hr${sfx}`) : 0, b.h0, b.c0, b.out, b.ldo, b.hN, b.cN, b.g, b.cs, b.hp, b.lens]
      : kind === 'GRU' ? [T, B, inW, H, d, b.xin, inW, ...pw, b.h0, b.out, b.ldo, b.hN, b.g, b.hn, b.hg, b.lens]
        : [T, B, inW, H, d, relu, b.xin, inW, ...pw, b.h0, b.out, b.ldo, b.hN, b.pre, b.lens];
    const name = `${kind.toLowerCase()}_seq_forward`;
    return part ? [`${name}_split`, ...args, b.pv, part.j0, part.j1, this.barrier, part.n, this.engine.pool!.abort] : [name, ...args];
  }

  /** The kernel calls of one streamed step reading the state from half `from` of its buffers, with every address resolved once. */
  private buildStep(B: number, from: number): StepPlan {
    const { inputSize: I, hiddenSize: H, numLayers: L, projSize: P, kind } = this.config;
    const R = this.outputSize, a = this.stepArena, e = this.engine;
    // Large layers on a threaded engine: every step split by gate rows, as forward does.
    const parts = this.unitParts(1, B, false, false);
    const lists: Call[][] = (parts ?? [undefined]).map(() => []);
    for (let l = 0; l < L; l++) {
      // T = 1, from one half of the state buffers (L layers each) into the other.
      const h = (half: number) => a.at('h') + (half * L + l) * B * R * 4;
      const c = (half: number) => (kind === 'LSTM' ? a.at('c') + (half * L + l) * B * H * 4 : 0), g = a.at('g');
      const b: LayerBuffers = {
        xin: l === 0 ? a.at('x') : a.at(`o${l - 1}`), out: a.at(`o${l}`), ldo: R, h0: h(from), hN: h(1 - from), c0: c(from), cN: c(1 - from),
        g, cs: a.at('cs'), hp: P ? a.at('hp') : 0, hn: a.at('hn'), hg: a.at('hg'), pre: g, lens: 0,
        pv: parts ? a.at('pv') : 0, // one layer at a time: every layer's split calls reuse it
      };
      (parts ?? [undefined]).forEach((u, i) => lists[i].push(this.layerCall(1, B, l, 0, l === 0 ? I : R, u, b)));
    }
    if (parts) return { x: a.at('x'), out: a.at(`o${L - 1}`), run: () => this.run(lists, true), threads: e.threads };
    // One thread: each call bound once, so a step is L plain function calls.
    const k = e.kernels as unknown as Record<string, (...args: number[]) => void>;
    const layers = lists[0].map(([name, ...args]) => { const f = k[name]; return () => f(...args); });
    return { x: a.at('x'), out: a.at(`o${L - 1}`), run: () => { for (let l = 0; l < layers.length; l++) layers[l](); }, threads: e.threads };
  }

  /**
   * Start streaming (step()) with `batch` sequences, from zero state or from h0 (L, B, R) and,
   * for LSTM, c0 (L, B, H). Not for bidirectional models (the reverse direction needs the future).
   */
  resetState(batch = 1, state: { h0?: TensorLike; c0?: TensorLike } = {}): void {
    this.live();
    const { inputSize: I, hiddenSize: H, numLayers: L, projSize: P, kind, bidirectional } = this.config;
    if (bidirectional) throw new StateError(`${kind}.resetState: step() runs forward in time; a bidirectional model needs whole sequences (forward)`);
    const B = positiveInt(batch, `${kind}.resetState: batch`), R = this.outputSize, G = GATES[kind] * H;
    const [h0, c0] = statePair(kind, state.h0, state.c0, ['h0', 'c0'], [L, B, R], [L, B, H], `${kind}.resetState`);
    const lstm = kind === 'LSTM', gru = kind === 'GRU';
    const r: [string, number][] = [['x', B * I], ['h', 2 * L * B * R], ['c', lstm ? 2 * L * B * H : 0], ['g', B * G], ['cs', lstm ? B * H : 0],
      ['hp', P ? B * H : 0], ['hn', gru ? B * H : 0], ['hg', gru ? B * G : 0], ['pv', privPerUnit(kind, 1, B) * H]];
    for (let l = 0; l < L; l++) r.push([`o${l}`, B * R]);
    this.stepArena.ensure(`step ${B}`, r);
    const e = this.engine, a = this.stepArena;
    if (h0) e.write(a.at('h'), h0.data); else e.zero(a.at('h'), L * B * R);
    if (c0) e.write(a.at('c'), c0.data); else if (lstm) e.zero(a.at('c'), L * B * H);
    this.stepState = { B, cur: 0 };
    this.stepEpoch = -1; // the step arena was (re)carved: resolve the addresses again
  }

  /** The step() session (batch and state) to put back later with restoreStreamState(); null when there is none. */
  streamState(): { batch: number; h0: Tensor; c0?: Tensor } | null {
    if (!this.stepState) return null;
    const { h, c } = this.state;
    return { batch: this.stepState.B, h0: h, ...(c ? { c0: c } : {}) };
  }

  /** Put back a streamState() (null: no session, step() then asks for resetState()). */
  restoreStreamState(s: { batch: number; h0: Tensor; c0?: Tensor } | null): void {
    if (s) this.resetState(s.batch, s); else { this.live(); this.stepState = null; }
  }

  /** The streaming state: h (L, B, R) and, for LSTM, c (L, B, H). */
  get state(): { h: Tensor; c?: Tensor } {
    this.live();
    const st = this.stepState;
    if (!st) throw new StateError(`${this.config.kind}.state: no streaming state (call resetState first)`);
    const { numLayers: L, hiddenSize: H, kind } = this.config, B = st.B, R = this.outputSize;
    const h = new Tensor(this.engine.read(this.stepArena.at('h') + st.cur * L * B * R * 4, L * B * R), [L, B, R]);
    return kind === 'LSTM' ? { h, c: new Tensor(this.engine.read(this.stepArena.at('c') + st.cur * L * B * H * 4, L * B * H), [L, B, H]) } : { h };
  }

  /** Load a PyTorch state_dict saved as `.safetensors` (F32; F16/BF16/F64 converted). */
  loadSafetensors(bytes: Uint8Array | ArrayBuffer): void {
    this.loadStateDict(readSafetensors(bytes).tensors);
  }
  /** The parameters as a `.safetensors` file (F32), with the config in the metadata. */
  saveSafetensors(): Uint8Array {
    const sd = this.stateDict();
    // loadSafetensors refuses non-finite weights: a diverged model is refused here instead.
    for (const [k, t] of Object.entries(sd)) assertFinite(t.data, `${this.config.kind}.saveSafetensors: parameter '${k}'`);
    return writeSafetensors(sd, { format: 'wasm-rnn/1', config: JSON.stringify(this.config) });
  }

  protected release(): void {
    if (this.barrier) this.engine.release(this.barrier);
    this.barrier = 0;
    for (const sl of this.slices) releaseSlice(this.engine, sl);
    this.slices = [];
    this.packed.release();
    this.stepArena.release();
    this.edges.y.release(); this.edges.dx.release();
    this.stepState = null;
    this.pending = null;
  }


  /**
   * The weights packed for the kernels, refreshed when params.version moves: for the forward,
   * each matrix W as panels of Wᵀ (f32_pack_w); with `backward`, also as panels of W itself
   * (f32_pack_wt, region `<name>^T`), packed only once a backward needs them.
   */
  private pack(backward = false): void {
    const p = this.params, k = this.engine.kernels;
    // Once a backward has run, keep both forms (a training loop needs them every step).
    if (backward) this.packsBackward = true;
    backward = this.packsBackward;
    if (this.packedVersion === p.version && (this.packedBackward || !backward)) return;
    const mats = p.slices.filter((s) => s.shape.length === 2);
    this.packed.ensure(`packed ${backward}`, mats.flatMap((s) => [[s.name, k.f32_packed_size(s.shape[0], s.shape[1])],
      ...(backward ? [[`${s.name}^T`, k.f32_packed_size(s.shape[1], s.shape[0])]] : [])] as [string, number][]));
    for (const { name, shape: [rows, cols] } of mats) {
      k.f32_pack_w(rows, cols, p.addr(name), cols, this.packed.at(name));
      if (backward) k.f32_pack_wt(cols, rows, p.addr(name), cols, this.packed.at(`${name}^T`));
    }
    this.packedVersion = p.version;
    this.packedBackward = backward;
    this.packEpoch++;
  }

  /** Working memory of a forward over (T, B): inputs, states, outputs and what backward needs. */
  private forwardRegions(T: number, B: number, dropped: boolean, split: boolean): [string, number][] {
    const { kind, inputSize: I, hiddenSize: H, numLayers: L, projSize: P } = this.config;
    const D = this.numDirections, R = this.outputSize, G = GATES[kind] * H, TB = T * B;
    const r: [string, number][] = [['x', TB * I], ['h0', D * L * B * R], ['hN', D * L * B * R], ['lens', B]];
    if (kind === 'LSTM') r.push(['c0', D * L * B * H], ['cN', D * L * B * H]);
    // Per-step scratch the split kernels keep in their private regions instead.
    if (kind === 'GRU' && !split) r.push(['hg', B * G]);
    if (kind === 'RNN' && !split) r.push(['pre', TB * H]);
    for (let l = 0; l < L; l++) {
      r.push([`out${l}`, TB * D * R]);
      if (dropped && l < L - 1) r.push([`dm${l}`, TB * D * R], [`xd${l}`, TB * D * R]); // masks, masked inputs
      for (let d = 0; d < D; d++) {
        const ld = l * D + d;
        if (kind === 'LSTM') { r.push([`g${ld}`, TB * G], [`cs${ld}`, TB * H]); if (P) r.push([`hp${ld}`, TB * H]); }
        if (kind === 'GRU') r.push([`g${ld}`, TB * G], [`hn${ld}`, TB * H]);
        if (split) r.push([`pv${ld}`, privPerUnit(kind, T, B) * H]);
      }
    }
    return r;
  }

  /** Working memory of a backward over one slice (allocated on the first backward at its shape). */
  private ensureBackwardArena(sl: Slice, T: number): void {
    const { kind, inputSize: I, hiddenSize: H, numLayers: L, projSize: P } = this.config;
    const D = this.numDirections, R = this.outputSize, G = GATES[kind] * H, B = sl.B, TB = T * B;
    sl.bwd.ensure(`${T}x${B}`, () => {
      const r: [string, number][] = [['dout', TB * D * R], ['dhN', D * L * B * R], ['dh0', D * L * B * R], ['dg', TB * gradStride(G)],
        ['stash', B * (R + H)]];
      if (kind === 'LSTM') r.push(['dcN', D * L * B * H], ['dc0', D * L * B * H]);
      if (kind === 'LSTM' && P) r.push(['dhs', TB * P], ['dhpre', B * H]);
      if (kind === 'GRU') r.push(['dg2', TB * gradStride(G)]);
      for (let l = 0; l < L; l++) r.push([`dx${l}`, TB * (l === 0 ? I : D * R)]);
      return r;
    });
  }


}

export class LSTM extends Recurrent {
  constructor(options: LSTMOptions) { super('LSTM', options); }
}
export class GRU extends Recurrent {
  constructor(options: RecurrentOptions) { super('GRU', options); }
}
export class RNN extends Recurrent {
  constructor(options: RNNOptions) { super('RNN', options); }
}
