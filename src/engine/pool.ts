// Threads over one shared WebAssembly memory. The workers are plain executors: each runs its
// own instance of the module on the shared memory and executes lists of kernel calls (export
// name + integer arguments) that the calling thread writes into a shared control block; the
// calling thread runs the first list itself and waits for the rest. Kernels are pure and the
// host allocates, so a worker needs nothing but pointers. No message per call: one Atomics
// notify/wait pair per list.

/** One kernel call: export name and its (integer) arguments. */
export type Call = [name: string, ...args: number[]];

/**
 * Split n rows into `parts` slices of an even number of rows (the last takes an odd one), so
 * every row meets the same 2-row GEMM tiles as in one piece and results match bit for bit.
 */
export function splitEven(n: number, parts: number): number[] {
  const pairs = n >> 1, sizes = Array.from({ length: parts }, (_, i) => 2 * (Math.floor(pairs / parts) + (i < pairs % parts ? 1 : 0)));
  sizes[parts - 1] += n & 1;
  return sizes;
}

const SLOT = 16384;   // Int32 words per worker: [seq, done, nwords, error, calls…]
const HEADER = 4;
/** A failed list's error text (UTF-16 units) goes back over its calls: [length, units…]. */
const MSG = 300;

/**
 * How long a thread polls before it blocks in Atomics.wait, both the workers between lists and
 * the caller waiting for them: calls come back to back (a layer, then the next; the next
 * training step) and waking a blocked thread costs tens of microseconds. Measured on 2 threads:
 * a W5 training step 15.2 → 14.2 ms, a batch-1 LSTM forward split by gate rows −7%. The cost:
 * a worker keeps a core busy for up to this long after each list.
 */
const SPIN_MS = 0.5;

// The worker's code, as a string so it runs the same from a file, a bundle or a CDN: Node
// (worker_threads, eval) or a browser (Blob URL). Each worker instantiates the module on the
// shared memory, answers 'ready', then runs the lists the caller writes into its slot: it polls
// SPIN_MS, then blocks in Atomics.wait; a negative list number stops it. A module it cannot
// instantiate is answered with the error's text instead of 'ready' (a browser does not pass a
// worker's unhandled rejection to the page).
// Kept a string (not a function's source) so that no bundler or transpiler can rewrite it with
// helpers the worker does not have; written compactly, as a minifier cannot shrink it. m: the
// init message (module, memory, control, slot, names, abort); c: the control words; s: this
// worker's slot; q: the list number last run.
const WORKER = `const N=typeof self>'u',P=N?require('node:worker_threads').parentPort:self;
(N?f=>P.on('message',f):f=>self.onmessage=e=>f(e.data))(async m=>{
let x;try{x=(await WebAssembly.instantiate(m.module,{env:{memory:m.memory}})).exports}catch(r){P.postMessage(String(r));return}
const F=m.names.map(n=>x[n]);
const c=new Int32Array(m.control),s=m.slot;let q=0;P.postMessage('ready');
for(;;){const u=performance.now()+${SPIN_MS};
for(let i=1;Atomics.load(c,s)===q;i++)if(!(i&1023)&&performance.now()>u)break;
Atomics.wait(c,s,q);const v=Atomics.load(c,s);if(v===q)continue;if(v<0)break;q=v;
try{let p=s+${HEADER};const e=p+c[s+2];while(p<e){const n=c[p+1];F[c[p]](...c.subarray(p+2,p+2+n));p+=2+n}c[s+3]=0}
catch(r){const t=String(r).slice(0,${MSG});c[s+3]=1;c[s+4]=t.length;for(let i=0;i<t.length;i++)c[s+5+i]=t.charCodeAt(i);
Atomics.store(new Int32Array(m.memory.buffer),m.abort>>>2,1)}
Atomics.store(c,s+1,v);Atomics.notify(c,s+1)}
N?P.close():self.close()});`;

import { StateError } from '../errors.js';

