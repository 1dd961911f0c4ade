/**
 * On-disk cache of the embeddings `voxkit eval` scores with, so evaluating the same checkpoint on
 * the same recordings again skips decoding and the network.
 *
 * One folder per (checkpoint SHA-256, embedding settings): `<dir>/<sha16>-<settings16>/`. A run
 * adds what it computed as a new *segment* file (written to a temporary name, then renamed), so
 * two evaluations running at once never write the same file, and a run killed mid-write leaves
 * only a stray temporary file. Each segment carries its key and a CRC-32C of its bytes; a segment
 * that fails the check is deleted and its embeddings are recomputed. Entries are keyed by the
 * recording's resolved path, size and modification time, so an edited file is embedded again.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { VoxkitError } from '../errors.js';
import { crc32c } from '../core/crc32c.js';
import { writeFileAtomic } from '../io/atomic-write-node.js';

const MAGIC = 'VXEC';
const FORMAT_VERSION = 1;
const SEGMENT_SUFFIX = '.vxe';
/** Merged into one at close once a folder holds more segments than this. */
const MAX_SEGMENTS = 8;
/** Temporary files older than this are leftovers of killed runs. */
const STALE_TEMPORARY_MS = 60 * 60 * 1000;

/** `$XDG_CACHE_HOME/voxkit/embeddings`, else `~/.cache/voxkit/embeddings`. */
export function defaultEmbeddingCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.trim() !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'voxkit', 'embeddings');
}

/** What the cached embeddings depend on besides the recording itself. */
export interface EmbeddingCacheKey {
  /** SHA-256 (hex) of the checkpoint file's bytes. */
  checkpointSha256: string;
  /** Every setting that changes an embedding (model, crops, frames, …); values must be JSON. */
  settings: Record<string, string | number | boolean | null>;
}

