// Twin harness shared by the kernel tests of the training side (loss.test.ts, layers.test.ts):
// every buffer sits between guard words; inputs' guards are NaN (a stray read poisons the
// result), outputs' guards a sentinel. Both the SIMD kernel and its scalar twin run on fresh
// copies, and both must leave guards, row padding and inputs untouched bit for bit.
import { expect } from 'vitest';
import type { Engine } from '../../src/index.js';

const GUARD = 4;
const NAN_BITS = 0x7fc0dead, SENTINEL_BITS = 0x4640e400; // a quiet NaN; 12345.0

/** A buffer: its data, whether the kernels write it, and (rows, cols, ld) when rows are padded. */
export type Buf = { data: Float32Array | Int32Array; out?: boolean; pad?: [rows: number, cols: number, ld: number] };
/** One run: the kernel's return value and every buffer's contents afterwards. */
export type Run = { ret: number; out: Record<string, Float32Array> };

export function runBoth(e: Engine, bufs: Record<string, Buf>, call: (p: Record<string, number>, twin: boolean) => number | void): [Run, Run] {
  const runs = [false, true].map((twin): Run => {
    const p: Record<string, number> = {}, blocks: [string, number][] = [];
    for (const [name, b] of Object.entries(bufs)) {
      const ptr = e.alloc(b.data.length + 2 * GUARD), u = new Uint32Array(e.memory.buffer);
      u.fill(b.out ? SENTINEL_BITS : NAN_BITS, ptr >>> 2, (ptr >>> 2) + b.data.length + 2 * GUARD);
      u.set(new Uint32Array(b.data.buffer, b.data.byteOffset, b.data.length), (ptr >>> 2) + GUARD);
      p[name] = ptr + GUARD * 4;
      blocks.push([name, ptr]);
    }
    const ret = Number(call(p, twin) ?? 0);
    const out: Record<string, Float32Array> = {};
    for (const [name, ptr] of blocks) {
      const b = bufs[name], n = b.data.length, who = twin ? 'twin' : 'SIMD';
      const img = new Uint32Array(e.memory.buffer).slice(ptr >>> 2, (ptr >>> 2) + n + 2 * GUARD);
      const g = b.out ? SENTINEL_BITS : NAN_BITS, orig = new Uint32Array(b.data.buffer, b.data.byteOffset, n);
      for (let i = 0; i < GUARD; i++) expect([img[i], img[GUARD + n + i]], `${name} guards (${who})`).toEqual([g, g]);
      for (let i = 0; i < n; i++) {
        const isPad = b.pad && i % b.pad[2] >= b.pad[1];
        if (!b.out || isPad) expect(img[GUARD + i], `${name}[${i}] ${isPad ? 'padding' : 'input'} changed (${who})`).toBe(orig[i]);
      }
      out[name] = new Float32Array(img.buffer, GUARD * 4, n);
      e.release(ptr);
    }
    return { ret, out };
  });
  return [runs[0], runs[1]];
}

/** rows × cols logical data stored with row stride ld; padding NaN (inputs) or sentinel (outputs). */
export function strided(rows: number, cols: number, ld: number, logical: Float32Array | null, out = false): Buf {
  const d = new Float32Array(rows * ld).fill(out ? 12345 : NaN);
  if (logical) for (let r = 0; r < rows; r++) d.set(logical.subarray(r * cols, (r + 1) * cols), r * ld);
  return { data: d, out, pad: [rows, cols, ld] };
}
