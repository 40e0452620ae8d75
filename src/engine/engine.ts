// Loading the WASM module and the one engine every model shares.
// The module imports its memory (env.memory), so the threads build can hand the same shared
// memory to its workers (pool.ts); typed-array views are rebuilt whenever the buffer changed
// (memory.grow detaches the old ArrayBuffer), never cached across a grow.
import { StateError } from '../errors.js';
import { nonFiniteError } from '../tensor.js';
import { Heap } from './heap.js';
import { KERNEL_NAMES, type Kernels, type RefKernels } from './kernels.js';
import { ThreadPool, type Call } from './pool.js';

/** Where the module comes from: a URL or path, its bytes, a compiled module, or a fetch Response. */
export type WasmSource = URL | string | ArrayBuffer | ArrayBufferView | WebAssembly.Module | Response | PromiseLike<Response>;

/** Smallest module using one SIMD instruction (v128.const), for feature detection. */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,       // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,             // type: () -> v128
  0x03, 0x02, 0x01, 0x00,                               // function 0 has type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c,             // code: v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, // 16 zero bytes, end
]);

/** Smallest module using f32x4.relaxed_madd (relaxed SIMD). */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128, v128, v128) -> v128
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // relaxed_madd
]);

export function hasSimd(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
}

/** Relaxed SIMD (Deno, Bun, Chromium, workerd by default; Node 20 behind --experimental-wasm-relaxed-simd). */
export function hasRelaxedSimd(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_PROBE);
}

/** Which build the default loader picks here: the relaxed-SIMD one where the runtime has it. */
export function defaultBuild(): URL {
  const name = hasRelaxedSimd() ? 'wasm-rnn.relaxed.wasm' : 'wasm-rnn.wasm';
  return new URL(`../../build/${name}`, import.meta.url);
}

/** The same pick among the threads builds (shared memory), for engines with threads > 1. */
export function defaultThreadsBuild(): URL {
  const name = hasRelaxedSimd() ? 'wasm-rnn.threads-relaxed.wasm' : 'wasm-rnn.threads.wasm';
  return new URL(`../../build/${name}`, import.meta.url);
}

/** Engine.assertFinite checks blocks of this many floats (a 64 KB scratch region, which stays in L2). */
const CHECK_BLOCK = 16384;

export class Engine {
  readonly kernels: Kernels & RefKernels;
  readonly heap: Heap;
  private view = new Float32Array(0);
  private readonly checkScratch: number;

  /** Worker threads sharing this engine's memory (threaded engines only). */
  pool: ThreadPool | null = null;

  constructor(readonly instance: WebAssembly.Instance, readonly memory: WebAssembly.Memory) {
    const ex = instance.exports as Record<string, unknown>;
    for (const name of KERNEL_NAMES) {
      if (typeof ex[name] !== 'function') throw new StateError(`wasm-rnn: the module has no export '${name}' (a build of another version?)`);
    }
    this.kernels = ex as unknown as Kernels & RefKernels;
    this.heap = new Heap(memory, this.kernels.heap_base());
    // Reserved up front: a check never allocates (which could grow the memory under a view).
    this.checkScratch = this.alloc(CHECK_BLOCK);
  }

  /** Threads that run kernels (1 unless created with `threads`). */
  get threads(): number {
    return this.pool?.size ?? 1;
  }

  /** Run one list of kernel calls per thread (lists[0] here), or all lists here in order. */
  run(lists: readonly (readonly Call[])[]): void {
    if (this.pool && lists.length > 1) { this.pool.run(lists); return; }
    const k = this.kernels as unknown as Record<string, (...a: number[]) => unknown>;
    for (const list of lists) for (const [name, ...args] of list) k[name](...args);
  }

  /**
   * assertFinite (src/tensor.ts: the same check and error) for the Float32Arrays that cross a
   * module edge, in WASM: each block is copied into a scratch region and scanned by
   * f32_nonfinite. 100K floats: ~10 µs against ~45–75 µs for the JS loop. Nothing else in
   * memory is written, so a failed check changes nothing.
   */
  assertFinite(data: Float32Array, what: string): void {
    const p = this.checkScratch;
    for (let i = 0, n = data.length; i < n; i += CHECK_BLOCK) {
      const m = Math.min(CHECK_BLOCK, n - i);
      this.f32.set(data.subarray(i, i + m), p >>> 2);
      const j = this.kernels.f32_nonfinite(m, p);
      if (j >= 0) throw nonFiniteError(what, data[i + j], i + j);
    }
  }

  /** Stop the worker threads, if any (the engine keeps working on one thread). */
  dispose(): void {
    this.pool?.terminate();
    this.pool = null;
  }

  /** A Float32Array over all of linear memory, fresh if the memory grew since the last call. */
  get f32(): Float32Array {
    if (this.view.buffer !== this.memory.buffer) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }

  /** Allocate n floats; returns the byte address. */
  alloc(n: number): number {
    return this.heap.alloc(n * 4);
  }

  release(ptr: number): void {
    this.heap.release(ptr);
  }

  /** Copy `data` into memory at byte address ptr. */
  write(ptr: number, data: ArrayLike<number>): void {
    this.f32.set(data, ptr >>> 2);
  }

  /** A copy of n floats at byte address ptr. */
  read(ptr: number, n: number): Float32Array {
    return this.f32.slice(ptr >>> 2, (ptr >>> 2) + n);
  }

