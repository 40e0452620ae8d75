// Optimizers shaped like torch.optim (1.13): SGD, RMSprop, Adam, AdamW, Adagrad, with torch's
// option names in camelCase and torch's defaults. A step is one WASM call per ParameterStore over
// its flat parameter and gradient buffers (llm.c's one-loop `gpt2_update`); the update equations
// are written out in assembly/kernels/optim.ts. References: torch.optim docs (1.13); Nesterov
// momentum, Sutskever et al. 2013; RMSProp, Tieleman & Hinton 2012 (centered: Graves 2013);
// Adam, Kingma & Ba 2015; AdamW, Loshchilov & Hutter 2019; Adagrad, Duchi et al. 2011.
//
// State lives in WASM memory: per store, one buffer per state name (torch's names) with the
// store's layout, allocated once in the constructor. Padding floats between slices stay 0.
import type { Engine } from '../engine/engine.js';
import { FormatError, StateError } from '../errors.js';
import { ParameterStore } from '../nn/params.js';

/** What an optimizer or a clipping function accepts: stores, modules, models, or arrays of them. */
export type ParameterSource =
  | ParameterStore
  | { parameters(): ParameterStore[] }
  | { params: ParameterStore }
  | readonly ParameterSource[];

/** The distinct stores in `params`, in order of first appearance. */
export function collectStores(params: ParameterSource, who: string): ParameterStore[] {
  const out = new Set<ParameterStore>();
  const walk = (p: unknown): void => {
    if (p instanceof ParameterStore) out.add(p);
    else if (Array.isArray(p)) p.forEach(walk);
    else if (p && typeof p === 'object' && typeof (p as { parameters?: unknown }).parameters === 'function') {
      walk((p as { parameters(): ParameterStore[] }).parameters());
    } else if (p && typeof p === 'object' && (p as { params?: unknown }).params instanceof ParameterStore) {
      out.add((p as { params: ParameterStore }).params);
    } else {
      throw new TypeError(`${who}: expected a ParameterStore, a module with parameters(), a model with .params, or an array of them`);
    }
  };
  walk(params);
  return [...out];
}

/** A checkpoint of an optimizer: step count, options (lr included) and copies of every buffer. */
export interface OptimizerStateDict<O = Record<string, unknown>> {
  step: number;
  options: O;
  /** `${storeIndex}.${stateName}` (e.g. "0.exp_avg") → a copy of that buffer (store.size floats). */
  buffers: Record<string, Float32Array>;
}

// ---- option validation ------------------------------------------------------------------------

interface Rule { def: unknown; ok: (v: unknown) => boolean; want: string }
type Rules<O> = { [K in keyof O]: Rule };

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const positive: Omit<Rule, 'def'> = { ok: (v) => isNum(v) && v > 0, want: 'a positive finite number' };
const nonNegative: Omit<Rule, 'def'> = { ok: (v) => isNum(v) && v >= 0, want: 'a finite number ≥ 0' };
const finite: Omit<Rule, 'def'> = { ok: isNum, want: 'a finite number' };
const flag: Omit<Rule, 'def'> = { ok: (v) => typeof v === 'boolean', want: 'true or false' };
const betas: Omit<Rule, 'def'> = {
  ok: (v) => Array.isArray(v) && v.length === 2 && v.every((b) => isNum(b) && b >= 0 && b < 1),
  want: 'two numbers in [0, 1)',
};
const rule = (r: Omit<Rule, 'def'>, def: unknown): Rule => ({ ...r, def });