interface WorkerLike { postMessage(m: unknown): void; terminate(): unknown; unref?(): void }
type NodeWorker = WorkerLike & { on(e: string, f: (a: unknown) => void): void; off(e: string, f: (a: unknown) => void): void };

export class ThreadPool {
  private seq = 0;
  private readonly ctl: Int32Array;
  private readonly index: Map<string, number>;
  private readonly canWait: boolean;
  /** Why a worker is gone, once its exit or error event has been delivered; run() then refuses. */
  lost: string | null = null;
  private stopped = false;

  private constructor(private readonly workers: WorkerLike[], control: SharedArrayBuffer,
                      names: readonly string[], private readonly fns: Record<string, (...a: number[]) => unknown>,
                      private readonly memory: WebAssembly.Memory, readonly abort: number) {
    this.ctl = new Int32Array(control);
    this.index = new Map(names.map((n, i) => [n, i]));
    // Browsers forbid Atomics.wait on the main thread; there the caller spins instead.
    let ok = true;
    try { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); } catch { ok = false; }
    this.canWait = ok;
  }

  /**
   * Start `extra` workers on the shared memory (the calling thread is the pool's first thread).
   * abort: byte address of an i32 in that memory, zero, which a thread whose kernel failed sets
   * to 1, so that the others, spinning in a barrier of a forward split across them
   * (assembly/cells/split.ts), return instead of waiting forever; run() clears it and throws.
   */
  static async create(module: WebAssembly.Module, memory: WebAssembly.Memory, fns: Record<string, (...a: number[]) => unknown>,
                      names: readonly string[], extra: number, abort: number): Promise<ThreadPool> {
    const control = new SharedArrayBuffer(4 * SLOT * Math.max(extra, 1));
    const workers: WorkerLike[] = [];
    // Settled, not Promise.all: on a failure every worker has been spawned, so none is left running.
    const started = await Promise.allSettled(Array.from({ length: extra }, async (_, i) => {
      const w = await spawn();
      workers.push(w);
      // A worker that cannot start (its module fails to instantiate; in a browser, a
      // Content-Security-Policy without blob: in worker-src) reports an error or exits: without
      // listening for those, creation would wait for 'ready' for ever.
      await new Promise<void>((resolve, reject) => {
        const stop = watch(w, (why) => reject(new StateError(`wasm-rnn: worker ${i + 1} could not start: ${why}`)));
        listen(w, (m) => { stop(); if (m === 'ready') resolve(); else reject(new StateError(`wasm-rnn: worker ${i + 1} could not start: ${String(m)}`)); });
        w.postMessage({ module, memory, control, slot: i * SLOT, names, abort });
      });
      w.unref?.();
    }));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      for (const w of workers) w.terminate();
      throw failed.reason;
    }
    const pool = new ThreadPool(workers, control, names, fns, memory, abort);
    // A worker that stops later (killed by its host, out of memory) is noted when its event is
    // delivered, and every later run() throws instead of waiting for it.
    workers.forEach((w, i) => watch(w, (why) => { if (!pool.stopped) pool.lost ??= `worker ${i + 1} stopped (${why})`; }));
    return pool;
  }

  /** Threads in the pool, the calling one included. */
  get size(): number {
    return this.workers.length + 1;
  }

  /** Run lists[0] here and lists[1…] on the workers; returns when all are done. */
  run(lists: readonly (readonly Call[])[]): void {
    if (lists.length > this.size) throw new Error(`wasm-rnn: ${lists.length} lists for ${this.size} threads`);
    if (this.lost) throw new StateError(`wasm-rnn: ${this.lost}; dispose this engine and create another`);
    // 1 … 2³¹ − 1, then 1 again: the control words are Int32, and a negative one stops a worker.
    const seq = this.seq = this.seq % 0x7fffffff + 1, ctl = this.ctl;
    // Every list written before any worker is woken: one that fails to encode throws with no
    // worker started (a woken one could be waiting at a split call's barrier for the others).
    for (let w = 1; w < lists.length; w++) {
      const s = (w - 1) * SLOT;
      let p = s + HEADER;
      for (const [name, ...args] of lists[w]) {
        const f = this.index.get(name);
        if (f === undefined) throw new Error(`wasm-rnn: no export '${name}' for the workers`);
        if (p + 2 + args.length > s + SLOT) throw new Error('wasm-rnn: too many calls for one worker list');
        ctl[p] = f; ctl[p + 1] = args.length;
        for (let i = 0; i < args.length; i++) ctl[p + 2 + i] = args[i];
        p += 2 + args.length;
      }
      ctl[s + 2] = p - s - HEADER;
    }
    for (let w = 1; w < lists.length; w++) {
      const s = (w - 1) * SLOT;
      Atomics.store(ctl, s, seq);
      Atomics.notify(ctl, s);
    }
    let error: unknown = null;
    try {
      for (const [name, ...args] of lists[0] ?? []) this.fns[name](...args);
    } catch (err) { error = err; this.setAbort(1); }
    for (let w = 1; w < lists.length; w++) {
      const d = (w - 1) * SLOT + 1;
      const until = performance.now() + SPIN_MS;
      for (let v = Atomics.load(ctl, d), i = 1; v !== seq; v = Atomics.load(ctl, d), i++) {
        if (this.canWait && (i & 1023) === 0 && performance.now() > until) Atomics.wait(ctl, d, v, 1000);
      }
      if (ctl[d + 2]) error ??= new Error(`wasm-rnn: a kernel failed on worker ${w}: ${String.fromCharCode(...ctl.subarray(d + 4, d + 4 + ctl[d + 3]))}`);
    }
    if (error) {
      this.setAbort(0);
      throw error;
    }
  }

  /** Set the abort word (a view each time: the memory may have grown since the last call). */
  private setAbort(v: 0 | 1): void {
    Atomics.store(new Int32Array(this.memory.buffer), this.abort >>> 2, v);
  }

  /** Stop the workers. */
  terminate(): void {
    this.stopped = true;
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.ctl, w * SLOT, -1);
      Atomics.notify(this.ctl, w * SLOT);
    }
    this.workers.length = 0;
  }

}

