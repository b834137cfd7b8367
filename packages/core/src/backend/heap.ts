import { SimdgradError } from '../errors.js';

const PAGE = 65536;
/** Requests up to this size use power-of-two classes; larger ones are rounded to whole pages. */
const SMALL_LIMIT = 65536;
const ALIGN = 16;

/** Typed-array views over the whole memory. Re-made after every grow; never store one in a field. */
export interface Views {
  u8: Uint8Array;
  f32: Float32Array;
  i32: Int32Array;
}

export interface HeapStats {
  /** Bytes in blocks handed out and not yet freed (rounded to their size class). */
  liveBytes: number;
  liveBlocks: number;
  /** Bytes kept in free lists for reuse. */
  freeBytes: number;
  /** Current size of the wasm memory in bytes. */
  memoryBytes: number;
  /** Largest liveBytes seen. */
  peakBytes: number;
}

/** The size class a request of `bytes` falls in: a power of two ≥ 16 up to 64 KiB, then whole pages. */
export function sizeClass(bytes: number): number {
  if (bytes <= ALIGN) return ALIGN;
  if (bytes <= SMALL_LIMIT) return 2 ** Math.ceil(Math.log2(bytes));
  return Math.ceil(bytes / PAGE) * PAGE;
}

/**
 * The allocator over one WebAssembly.Memory: 16-byte-aligned blocks in size classes with free lists,
 * a bump pointer above them, and `memory.grow` when the top is reached. TypeScript owns all memory;
 * kernels only receive offsets.
 *
 * @example
 * ```ts
 * const heap = new Heap(new WebAssembly.Memory({ initial: 1 }), 1024);
 * const p = heap.alloc(400);
 * heap.views().f32[p >>> 2] = 1.5;
 * heap.free(p);
 * ```
 */
export class Heap {
  readonly memory: WebAssembly.Memory;
  private top: number;
  private readonly live = new Map<number, number>();
  private readonly freeLists = new Map<number, number[]>();
  private cached: { buffer: ArrayBufferLike; views: Views } | null = null;
  private liveBytes = 0;
  private freeBytes = 0;
  private peakBytes = 0;
  /** Upper bound in pages (the memory's maximum, or 4 GiB for wasm32). */
  private readonly maxPages: number;

  /**
   * @param memory the memory to manage
   * @param base first byte the allocator may use (e.g. the kernel module's heap base)
   * @param maxPages optional cap on growth in 64 KiB pages
   */
  constructor(memory: WebAssembly.Memory, base: number, maxPages = 65536) {
    this.memory = memory;
    // never hand out offset 0, so a zero pointer can always mean "none"
    this.top = Math.max(ALIGN, Math.ceil(base / ALIGN) * ALIGN);
    this.maxPages = maxPages;
  }

  /** Typed-array views of the current buffer (re-made when a grow replaced it). */
  views(): Views {
    const buffer = this.memory.buffer;
    if (this.cached === null || this.cached.buffer !== buffer) {
      this.cached = {
        buffer,
        views: { u8: new Uint8Array(buffer), f32: new Float32Array(buffer), i32: new Int32Array(buffer) },
      };
    }
    return this.cached.views;
  }

  /** A 16-byte-aligned block of at least `bytes` bytes (contents undefined). */
  alloc(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) {
      throw new SimdgradError(`alloc: bytes must be a non-negative finite number (got ${bytes})`);
    }
    const size = sizeClass(bytes);
    const list = this.freeLists.get(size);
    let ptr: number;
    if (list !== undefined && list.length > 0) {
      ptr = list.pop()!;
      this.freeBytes -= size;
    } else if (size > SMALL_LIMIT && (ptr = this.takeLargerFree(size)) >= 0) {
      // a larger free block was split (large sizes are whole pages, so the rest is too)
    } else {
      ptr = this.top;
      this.ensure(ptr + size, bytes);
      this.top = ptr + size;
    }
    this.live.set(ptr, size);
    this.liveBytes += size;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    return ptr;
  }

  /**
   * Best fit among the free large blocks bigger than `size`: the smallest one is split, its tail going back
   * to the free list of its own size. NOTE: without this, shapes that vary from step to step (padded
   * sequences) leave each exact page count in its own list and memory grows without bound.
   * Returns the block, or -1 when none fits.
   */
  private takeLargerFree(size: number): number {
    let best = -1;
    for (const [cls, list] of this.freeLists) {
      if (cls > size && list.length > 0 && (best < 0 || cls < best)) best = cls;
    }
    if (best < 0) return -1;
    const ptr = this.freeLists.get(best)!.pop()!;
    this.freeBytes -= best;
    const rest = best - size;
    this.pushFree(ptr + size, rest);
    return ptr;
  }

  private pushFree(ptr: number, size: number): void {
    this.freeBytes += size;
    let list = this.freeLists.get(size);
    if (list === undefined) {
      list = [];
      this.freeLists.set(size, list);
    }
    list.push(ptr);
  }

  /** Returns a block to its free list. Freeing an unknown pointer (or twice) is an error. */
  free(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new SimdgradError(`free: ${ptr} is not a live block (double free?)`);
    this.live.delete(ptr);
    this.liveBytes -= size;
    this.pushFree(ptr, size);
  }

  /** The size class of a live block. */
  sizeOf(ptr: number): number | undefined {
    return this.live.get(ptr);
  }

  stats(): HeapStats {
    return {
      liveBytes: this.liveBytes,
      liveBlocks: this.live.size,
      freeBytes: this.freeBytes,
      memoryBytes: this.memory.buffer.byteLength,
      peakBytes: this.peakBytes,
    };
  }

  private ensure(end: number, requested: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const havePages = have / PAGE;
    const needPages = Math.ceil(end / PAGE);
    // grow geometrically (by a quarter at least) so a growing model does not grow page by page
    const wantPages = Math.min(this.maxPages, Math.max(needPages, Math.ceil(havePages * 1.25)));
    const fail = (why: string) => new SimdgradError(
      `alloc: out of wasm memory: cannot grow to ${((needPages * PAGE) / 2 ** 20).toFixed(1)} MiB for a block of ` +
      `${requested} bytes (${(this.liveBytes / 2 ** 20).toFixed(1)} MiB live, limit ${((this.maxPages * PAGE) / 2 ** 20).toFixed(0)} MiB; ${why}) ` +
      '(help: dispose tensors you no longer need, or run the loop inside scope())');
    if (needPages > this.maxPages) throw fail('over the limit');
    try {
      this.memory.grow(wantPages - havePages);
    } catch {
      try {
        this.memory.grow(needPages - havePages);
      } catch (e) {
        throw fail(e instanceof Error ? e.message : String(e));
      }
    }
  }
}