  zero(ptr: number, n: number): void {
    this.f32.fill(0, ptr >>> 2, (ptr >>> 2) + n);
  }
}

let defaultEngine: Engine | undefined;
let loading: Promise<Engine> | undefined;

/**
 * Load the engine (once per process; later calls return the same engine). With no argument the
 * module is read from `build/wasm-rnn.relaxed.wasm` where the runtime validates relaxed SIMD,
 * else `build/wasm-rnn.wasm`, next to the package (file system in Node, fetch elsewhere). Pass bytes or a compiled `WebAssembly.Module` where compiling or fetching is not
 * allowed (Cloudflare workerd forbids compiling from bytes).
 */
export function init(source?: WasmSource, opts?: EngineOptions): Promise<Engine> {
  if (defaultEngine) return Promise.resolve(defaultEngine);
  loading ??= createEngine(source, opts).then(
    (e) => (defaultEngine = e),
    (err) => { loading = undefined; throw err; },
  );
  return loading;
}

/** The engine `init()` loaded; models use it when not given one. */
export function getEngine(): Engine {
  if (!defaultEngine) throw new StateError('wasm-rnn: call `await init()` before creating models');
  return defaultEngine;
}

/** A module's `engine` option: the default engine when not given, else an Engine (a StateError naming `what` otherwise). */
export function engineOption(e: unknown, what: string): Engine {
  if (e === undefined) return getEngine();
  if (!(e instanceof Engine)) throw new StateError(`${what}: engine must be an Engine from init() or createEngine()`);
  return e;
}

export interface EngineOptions {
  /**
   * Threads for the recurrent layers (default 1). With more, batches of at least 8 sequences are
   * split across Web Workers / worker_threads sharing one memory, and smaller batches (step()
   * too) split every step's gate rows when the layer is large enough; this needs the threads build
   * (`build/wasm-rnn.threads.wasm`, or `wasm-rnn.threads-relaxed.wasm` where relaxed SIMD validates:
   * the default for threads > 1) and SharedArrayBuffer, which
   * browsers only give cross-origin-isolated pages (COOP: same-origin, COEP: require-corp).
   */
  threads?: number;
}

/** Pages of the shared memory of a threaded engine (must match asconfig's maximumMemory). */
const SHARED_MAX_PAGES = 16384;

/** A fresh, independent engine (its own module instance and memory). */
export async function createEngine(source?: WasmSource, opts: EngineOptions = {}): Promise<Engine> {
  if (!hasSimd()) {
    throw new StateError('wasm-rnn: this runtime does not support WebAssembly SIMD (the "simd128" feature), which the engine requires');
  }
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new StateError(`wasm-rnn: threads must be an integer ≥ 1, got ${threads}`);
  if (threads > 1 && typeof SharedArrayBuffer !== 'function') {
    throw new StateError('wasm-rnn: threads need SharedArrayBuffer (in a browser: serve the page cross-origin isolated, ' +
      'with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)');
  }
  const module = await compile(source ?? (threads > 1 ? defaultThreadsBuild() : defaultBuild()));
  const memory = threads > 1
    ? new WebAssembly.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true })
    : new WebAssembly.Memory({ initial: 1 });
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, { env: { memory } });
  } catch (err) {
    throw new StateError(`wasm-rnn: the module does not fit a ${threads > 1 ? 'shared' : 'non-shared'} memory ` +
      `(${(err as Error).message}); use build/wasm-rnn.threads.wasm (or .threads-relaxed.wasm) with threads > 1, another build otherwise`);
  }
  const engine = new Engine(instance, memory);
  if (threads > 1) {
    const fns = instance.exports as unknown as Record<string, (...a: number[]) => unknown>;
    const names = Object.keys(instance.exports).filter((n) => typeof fns[n] === 'function');
    // One cache line for the pool's abort word (see ThreadPool: threads spinning in a split
    // forward's barrier give up when another thread's kernel failed).
    const abort = engine.alloc(16);
    engine.zero(abort, 16);
    engine.pool = await ThreadPool.create(module, memory, fns, names, threads - 1, abort);
  }
  return engine;
}

async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source as BufferSource);
  if (typeof source === 'string' || source instanceof URL) {
    const url = typeof source === 'string' ? toUrl(source) : source;
    let bytes: ArrayBuffer | Uint8Array;
    try {
      if (url.protocol === 'file:') {
        const fs = await import('node:fs/promises');
        bytes = await fs.readFile(url);
      } else {
        const res = await fetch(url);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        bytes = await res.arrayBuffer();
      }
    } catch (err) {
      throw new StateError(`wasm-rnn: cannot load the engine module from ${url.href} (${(err as Error).message}); ` +
        'pass its bytes or a WebAssembly.Module to init() instead');
    }
    return WebAssembly.compile(bytes as BufferSource);
  }
  const res = await source;
  if (!res.ok) throw new StateError(`wasm-rnn: fetching the engine module failed: HTTP ${res.status} ${res.url}`);
  return WebAssembly.compile(await res.arrayBuffer());
}

function toUrl(s: string): URL {
  try {
    return new URL(s);
  } catch {
    return new URL(s, typeof location === 'object' ? location.href : `file://${process.cwd()}/`);
  }
}