function canonicalKey(key: EmbeddingCacheKey): string {
  const settings = Object.fromEntries(Object.entries(key.settings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({ checkpoint: key.checkpointSha256, settings });
}

/** The cache entry key of a recording: resolved path, size and modification time (ns). */
export async function recordingKey(path: string): Promise<string> {
  const info = await stat(path, { bigint: true });
  return `${resolve(path)}\u0000${info.size}\u0000${info.mtimeNs}`;
}

interface Segment {
  file: string;
  entries: Map<string, Float32Array[]>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Segment layout: magic, version, key length, key, entry count, entries…, CRC-32C of all before it. */
function encodeSegment(keyText: string, entries: ReadonlyMap<string, Float32Array[]>): Uint8Array {
  const encoder = new TextEncoder();
  const keyBytes = encoder.encode(keyText);
  const parts: Uint8Array[] = [];
  const u32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    parts.push(b);
  };
  parts.push(encoder.encode(MAGIC));
  u32(FORMAT_VERSION);
  u32(keyBytes.length);
  parts.push(keyBytes);
  u32(entries.size);
  for (const [name, rows] of entries) {
    const nameBytes = encoder.encode(name);
    const dim = rows[0]?.length ?? 0;
    u32(nameBytes.length);
    parts.push(nameBytes);
    u32(rows.length);
    u32(dim);
    const data = new Float32Array(rows.length * dim);
    rows.forEach((row, i) => {
      if (row.length !== dim) throw new VoxkitError('E_SHAPE', `cache entry ${name}: rows differ in size`);
      data.set(row, i * dim);
    });
    parts.push(new Uint8Array(data.buffer));
  }
  const length = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(length + 4);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  new DataView(out.buffer).setUint32(length, crc32c(out.subarray(0, length)), true);
  return out;
}

/** Decodes a segment; throws a plain Error saying what is wrong when it is damaged or foreign. */
function decodeSegment(bytes: Uint8Array, keyText: string): Map<string, Float32Array[]> {
  if (bytes.length < 20) throw new Error(`truncated (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = bytes.length - 4;
  if (crc32c(bytes.subarray(0, body)) !== view.getUint32(body, true)) throw new Error('checksum mismatch');
  const decoder = new TextDecoder();
  if (decoder.decode(bytes.subarray(0, 4)) !== MAGIC) throw new Error('not an embedding cache segment');
  let offset = 4;
  const u32 = () => {
    if (offset + 4 > body) throw new Error('truncated');
    const n = view.getUint32(offset, true);
    offset += 4;
    return n;
  };
  const text = (length: number) => {
    if (offset + length > body) throw new Error('truncated');
    const s = decoder.decode(bytes.subarray(offset, offset + length));
    offset += length;
    return s;
  };
  const version = u32();
  if (version !== FORMAT_VERSION) throw new Error(`format version ${version}, expected ${FORMAT_VERSION}`);
  if (text(u32()) !== keyText) throw new Error('written for another checkpoint or other settings');
  const count = u32();
  const entries = new Map<string, Float32Array[]>();
  for (let e = 0; e < count; e++) {
    const name = text(u32());
    const rows = u32();
    const dim = u32();
    const byteLength = rows * dim * 4;
    if (offset + byteLength > body) throw new Error('truncated');
    // Copied out: aligned for Float32Array, and independent of the file buffer.
    const flat = new Float32Array(rows * dim);
    new Uint8Array(flat.buffer).set(bytes.subarray(offset, offset + byteLength));
    offset += byteLength;
    entries.set(name, Array.from({ length: rows }, (_, i) => flat.subarray(i * dim, (i + 1) * dim)));
  }
  if (offset !== body) throw new Error('trailing bytes');
  return entries;
}

export interface EmbeddingCacheStatus {
  /** Folder of this checkpoint and these settings. */
  folder: string;
  /** Entries found on disk when the cache was opened. */
  loaded: number;
  /** Damaged segments that were deleted (their embeddings will be recomputed), with the reason. */
  discarded: Array<{ file: string; reason: string }>;
}

/**
 * The cached embeddings of one checkpoint and one set of settings. `get`/`put` work in memory;
 * `flush` writes what was put since the last flush as a new segment; `close` flushes and merges
 * segments when there are many.
 */
export class EmbeddingCache {
  private readonly entries = new Map<string, Float32Array[]>();
  private readonly pending = new Map<string, Float32Array[]>();
  private readonly segmentsRead: string[] = [];
  private readonly discarded: Array<{ file: string; reason: string }> = [];
  private loadedCount = 0;

  private constructor(
    readonly folder: string,
    private readonly keyText: string,
  ) {}

  /** Opens (creating if needed) the cache folder for `key` under `dir` and reads its segments. */
  static async open(dir: string, key: EmbeddingCacheKey): Promise<EmbeddingCache> {
    if (!LITTLE_ENDIAN) throw new VoxkitError('E_USAGE', 'the embedding cache stores little-endian floats; run with --no-cache on this machine');
    const keyText = canonicalKey(key);
    const settingsHash = createHash('sha256').update(keyText).digest('hex').slice(0, 16);
    const folder = join(dir, `${key.checkpointSha256.slice(0, 16)}-${settingsHash}`);
    try {
      await mkdir(folder, { recursive: true });
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException)?.code ?? String(cause);
      throw new VoxkitError('E_IO', `${folder}: cannot create the embedding cache folder (${code}); pass --cache DIR or --no-cache`, { file: folder, cause });
    }
    const cache = new EmbeddingCache(folder, keyText);
    await cache.readSegments();
    return cache;
  }

  private async readSegments(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.folder);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException)?.code ?? String(cause);
      throw new VoxkitError('E_IO', `${this.folder}: cannot read the embedding cache (${code})`, { file: this.folder, cause });
    }
    const now = Date.now();
    for (const name of names.sort()) {
      const file = join(this.folder, name);
      if (name.startsWith('.') && name.endsWith('.tmp')) {
        // Another run may be writing this one right now: only old ones are removed.
        const info = await stat(file).catch(() => undefined);
        if (info && now - info.mtimeMs > STALE_TEMPORARY_MS) await unlink(file).catch(() => undefined);
        continue;
      }
      if (!name.endsWith(SEGMENT_SUFFIX)) continue;
      let bytes: Uint8Array;
      try {
        bytes = await readFile(file);
      } catch {
        // Merged away by a concurrent run between readdir and readFile: its entries live on elsewhere.
        continue;
      }
      try {
        const segment: Segment = { file, entries: decodeSegment(bytes, this.keyText) };
        for (const [k, v] of segment.entries) this.entries.set(k, v);
        this.segmentsRead.push(file);
      } catch (err) {
        this.discarded.push({ file, reason: (err as Error).message });
        await unlink(file).catch(() => undefined);
      }
    }
    this.loadedCount = this.entries.size;
  }

  get status(): EmbeddingCacheStatus {
    return { folder: this.folder, loaded: this.loadedCount, discarded: [...this.discarded] };
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Float32Array[] | undefined {
    return this.entries.get(key);
  }

  put(key: string, rows: Float32Array[]): void {
    if (rows.length === 0) throw new VoxkitError('E_USAGE', 'cannot cache an empty embedding list');
    this.entries.set(key, rows);
    this.pending.set(key, rows);
  }

  /** Writes the entries put since the last flush as a new segment (atomically). */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const name = `seg-${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}${SEGMENT_SUFFIX}`;
    const file = join(this.folder, name);
    await writeFileAtomic(file, encodeSegment(this.keyText, this.pending), 'embedding cache segment');
    this.segmentsRead.push(file);
    this.pending.clear();
  }

  /**
   * Flushes, then merges this run's view into one segment when the folder has many. Segments
   * another run adds meanwhile are left alone; a merged segment deleted under a concurrent reader
   * only costs that reader a recomputation.
   */
  async close(): Promise<void> {
    await this.flush();
    if (this.segmentsRead.length <= MAX_SEGMENTS) return;
    const merged = join(this.folder, `seg-${Date.now().toString(36)}-${process.pid}-merged${SEGMENT_SUFFIX}`);
    await writeFileAtomic(merged, encodeSegment(this.keyText, this.entries), 'embedding cache segment');
    for (const file of this.segmentsRead) await unlink(file).catch(() => undefined);
    this.segmentsRead.length = 0;
    this.segmentsRead.push(merged);
  }
}
