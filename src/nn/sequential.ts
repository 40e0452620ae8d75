// Composition: modules applied in order, backward in reverse. Recurrent layers (RNN, LSTM, GRU)
// join through an adapter that passes the batch's lengths and, in stateful mode, carries
// their final state into the next forward as its initial state: values only, so gradients
// stop at the chunk boundary (truncated BPTT).
import { FormatError, ShapeError } from '../errors.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { Resident, materialize, type BackwardOptions, type Context, type Module } from './module.js';
import type { ParameterStore } from './params.js';
import { Recurrent } from './recurrent.js';

/** A recurrent layer as a Module: time-major (T, B, F) in, output (T, B, D·R) out. */
export class RecurrentModule implements Module {
  /** Carry hN / cN into the next forward (until resetState()). */
  stateful = false;
  private state: { h0?: Tensor; c0?: Tensor } = {};

  constructor(readonly layer: Recurrent) {
    if (layer.config.batchFirst) throw new ShapeError('Sequential: recurrent layers inside a Sequential are time-major (batchFirst: false)');
  }

  forward(x: Tensor, ctx: Context): Tensor {
    return this.run(x, ctx, false) as Tensor;
  }

  forwardResident(x: Tensor | Resident, ctx: Context): Resident {
    return this.run(x, ctx, true) as Resident;
  }

  backward(dy: Tensor, opts?: BackwardOptions): Tensor | null {
    return this.layer.backward({ dOutput: dy, inputGrad: opts?.inputGrad !== false }).dInput ?? null;
  }

  backwardResident(dy: Tensor | Resident, opts?: BackwardOptions): Resident | null {
    return this.layer.backwardResident(dy, opts?.inputGrad !== false);
  }

  /** The layer's forward with the carried state (the output returned as a Tensor, or resident). */
  private run(x: Tensor | Resident, ctx: Context, resident: boolean): Tensor | Resident {
    this.layer.train(ctx.training);
    const B = x.shape[1], held = this.state.h0?.shape[1];
    if (this.stateful && held !== undefined && held !== B) {
      throw new ShapeError(`Sequential (stateful): the carried state is for ${held} sequences, this batch has ${B}; call resetState() first`);
    }
    const state = { ...(this.stateful ? this.state : {}), ...(ctx.lengths ? { lengths: ctx.lengths } : {}) };
    const r = resident ? this.layer.forwardResident(x, state) : this.layer.forward(materialize(x), state);
    if (this.stateful) this.state = { h0: r.hN, ...(r.cN ? { c0: r.cN } : {}) };
    return r.output;
  }

  checkBackward(): void { this.layer.checkBackward(); }
  discardForward(): void { this.layer.discardForward(); }

  /** Forget the carried state (the next forward starts from zeros). */
  resetState(): void {
    this.state = {};
  }

  /** The carried state, e.g. to inspect or save it. */
  get carried(): { h0?: Tensor; c0?: Tensor } {
    return this.state;
  }

  /** Carry this state into the next forward (values; the tensors are not modified). */
  restore(state: { h0?: Tensor; c0?: Tensor }): void {
    this.state = { ...state };
  }

  parameters(): ParameterStore[] {
    return [this.layer.params];
  }

  dispose(): void {
    this.layer.dispose();
  }
}

type Layer = Module | Recurrent;

/** Named-parameter access that every layer kind offers (Recurrent, Linear, Embedding…). */
interface HasStore { params: ParameterStore }

export class Sequential implements Module {
  readonly modules: readonly Module[];
  training = true;

  constructor(readonly layers: readonly Layer[]) {
    if (!Array.isArray(layers) || !layers.length) throw new ShapeError('Sequential: needs an array of at least one layer');
    layers.forEach((l, i) => {
      if (!(l instanceof Recurrent) && !(l && typeof l.forward === 'function' && typeof l.backward === 'function' && typeof l.parameters === 'function')) {
        throw new ShapeError(`Sequential: layer ${i} is not a module (a recurrent layer, or an object with forward, backward and parameters)`);
      }
    });
    this.modules = layers.map((l) => (l instanceof Recurrent ? new RecurrentModule(l) : l));
  }

  train(on = true): this { this.training = on; return this; }
  eval(): this { return this.train(false); }

  /** Stateful mode: recurrent layers keep their final state between forwards until resetState(). */
  set stateful(on: boolean) {
    for (const m of this.modules) if (m instanceof RecurrentModule) m.stateful = on;
  }
  get stateful(): boolean {
    return this.modules.some((m) => m instanceof RecurrentModule && m.stateful);
  }

  resetState(): void {
    for (const m of this.modules) if (m instanceof RecurrentModule) m.resetState();
  }

  /** The carried states of the recurrent layers (stateful mode), to restore later. */
  saveState(): { h0?: Tensor; c0?: Tensor }[] {
    return this.modules.filter((m): m is RecurrentModule => m instanceof RecurrentModule).map((m) => ({ ...m.carried }));
  }