/** Defaults filled in, every option checked, unknown names rejected (RangeError naming the option). */
function resolve<O>(kind: string, given: object | undefined, rules: Rules<O>): O {
  if (given !== undefined && (given === null || typeof given !== 'object')) {
    throw new RangeError(`${kind}: options must be an object`);
  }
  const g = (given ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(g)) {
    if (!(name in rules)) throw new RangeError(`${kind}: unknown option '${name}' (options: ${Object.keys(rules).join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, r] of Object.entries(rules) as [string, Rule][]) {
    const v = g[name] === undefined ? r.def : g[name];
    if (!r.ok(v)) throw new RangeError(`${kind}: option '${name}' must be ${r.want}, got ${typeof v === 'number' ? v : JSON.stringify(v) ?? String(v)}`);
    out[name] = Array.isArray(v) ? [...v] : v;
  }
  return out as O;
}

// ---- the base -----------------------------------------------------------------------------------

type Buffers = Record<string, number>; // state name → byte address, for one store

export abstract class Optimizer<O extends { lr: number } = { lr: number }> {
  readonly stores: readonly ParameterStore[];
  readonly engine: Engine;
  /** The lr schedulers scale (torch's param_group['initial_lr']); set by the first scheduler. */
  initialLr: number | undefined;
  protected opts: O;
  private readonly bufs: Buffers[] = [];
  private t = 0;
  private disposed = false;

  private readonly names: readonly string[];

  protected constructor(readonly kind: string, params: ParameterSource, options: O,
                        private readonly rules: Rules<O>) {
    const stores = collectStores(params, kind);
    if (stores.length === 0) throw new RangeError(`${kind}: no parameters to optimize`);
    const engine = stores[0].engine;
    if (stores.some((s) => s.engine !== engine)) throw new RangeError(`${kind}: all parameters must live in one engine`);
    for (const s of stores) s.paramsPtr; // throws if a store was disposed
    this.stores = stores;
    this.engine = engine;
    this.opts = options;
    this.names = this.stateNames(options);
    for (const s of stores) {
      const b: Buffers = {};
      for (const name of this.names) {
        b[name] = engine.alloc(s.size);
        engine.zero(b[name], s.size);
      }
      this.bufs.push(b);
    }
  }

  /** Learning rate. The setter accepts any finite lr ≥ 0 (a cosine schedule ends at 0). */
  get lr(): number { return this.opts.lr; }
  set lr(v: number) {
    if (!nonNegative.ok(v)) throw new RangeError(`${this.kind}: lr must be a finite number ≥ 0, got ${v}`);
    this.opts.lr = v;
  }

  /** Steps taken (torch's state['step']). */
  get stepCount(): number { return this.t; }

  /** A copy of the options (lr as last set: a schedule may have taken it to 0). */
  get options(): Readonly<O> {
    return Object.fromEntries(Object.entries(this.opts).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])) as O;
  }

  /** One update of every store from its accumulated gradients. */
  step(): void {
    this.live();
    for (const s of this.stores) s.paramsPtr; // throws if a store was disposed, before counting
    this.t++;
    this.stores.forEach((s, i) => { this.update(s, this.bufs[i], this.t); s.markChanged(); });
  }

  /** Zero every store's gradient buffer (backward accumulates with +=). */
  zeroGrad(): void {
    this.live();
    for (const s of this.stores) s.zeroGrad();
  }

  stateDict(): OptimizerStateDict<O> {
    this.live();
    const buffers: Record<string, Float32Array> = {};
    this.stores.forEach((s, i) => {
      for (const name of this.names) buffers[`${i}.${name}`] = this.engine.read(this.bufs[i][name], s.size);
    });
    return { step: this.t, options: this.options, buffers };
  }

  /** Restore a stateDict() of an optimizer of the same kind and layout. Validates all first. */
  loadStateDict(sd: OptimizerStateDict<object>): void {
    this.live();
    if (!sd || typeof sd !== 'object') throw new FormatError(`${this.kind}: state dict must be an object`);
    if (!Number.isSafeInteger(sd.step) || sd.step < 0) {
      throw new FormatError(`${this.kind}: state dict 'step' must be an integer ≥ 0, got ${sd.step}`);
    }
    let options: O;
    try {
      // lr as the setter takes it (≥ 0): a state saved at the end of a schedule may hold 0.
      options = resolve<O>(this.kind, sd.options as object, { ...this.rules, lr: rule(nonNegative, undefined) } as Rules<O>);
    } catch (err) {
      throw new FormatError(`state dict options: ${(err as Error).message}`);
    }
    const names = this.stateNames(options);
    if (names.join() !== this.names.join()) {
      throw new FormatError(`${this.kind}: state dict options need buffers [${names.join(', ')}], this optimizer has [${this.names.join(', ')}]`);
    }
    const given = sd.buffers && typeof sd.buffers === 'object' ? sd.buffers : {};
    const want = this.stores.flatMap((s, i) => this.names.map((n) => [`${i}.${n}`, s.size] as const));
    const extra = Object.keys(given).filter((k) => !want.some(([w]) => w === k));
    if (extra.length) throw new FormatError(`${this.kind}: unexpected state buffers: ${extra.join(', ')}`);
    for (const [key, size] of want) {
      const b = given[key];
      if (!b || typeof b.length !== 'number') throw new FormatError(`${this.kind}: missing state buffer '${key}'`);
      if (b.length !== size) throw new FormatError(`${this.kind}: state buffer '${key}' has ${b.length} floats, expected ${size}`);
      for (let i = 0; i < b.length; i++) {
        if (!Number.isFinite(b[i])) throw new FormatError(`${this.kind}: state buffer '${key}' has a non-finite value (${b[i]}) at ${i}`);
      }
    }
    this.stores.forEach((_, i) => { for (const n of this.names) this.engine.write(this.bufs[i][n], given[`${i}.${n}`]); });
    this.opts = options;
    this.t = sd.step;
  }

  /** Free the state buffers (the parameter stores belong to their models and stay). */
  dispose(): void {
    if (this.disposed) return;
    for (const b of this.bufs) for (const name of this.names) this.engine.release(b[name]);
    this.disposed = true;
  }

  /** Byte address of state buffer `name` of store i. */
  protected stateAddr(i: number, name: string): number { return this.bufs[i][name]; }
  /** The state buffers these options need (pure: the base constructor calls it). */
  protected abstract stateNames(o: O): string[];
  /** Apply one update to store s; t is the 1-based step number. */
  protected abstract update(s: ParameterStore, b: Buffers, t: number): void;

  private live(): void {
    if (this.disposed) throw new StateError(`${this.kind}: the optimizer was disposed`);
  }
}

// ---- SGD ----------------------------------------------------------------------------------------

export interface SGDOptions { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }

const SGD_RULES: Rules<SGDOptions> = {
  lr: rule(positive, undefined), // required, as in torch
  momentum: rule(nonNegative, 0), dampening: rule(finite, 0), weightDecay: rule(nonNegative, 0), nesterov: rule(flag, false),
};

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParameterSource, options: { lr: number } & Partial<SGDOptions>) {
    const o = resolve('SGD', options, SGD_RULES);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new RangeError('SGD: nesterov requires momentum > 0 and dampening = 0 (torch\'s rule)');
    }
    super('SGD', params, o, SGD_RULES);
  }
  protected stateNames(o: SGDOptions): string[] { return o.momentum !== 0 ? ['momentum_buffer'] : []; }
  protected update(s: ParameterStore, b: Buffers, t: number): void {
    const o = this.opts;
    this.engine.kernels.f32_sgd_step(s.size, s.paramsPtr, s.gradsPtr, b.momentum_buffer ?? 0, o.lr,
      o.momentum, o.dampening, o.weightDecay, +o.nesterov, t === 1 ? 1 : 0);
  }
}

// ---- RMSprop ------------------------------------------------------------------------------------

export interface RMSpropOptions { lr: number; alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean }

const RMSPROP_RULES: Rules<RMSpropOptions> = {
  lr: rule(positive, 1e-2), alpha: rule(nonNegative, 0.99), eps: rule(nonNegative, 1e-8),
  weightDecay: rule(nonNegative, 0), momentum: rule(nonNegative, 0), centered: rule(flag, false),
};

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParameterSource, options?: Partial<RMSpropOptions>) {
    const o = resolve('RMSprop', options, RMSPROP_RULES);
    super('RMSprop', params, o, RMSPROP_RULES);
  }
  protected stateNames(o: RMSpropOptions): string[] {
    return ['square_avg', ...(o.momentum > 0 ? ['momentum_buffer'] : []), ...(o.centered ? ['grad_avg'] : [])];
  }
  protected update(s: ParameterStore, b: Buffers): void {
    const o = this.opts;
    this.engine.kernels.f32_rmsprop_step(s.size, s.paramsPtr, s.gradsPtr, b.square_avg, b.grad_avg ?? 0,
      b.momentum_buffer ?? 0, o.lr, o.alpha, o.eps, o.weightDecay, o.momentum, +o.centered);
  }
}

// ---- Adam and AdamW -----------------------------------------------------------------------------

export interface AdamOptions { lr: number; betas: [number, number]; eps: number; weightDecay: number; amsgrad: boolean }

const adamRules = (weightDecay: number): Rules<AdamOptions> => ({
  lr: rule(positive, 1e-3), betas: rule(betas, [0.9, 0.999]), eps: rule(nonNegative, 1e-8),
  weightDecay: rule(nonNegative, weightDecay), amsgrad: rule(flag, false),
});

/** Adam and AdamW differ only in where weight decay goes: into the gradient, or onto p directly. */
abstract class AdamFamily extends Optimizer<AdamOptions> {
  protected constructor(kind: string, params: ParameterSource, options: Partial<AdamOptions> | undefined,
                        private readonly decoupled: boolean) {
    const rules = adamRules(decoupled ? 1e-2 : 0);
    const o = resolve(kind, options, rules);
    super(kind, params, o, rules);
  }
  protected stateNames(o: AdamOptions): string[] { return ['exp_avg', 'exp_avg_sq', ...(o.amsgrad ? ['max_exp_avg_sq'] : [])]; }
  protected update(s: ParameterStore, b: Buffers, t: number): void {
    const { lr, betas: [b1, b2], eps, weightDecay: wd, amsgrad } = this.opts;
    const stepSize = lr / (1 - b1 ** t), bc2Sqrt = Math.sqrt(1 - b2 ** t);
    this.engine.kernels.f32_adam_step(s.size, s.paramsPtr, s.gradsPtr, b.exp_avg, b.exp_avg_sq,
      b.max_exp_avg_sq ?? 0, b1, b2, eps, this.decoupled ? 0 : wd, this.decoupled ? 1 - lr * wd : 1,
      stepSize, bc2Sqrt, +amsgrad);
  }
}

/** Adam (Kingma & Ba 2015); weightDecay is an L2 term added to the gradient. */
export class Adam extends AdamFamily {
  constructor(params: ParameterSource, options?: Partial<AdamOptions>) { super('Adam', params, options, false); }
}

/** AdamW (Loshchilov & Hutter 2019): p *= 1 − lr·weightDecay before the Adam step; default 1e-2. */
export class AdamW extends AdamFamily {
  constructor(params: ParameterSource, options?: Partial<AdamOptions>) { super('AdamW', params, options, true); }
}

// ---- Adagrad ------------------------------------------------------------------------------------

export interface AdagradOptions { lr: number; lrDecay: number; weightDecay: number; initialAccumulatorValue: number; eps: number }

const ADAGRAD_RULES: Rules<AdagradOptions> = {
  lr: rule(positive, 1e-2), lrDecay: rule(nonNegative, 0), weightDecay: rule(nonNegative, 0),
  initialAccumulatorValue: rule(nonNegative, 0), eps: rule(nonNegative, 1e-10),
};

export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: ParameterSource, options?: Partial<AdagradOptions>) {
    const o = resolve('Adagrad', options, ADAGRAD_RULES);
    super('Adagrad', params, o, ADAGRAD_RULES);
    this.stores.forEach((s, i) => this.engine.kernels.f32_fill(s.size, this.stateAddr(i, 'sum'), o.initialAccumulatorValue));
  }
  protected stateNames(): string[] { return ['sum']; }
  protected update(s: ParameterStore, b: Buffers, t: number): void {
    const o = this.opts;
    this.engine.kernels.f32_adagrad_step(s.size, s.paramsPtr, s.gradsPtr, b.sum,
      o.lr / (1 + (t - 1) * o.lrDecay), o.weightDecay, o.eps);
  }
}
