// One flat parameter buffer and one flat gradient buffer in WASM memory, with a table of named
// slices (PyTorch state_dict names and shapes). Optimizers, clipping and checkpoints are then
// single loops over one buffer (llm.c's layout, with names instead of positions).
import type { Engine } from '../engine/engine.js';
import { FormatError, StateError } from '../errors.js';
import { Tensor, assertFinite, assertShape, sizeOf, type TensorLike } from '../tensor.js';

export interface ParamSpec { name: string; shape: number[] }
export interface ParamSlice extends ParamSpec { offset: number; size: number } // offset in floats

export class ParameterStore {
  readonly slices: readonly ParamSlice[];
  readonly size: number;
  private readonly byName = new Map<string, ParamSlice>();
  private ptr: number;
  private gptr: number;
  /** Bumped whenever the parameters change, so derived data (packed weights) knows to refresh. */
  version = 0;

  constructor(readonly engine: Engine, specs: ParamSpec[]) {
    let offset = 0;
    const slices: ParamSlice[] = [];
    for (const s of specs) {
      const size = sizeOf(s.shape);
      // Each slice starts on a 16-byte boundary so kernels can stream it as whole vectors.
      const slice = { name: s.name, shape: [...s.shape], offset, size };
      slices.push(slice);
      this.byName.set(s.name, slice);
      offset += Math.ceil(size / 4) * 4;
    }
    this.slices = slices;
    this.size = offset;
    this.ptr = engine.alloc(offset);
    this.gptr = engine.alloc(offset);
    engine.zero(this.ptr, offset);
    engine.zero(this.gptr, offset);
  }

  /** Byte address of the flat parameter buffer. */
  get paramsPtr(): number { this.live(); return this.ptr; }
  /** Byte address of the flat gradient buffer (same layout). */
  get gradsPtr(): number { this.live(); return this.gptr; }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  slice(name: string): ParamSlice {
    const s = this.byName.get(name);
    if (!s) throw new Error(`wasm-rnn: no parameter '${name}'`);
    return s;
  }

  /**
   * Byte address of a parameter inside a buffer laid out like this store's (its parameters, its
   * gradients, or a thread's private gradient buffer), or 0 when there is no such parameter.
   */
  addrIn(base: number, name: string): number {
    const s = this.byName.get(name);
    return s ? base + s.offset * 4 : 0;
  }

  /** Byte address of a parameter, or 0 when the model has no such parameter (e.g. no bias). */
  addr(name: string): number { return this.addrIn(this.paramsPtr, name); }

  gradAddr(name: string): number { return this.addrIn(this.gradsPtr, name); }

  /** A copy of one parameter. */
  get(name: string): Tensor {
    const s = this.slice(name);
    return new Tensor(this.engine.read(this.paramsPtr + s.offset * 4, s.size), s.shape);
  }

  /** Overwrite one parameter (validated: size and finite values). */
  set(name: string, data: ArrayLike<number>): void {
    const s = this.slice(name);
    if (data.length !== s.size) throw new FormatError(`parameter '${name}' has ${s.size} values, got ${data.length}`);
    assertFinite(data, `parameter '${name}'`);
    this.engine.write(this.paramsPtr + s.offset * 4, data);
    this.version++;
  }

  /** Copies of every parameter, by name, in PyTorch's layout. */
  stateDict(): Record<string, Tensor> {
    return this.collect(this.paramsPtr);
  }

  /** Copies of every accumulated gradient, by name. */
  gradients(): Record<string, Tensor> {
    return this.collect(this.gradsPtr);
  }

  /**
   * Load parameters by name. Everything is validated first (names, shapes, finite values);
   * on any error nothing is written. `strict` (default) requires exactly the model's names.
   */
  load(record: Record<string, TensorLike>, strict = true): void {
    for (const [s, data] of this.validate(record, strict)) this.engine.write(this.ptr + s.offset * 4, data);
    this.version++;
  }

  /** Say that the parameters were written directly in memory (optimizers, restores). */
  markChanged(): void {
    this.version++;
  }

  /** Check a state dict against this store without writing; returns what load would write. */
  validate(record: Record<string, TensorLike>, strict = true): [ParamSlice, Float32Array][] {
    this.live();
    if (record === null || typeof record !== 'object') throw new FormatError('state dict must be an object of tensors');
    const names = Object.keys(record);
    const missing = this.slices.filter((s) => !(s.name in record)).map((s) => s.name);
    const unexpected = names.filter((n) => !this.byName.has(n));
    if (strict && (missing.length || unexpected.length)) {
      const parts = [];
      if (missing.length) parts.push(`missing: ${missing.join(', ')}`);
      if (unexpected.length) parts.push(`unexpected: ${unexpected.join(', ')}`);
      throw new FormatError(`state dict does not match the model (${parts.join('; ')})`);
    }
    const staged: [ParamSlice, Float32Array][] = [];
    for (const name of names) {
      const s = this.byName.get(name);
      if (!s) continue;
      const t = Tensor.from(record[name], name);
      assertShape(t.shape, s.shape, `parameter '${name}'`);
      assertFinite(t.data, `parameter '${name}'`);
      staged.push([s, t.data]);
    }
    return staged;
  }

  zeroGrad(): void {
    this.engine.zero(this.gradsPtr, this.size);
  }

  dispose(): void {
    if (this.ptr < 0) return;
    this.engine.release(this.ptr);
    this.engine.release(this.gptr);
    this.ptr = this.gptr = -1;
  }

  private collect(base: number): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const s of this.slices) out[s.name] = new Tensor(this.engine.read(base + s.offset * 4, s.size), s.shape);
    return out;
  }

  private live(): void {
    if (this.ptr < 0) throw new StateError('wasm-rnn: the model was disposed');
  }
}
