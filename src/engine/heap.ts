// The host-side allocator over the module's linear memory. Kernels never allocate: every
// buffer a model uses (parameters, gradients, saved activations, scratch) is a block from here.
// First fit over an address-ordered free list, 64-byte aligned (a cache line: buffers that
// threads write side by side never share one; measured ~3% on a batch-1 forward split by gate
// rows), neighbours coalesced on free;
// the memory grows in whole pages when no free block fits.

const ALIGN = 64;
const PAGE = 65536;

interface Block { ptr: number; size: number }

export class Heap {
  private free: Block[] = [];
  private used = new Map<number, number>(); // ptr → size
  private top: number;                      // first byte never handed out

  constructor(private readonly memory: WebAssembly.Memory, base: number) {
    this.top = align(Math.max(base, ALIGN));
  }

  /** Bytes currently allocated. */
  get bytesInUse(): number {
    let n = 0;
    for (const s of this.used.values()) n += s;
    return n;
  }

  /** Size of linear memory in bytes. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * A block of at least `bytes` bytes (zero-filled is NOT guaranteed). Returns its address.
   * When the memory cannot grow that far, throws a RangeError and changes nothing.
   */
  alloc(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`wasm-rnn: cannot allocate ${bytes} bytes`);
    const size = align(Math.max(bytes, ALIGN));
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i];
      if (b.size < size) continue;
      const ptr = b.ptr;
      if (b.size === size) this.free.splice(i, 1);
      else { b.ptr += size; b.size -= size; }
      this.used.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    const end = ptr + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch {
        throw new RangeError(`wasm-rnn: out of memory: ${mb(bytes)} requested; the engine's memory cannot grow ` +
          `from ${mb(have)} to ${mb(end)} (at most 4 GiB, 1 GiB threaded): use shorter sequences or smaller batches`);
      }
    }
    this.top = end;
    this.used.set(ptr, size);
    return ptr;
  }

  /** Give a block back. Freeing an unknown address is a bug and throws. */
  release(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new Error(`wasm-rnn: release of unknown block ${ptr}`);
    this.used.delete(ptr);
    // Insert in address order, then merge with the neighbours.
    let i = 0;
    while (i < this.free.length && this.free[i].ptr < ptr) i++;
    this.free.splice(i, 0, { ptr, size });
    if (i + 1 < this.free.length && ptr + size === this.free[i + 1].ptr) {
      this.free[i].size += this.free[i + 1].size;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1].ptr + this.free[i - 1].size === ptr) {
      this.free[i - 1].size += this.free[i].size;
      this.free.splice(i, 1);
      i--;
    }
    // A free block at the very top goes back to the bump region.
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }
}

/** n rounded up to a multiple of ALIGN (arithmetic, not bit operations: sizes may pass 2³¹). */
function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
