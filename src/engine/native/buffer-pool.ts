/**
 * Reuse of tensor memory between kernels. A training step allocates and frees the same large
 * activations every step; fresh memory costs a page fault per 4 KiB on first write (for a 33 MB
 * activation that is slower than the kernel writing it). Buffers return here when the last tensor
 * that uses them is disposed, and only then: every entry of the backend's store that holds a
 * buffer — the tensor itself or a view of it made by any kernel — counts as a reference, and a
 * buffer whose values were handed out (dataSync/data) is never reused.
 */
import type { TypedArray } from './addon.js';

/** Buffers below this size come from the allocator (pooling them saves nothing). */
const MIN_POOLED_BYTES = 64 * 1024;

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly references = new Map<ArrayBuffer, number>();
  private readonly escaped = new WeakSet<ArrayBuffer>();
  /** Buffers this pool made: arrays a caller handed to tf.tensor() are theirs and never reused. */
  private readonly own = new WeakSet<ArrayBuffer>();
  private pooledBytes = 0;

  constructor(private readonly maxPooledBytes: number) {}

  /** A buffer for `bytes` bytes, reused when one of that size is free. Contents are arbitrary. */
  take(bytes: number): ArrayBuffer {
    if (bytes >= MIN_POOLED_BYTES) {
      const list = this.free.get(bytes);
      const reused = list?.pop();
      if (reused) {
        this.pooledBytes -= bytes;
        return reused;
      }
    }
    const buffer = new ArrayBuffer(bytes);
    if (bytes >= MIN_POOLED_BYTES) this.own.add(buffer);
    return buffer;
  }

  /** A store entry now holds `values` (only buffers of this pool are tracked). */
  retain(values: TypedArray): void {
    const buffer = values.buffer as ArrayBuffer;
    if (!this.own.has(buffer) || this.escaped.has(buffer)) return;
    this.references.set(buffer, (this.references.get(buffer) ?? 0) + 1);
  }

  /** A store entry that held `values` was deleted; the buffer is free when none holds it. */
  release(values: TypedArray): void {
    const buffer = values.buffer as ArrayBuffer;
    const count = this.references.get(buffer);
    if (count === undefined) return;
    if (count > 1) {
      this.references.set(buffer, count - 1);
      return;
    }
    this.references.delete(buffer);
    if (this.pooledBytes + buffer.byteLength > this.maxPooledBytes) return;
    let list = this.free.get(buffer.byteLength);
    if (!list) this.free.set(buffer.byteLength, (list = []));
    list.push(buffer);
    this.pooledBytes += buffer.byteLength;
  }

  /** `values` left the backend (read by the caller): its buffer is never reused. */
  escape(values: TypedArray): void {
    const buffer = values.buffer as ArrayBuffer;
    this.escaped.add(buffer);
    this.references.delete(buffer);
  }

  /** Drops every free buffer (memory goes back to the allocator). */
  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }
}
