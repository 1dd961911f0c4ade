/**
 * Reads feature cache entries inside the batch workers: one file descriptor per shard and
 * `read(fd, …, position)` per entry. Node has no mmap without a native module, so these are
 * streamed positioned reads; the OS page cache keeps hot shards in memory.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { VoxkitError } from '../errors.js';
import type { ItemSource } from './batch-features.js';
import { type CacheEntryRecord, type CacheLocations, decodeEntry, entryBytes } from './feature-cache-format.js';

/** Reads cache entries by source file with positioned reads; one open descriptor per shard. */
export class CachedSourceReader {
  private readonly row = new Map<string, number>();
  private readonly handles = new Map<number, Promise<FileHandle>>();

  constructor(readonly locations: CacheLocations) {
    locations.files.forEach((file, i) => this.row.set(file, i));
  }

  has(file: string): boolean {
    return this.row.has(file);
  }

  private shard(n: number): Promise<FileHandle> {
    let handle = this.handles.get(n);
    if (!handle) {
      const path = join(this.locations.dir, this.locations.shardFiles[n]);
      handle = open(path, 'r').catch((cause: unknown) => {
        this.handles.delete(n);
        throw new VoxkitError('E_IO', `${path}: cannot open the feature cache shard (${(cause as NodeJS.ErrnoException).code ?? cause})`, { file: path, cause });
      });
      this.handles.set(n, handle);
    }
    return handle;
  }

  /** Rows of `file`'s entry (samples for waveforms, frames for mel/frames). */
  rowsOf(file: string): number | undefined {
    const i = this.row.get(file);
    return i === undefined ? undefined : this.locations.rows[i];
  }

  /** The cached source of `file`: samples for waveform caches, frames otherwise. */
  async read(file: string): Promise<ItemSource> {
    const i = this.row.get(file);
    if (i === undefined) throw new VoxkitError('E_DATA', `${file}: not among the feature cache's located files`, { file });
    const { rows, cols, dtype, offset, shard, content } = this.locations;
    const record: CacheEntryRecord = [shard[i], offset[i], rows[i], cols[i], dtype[i] as 0 | 1, 0, 0];
    const length = entryBytes(record);
    const bytes = new Uint8Array(length);
    const handle = await this.shard(shard[i]);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(bytes, done, length - done, offset[i] + done);
      if (bytesRead === 0) {
        const path = join(this.locations.dir, this.locations.shardFiles[shard[i]]);
        throw new VoxkitError('E_DATA', `${path}: feature cache shard ends early (entry of ${file}); delete the cache and build again`, { file: path });
      }
      done += bytesRead;
    }
    const data = decodeEntry(bytes, record[4]);
    if (content.kind === 'waveform') return { samples: data };
    return { frames: { data, frames: rows[i], features: cols[i] } };
  }

  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.allSettled(handles.map(async (h) => (await h).close()));
  }
}