  /** Put back states from saveState(). */
  restoreState(states: { h0?: Tensor; c0?: Tensor }[]): void {
    const rec = this.modules.filter((m): m is RecurrentModule => m instanceof RecurrentModule);
    if (states.length !== rec.length) throw new ShapeError(`Sequential.restoreState: ${states.length} states for ${rec.length} recurrent layers`);
    rec.forEach((m, i) => m.restore(states[i]));
  }

  /**
   * Run the modules in order. A module that refuses its input (say the lengths do not fit, or a
   * stateful batch of another size) comes after earlier ones that already ran on it: then every
   * module forgets its saved forward (backward asks for a new forward instead of mixing two) and
   * the carried states are put back as they were.
   */
  forward(x: Tensor, ctx: Partial<Context> = {}): Tensor {
    const c: Context = { training: ctx.training ?? this.training, ...(ctx.lengths ? { lengths: ctx.lengths } : {}) };
    const carried = this.modules.map((m) => (m instanceof RecurrentModule ? m.carried : null));
    try {
      // Between two modules that both take Residents the activation stays in engine memory; a
      // module runs its Tensor form unless its input or its output stays there.
      let y: Tensor | Resident = x;
      this.modules.forEach((m, i) => {
        const on = !!this.modules[i + 1]?.forwardResident;
        const out: Tensor | Resident = m.forwardResident && (on || y instanceof Resident) ? m.forwardResident(y, c) : m.forward(materialize(y), c);
        y = on ? out : materialize(out);
      });
      return y as Tensor;
    } catch (err) {
      this.discardForward();
      this.modules.forEach((m, i) => { if (m instanceof RecurrentModule) m.restore(carried[i]!); });
      throw err;
    }
  }

  /** Every module's checkBackward (see Module): a backward that would be refused is refused before any gradient is added. */
  checkBackward(): void {
    for (const m of this.modules) m.checkBackward?.();
  }

  discardForward(): void {
    for (const m of this.modules) m.discardForward?.();
  }

  /**
   * Backpropagate dy through the modules in reverse; returns ∂L/∂input, or null with
   * `{ inputGrad: false }`, which skips the first module's input-gradient product (the usual
   * case in training: the input is data). The parameter gradients are the same either way.
   */
  backward(dy: Tensor): Tensor;
  backward(dy: Tensor, opts: BackwardOptions & { inputGrad: false }): null;
  backward(dy: Tensor, opts?: BackwardOptions): Tensor | null;
  backward(dy: Tensor, opts?: BackwardOptions): Tensor | null {
    this.checkBackward();
    let g: Tensor | Resident = dy;
    for (let i = this.modules.length - 1; i > 0; i--) {
      const m = this.modules[i];
      const next: Tensor | Resident | null = m.backwardResident && this.modules[i - 1].backwardResident
        ? m.backwardResident(g) : m.backward(materialize(g));
      if (!next) throw new ShapeError(`Sequential.backward: module ${i} returned no input gradient for module ${i - 1}`);
      g = next;
    }
    const first = this.modules[0];
    const dx = g instanceof Resident ? first.backwardResident!(g, opts) : first.backward(g, opts);
    return opts?.inputGrad === false || !dx ? null : materialize(dx);
  }

  parameters(): ParameterStore[] {
    return this.modules.flatMap((m) => m.parameters());
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Parameters named as torch.nn.Sequential does: `<index>.<name>`. */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    this.stores().forEach((s, i) => { if (s) for (const [k, v] of Object.entries(s.stateDict())) out[`${i}.${k}`] = v; });
    return out;
  }

  gradients(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    this.stores().forEach((s, i) => { if (s) for (const [k, v] of Object.entries(s.gradients())) out[`${i}.${k}`] = v; });
    return out;
  }

  /** Load `<index>.<name>` tensors; everything is validated before anything is written. */
  loadStateDict(record: Record<string, TensorLike>): void {
    const stores = this.stores();
    const per: Record<string, TensorLike>[] = stores.map(() => ({}));
    for (const [k, v] of Object.entries(record)) {
      // The index as torch writes it ('0', '12'): '01', '1e0', ' 1' would alias another key.
      const m = /^(0|[1-9]\d*)\.(.+)$/.exec(k), i = m ? Number(m[1]) : -1;
      if (!m || !stores[i]) throw new FormatError(`Sequential: unexpected parameter '${k}'`);
      per[i][m[2]] = v;
    }
    // Validate all layers first (a throwaway strict check per store), then write.
    stores.forEach((s, i) => s?.validate(per[i]));
    stores.forEach((s, i) => s?.load(per[i]));
  }

  dispose(): void {
    for (const m of this.modules) m.dispose();
  }

  private stores(): (ParameterStore | null)[] {
    return this.modules.map((m) => {
      const inner = m instanceof RecurrentModule ? m.layer : (m as Partial<HasStore>);
      return inner.params ?? null;
    });
  }
}

