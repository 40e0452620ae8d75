// A model's working memory for one shape: named regions carved out of one block. The block is
// kept while the shapes repeat and reused when they shrink (the regions are carved again); it
// is replaced only when a shape needs more. Nothing is allocated per call or per step.
import type { Engine } from '../engine/engine.js';

export class Arena {
  private key = '';
  private ptr = -1;
  private capacity = 0; // floats
  private regions = new Map<string, number>();

  constructor(private readonly engine: Engine) {}

  /**
   * Make sure the regions for `key` exist; `sizes` lists [name, floats], or is a function that
   * lists them, called only when the key changed. Returns true when the layout changed (what the
   * regions held before is then gone).
   */
  ensure(key: string, sizes: [string, number][] | (() => [string, number][])): boolean {
    if (key === this.key) return false;
    let total = 0;
    const offsets: [string, number][] = [];
    for (const [name, n] of typeof sizes === 'function' ? sizes() : sizes) {
      offsets.push([name, total]);
      total += Math.ceil(n / 16) * 16; // 64-byte aligned regions (cache lines, see heap.ts); sizes may pass 2³¹
    }
    total = Math.max(total, 4);
    if (total > this.capacity) {
      this.release();
      this.ptr = this.engine.alloc(total);
      this.capacity = total;
    }
    this.regions.clear();
    for (const [name, off] of offsets) this.regions.set(name, this.ptr + off * 4);
    this.key = key;
    return true;
  }

  /** Byte address of a region. */
  at(name: string): number {
    const p = this.regions.get(name);
    if (p === undefined) throw new Error(`wasm-rnn: arena has no region '${name}'`);
    return p;
  }

  release(): void {
    if (this.ptr >= 0) this.engine.release(this.ptr);
    this.ptr = -1;
    this.capacity = 0;
    this.key = '';
    this.regions.clear();
  }
}
