// A model's working memory for one (T, B): named regions carved out of one block, reused while
// the shapes repeat, replaced only when they change. Nothing is allocated per call or per step.
import type { Engine } from '../engine/engine.js';

export class Arena {
  private key = '';
  private ptr = -1;
  private regions = new Map<string, number>();

  constructor(private readonly engine: Engine) {}

  /** Make sure the regions for `key` exist; `sizes` lists [name, floats]. Returns true if (re)allocated. */
  ensure(key: string, sizes: [string, number][]): boolean {
    if (key === this.key) return false;
    this.release();
    let total = 0;
    const offsets = new Map<string, number>();
    for (const [name, n] of sizes) {
      offsets.set(name, total);
      total += (n + 3) & ~3; // 16-byte aligned regions
    }
    this.ptr = this.engine.alloc(Math.max(total, 4));
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
    this.key = '';
    this.regions.clear();
  }
}