async function spawn(): Promise<WorkerLike> {
  if (typeof process === 'object' && process.versions?.node) {
    // Inside try: bundlers for browsers leave an optional Node built-in unresolved.
    let threads: typeof import('node:worker_threads');
    try {
      threads = await import('node:worker_threads');
    } catch (err) {
      throw new Error(`wasm-rnn: worker_threads is not available here (${(err as Error).message})`);
    }
    return new threads.Worker(WORKER, { eval: true }) as unknown as WorkerLike;
  }
  const url = URL.createObjectURL(new Blob([WORKER], { type: 'text/javascript' }));
  return new Worker(url) as unknown as WorkerLike;
}

/** Call f with each message from the worker (Node's worker_threads or a Web Worker). */
function listen(w: WorkerLike, f: (m: unknown) => void): void {
  if ('on' in w) (w as NodeWorker).on('message', f);
  else (w as unknown as Worker).onmessage = (e) => f(e.data);
}

/** Call f once if the worker reports an uncaught error or (Node) exits; returns a function that stops watching. */
function watch(w: WorkerLike, f: (why: string) => void): () => void {
  let done = false;
  const once = (why: string) => { if (!done) { done = true; f(why); } };
  const onError = (e: unknown) => once(e instanceof Error ? e.message : (e as ErrorEvent)?.message || 'an uncaught error');
  const onExit = (code: unknown) => once(`exit code ${String(code)}`);
  if ('on' in w) {
    const n = w as NodeWorker;
    n.on('error', onError); n.on('exit', onExit);
    return () => { done = true; n.off('error', onError); n.off('exit', onExit); };
  }
  const b = w as unknown as Worker;
  b.onerror = (e) => { e.preventDefault?.(); onError(e); };
  return () => { done = true; b.onerror = null; };
}
