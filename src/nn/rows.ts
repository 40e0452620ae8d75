// Moving (T, B, C) rows between the API's arrays and a batch slice's memory: time-major or
// batch-first, the whole batch or sequences b0 … b0+n-1 of it.
import type { Engine } from '../engine/engine.js';

/** Zero the rows of padded steps in a (T, B, C) or (B, T, C) array. */
export function zeroPadded(data: Float32Array, lengths: Int32Array, T: number, B: number, C: number, batchFirst: boolean): void {
  for (let b = 0; b < B; b++) for (let t = lengths[b]; t < T; t++) {
    const row = batchFirst ? b * T + t : t * B + b;
    data.fill(0, row * C, (row + 1) * C);
  }
}

/**
 * Rows b0 … b0+n-1 of an (N, B, C) array (or of a (B, N, C) one when batchFirst) into memory at
 * ptr as (N, n, C): one slice of the batch, time-major.
 */
export function scatterRows(e: Engine, ptr: number, src: Float32Array, N: number, B: number, C: number, batchFirst: boolean, b0: number, n: number): void {
  const m = e.f32, base = ptr >>> 2;
  if (!batchFirst && n === B) { m.set(src, base); return; }
  if (!batchFirst) { // the slice's rows of step t are contiguous: one copy per step
    for (let t = 0; t < N; t++) m.set(src.subarray((t * B + b0) * C, (t * B + b0 + n) * C), base + t * n * C);
    return;
  }
  for (let t = 0; t < N; t++) for (let b = 0; b < n; b++) {
    const row = (b0 + b) * N + t;
    m.set(src.subarray(row * C, (row + 1) * C), base + (t * n + b) * C);
  }
}

/** The inverse of scatterRows: a slice's (N, n, C) rows from memory into the whole array. */
export function gatherRows(e: Engine, ptr: number, dst: Float32Array, N: number, B: number, C: number, batchFirst: boolean, b0: number, n: number): void {
  const m = e.f32, base = ptr >>> 2;
  if (!batchFirst && n === B) { dst.set(m.subarray(base, base + N * B * C)); return; }
  if (!batchFirst) {
    for (let t = 0; t < N; t++) dst.set(m.subarray(base + t * n * C, base + (t + 1) * n * C), (t * B + b0) * C);
    return;
  }
  for (let t = 0; t < N; t++) for (let b = 0; b < n; b++) {
    const row = (b0 + b) * N + t;
    dst.set(m.subarray(base + (t * n + b) * C, base + (t * n + b + 1) * C), row * C);
  }
}
