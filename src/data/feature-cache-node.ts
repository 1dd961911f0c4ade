/**
 * The on-disk feature cache (Node): built once from a training set, then read by the batch
 * workers with positioned reads, so epochs after the build decode no audio. Format and what is
 * cached: feature-cache-format.ts.
 *
 * Crash safety: shard data is appended and synced first, then `index.json` is replaced atomically
 * to cover it. A killed build leaves an index that points only at data on disk; bytes past a
 * shard's committed length are cut off and the missing entries built when the build is run again.
 *
 * Reading: feature-cache-reader-node.ts.
 */
import { type FileHandle, mkdir, open, readdir, readFile, stat, truncate, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { VoxkitError } from '../errors.js';
import type { FeatureSpec } from '../features/feature-spec.js';
import { writeFileAtomic } from '../io/atomic-write-node.js';
import { VERSION } from '../version.js';
import {
  type CacheContent,
  type CacheEntryRecord,
  type CacheLocations,
  FEATURE_CACHE_FORMAT,
  FEATURE_CACHE_INDEX,
  FEATURE_CACHE_VERSION,
  type FeatureCacheIndex,
  cacheContentFor,
  describeContent,
  encodeEntry,
  entryBytes,
  sameContent,
} from './feature-cache-format.js';
import { FeatureJobPool } from './feature-jobs-node.js';

const DEFAULT_SHARD_BYTES = 256 * 1024 * 1024;
/** Index commits during a build: at most this many entries or bytes go unrecorded. */
const COMMIT_ENTRIES = 512;
const COMMIT_BYTES = 64 * 1024 * 1024;

function shardName(n: number): string {
  return `shard-${String(n).padStart(5, '0')}.bin`;
}

function listSome(items: readonly string[], max = 3): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} … and ${items.length - max} more`;
}

/** Reads and checks `DIR/index.json`; undefined when there is none. */
export async function readFeatureCacheIndex(dir: string): Promise<FeatureCacheIndex | undefined> {
  const file = join(dir, FEATURE_CACHE_INDEX);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VoxkitError('E_IO', `${file}: cannot read the feature cache index (${(cause as NodeJS.ErrnoException).code ?? cause})`, { file, cause });
  }
  let index: FeatureCacheIndex;
  try {
    index = JSON.parse(text) as FeatureCacheIndex;
  } catch {
    throw new VoxkitError('E_DATA', `${file}: the feature cache index is not valid JSON`, { file });
  }
  if (index?.format !== FEATURE_CACHE_FORMAT || typeof index.entries !== 'object' || !Array.isArray(index.shards)) {
    throw new VoxkitError('E_DATA', `${file}: not a voxkit feature cache index`, { file });
  }
  if (index.version > FEATURE_CACHE_VERSION) {
    throw new VoxkitError('E_DATA', `${file}: feature cache format version ${index.version} is newer than this voxkit reads (${FEATURE_CACHE_VERSION})`, { file });
  }
  return index;
}

export interface BuildFeatureCacheOptions {
  /** Source files (audio, or .npy frames), e.g. `dataset.utterances.map((u) => u.path)`. */
  files: readonly string[];
  /** Cache folder (created; an existing cache there is continued). */
  dir: string;
  /** The front end the cache will feed (its `encoder.featureSpec()`), or the content directly. */
  spec: FeatureSpec | CacheContent;
  /** Worker threads decoding and computing (0 = this thread); default 2. */
  workers?: number;
  /** Largest shard file; default 256 MB. */
  shardBytes?: number;
  ffmpegPath?: string;
  /** Commit the index after this many new entries (default 512; also every 64 MB). */
  commitEntries?: number;
  onProgress?: (event: { done: number; total: number; file: string }) => void;
}

export interface BuildFeatureCacheResult {
  dir: string;
  content: CacheContent;
  /** Entries written by this build. */
  built: number;
  /** Entries already present and current. */
  reused: number;
  /** Entries rebuilt because their source changed (size or mtime). */
  stale: number;
  /** Entries in the index after the build. */
  entries: number;
  shards: number;
  /** Bytes of all shards. */
  bytes: number;
  /** Entries stored as int16 (losslessly) / float32. */
  int16Entries: number;
  float32Entries: number;
}

function isContent(spec: FeatureSpec | CacheContent): spec is CacheContent {
  return spec.kind === 'npy-frames' || (spec.kind === 'waveform' && !('source' in spec)) || (spec.kind === 'rtvc-mel' && !('source' in spec));
}

/**
 * Builds (or completes) the feature cache of `files` in `dir`. Idempotent: current entries are
 * kept, missing and stale ones are (re)built. A killed build loses at most the entries since its
 * last index commit.
 * @throws VoxkitError naming the first source that cannot be read (entries before it are kept)
 */
export async function buildFeatureCache(options: BuildFeatureCacheOptions): Promise<BuildFeatureCacheResult> {
  const dir = resolve(options.dir);
  const content = isContent(options.spec) ? options.spec : cacheContentFor(options.spec);
  const shardLimit = options.shardBytes ?? DEFAULT_SHARD_BYTES;
  if (!Number.isInteger(shardLimit) || shardLimit < 1) throw new VoxkitError('E_USAGE', `feature cache: shardBytes must be a positive integer, got ${shardLimit}`);
  await mkdir(dir, { recursive: true }).catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `${dir}: cannot create the feature cache folder (${(cause as NodeJS.ErrnoException).code ?? cause})`, { file: dir, cause });
  });

  const existing = await readFeatureCacheIndex(dir);
  if (existing && !sameContent(existing.content, content)) {
    throw new VoxkitError(
      'E_USAGE',
      `${dir}: this feature cache holds ${describeContent(existing.content)}, not ${describeContent(content)}; use another folder`,
      { file: dir },
    );
  }
  const index: FeatureCacheIndex = existing ?? {
    format: FEATURE_CACHE_FORMAT,
    version: FEATURE_CACHE_VERSION,
    content,
    writtenBy: VERSION,
    shards: [],
    entries: {},
  };

  // Cut what an interrupted build wrote past the committed lengths; drop shards it never committed.
  for (const shard of index.shards) {
    const path = join(dir, shard.file);
    const info = await stat(path).catch(() => undefined);
    if (!info || info.size < shard.bytes) {
      throw new VoxkitError('E_DATA', `${path}: feature cache shard is missing or shorter than its index says; delete ${dir} and build again`, { file: path });
    }
    if (info.size > shard.bytes) await truncate(path, shard.bytes);
  }
  const known = new Set(index.shards.map((s) => s.file));
  for (const name of await readdir(dir)) {
    if (/^shard-\d+\.bin$/.test(name) && !known.has(name)) await unlink(join(dir, name));
  }

  // What needs building.
  const sources = [...new Set(options.files.map((f) => resolve(f)))];
  const todo: Array<{ file: string; size: number; mtimeMs: number }> = [];
  let reused = 0;
  let stale = 0;
  for (const file of sources) {
    const info = await stat(file).catch((cause: unknown) => {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new VoxkitError(code ? 'E_IO' : 'E_DATA', `${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? cause})`}`, { file, cause });
    });
    const record = index.entries[file];
    if (record && record[5] === info.size && record[6] === info.mtimeMs) reused++;
    else {
      if (record) stale++;
      todo.push({ file, size: info.size, mtimeMs: info.mtimeMs });
    }
  }

  let shardHandle: FileHandle | undefined;
  let uncommittedEntries = 0;
  let uncommittedBytes = 0;
  const commit = async (): Promise<void> => {
    if (shardHandle) await shardHandle.datasync();
    index.writtenBy = VERSION;
    await writeFileAtomic(join(dir, FEATURE_CACHE_INDEX), JSON.stringify(index), 'feature cache index');
    uncommittedEntries = 0;
    uncommittedBytes = 0;
  };
  const currentShard = async (bytes: number): Promise<{ handle: FileHandle; n: number }> => {
    let last = index.shards[index.shards.length - 1];
    if (!last || (last.bytes > 0 && last.bytes + bytes > shardLimit)) {
      if (shardHandle) {
        await commit();
        await shardHandle.close();
        shardHandle = undefined;
      }
      last = { file: shardName(index.shards.length), bytes: 0 };
      index.shards.push(last);
    }
    // Not 'a': positioned writes must land at the committed length, which append mode ignores.
    shardHandle ??= await open(join(dir, last.file), 'r+').catch(() => open(join(dir, last.file), 'w+'));
    return { handle: shardHandle, n: index.shards.length - 1 };
  };

  const pool = new FeatureJobPool(options.workers ?? 2);
  let built = 0;
  try {
    // Results are written in source order, with up to `capacity` computed ahead.
    const inFlight: Array<Promise<Awaited<ReturnType<FeatureJobPool['run']>>>> = [];
    let next = 0;
    const refill = (): void => {
      while (next < todo.length && inFlight.length < pool.capacity) {
        const pending = pool.run({ task: 'cache', file: todo[next].file, content, ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}) });
        pending.catch(() => undefined);
        inFlight.push(pending);
        next++;
      }
    };
    refill();
    for (let i = 0; i < todo.length; i++) {
      const output = await (inFlight.shift() as Promise<Awaited<ReturnType<FeatureJobPool['run']>>>);
      refill();
      const bytes = encodeEntry(output.data, output.dtype);
      const { handle, n } = await currentShard(bytes.byteLength);
      const shard = index.shards[n];
      await handle.write(bytes, 0, bytes.byteLength, shard.bytes);
      const record: CacheEntryRecord = [n, shard.bytes, output.rows, output.cols, output.dtype, todo[i].size, todo[i].mtimeMs];
      shard.bytes += bytes.byteLength;
      index.entries[todo[i].file] = record;
      built++;
      uncommittedEntries++;
      uncommittedBytes += bytes.byteLength;
      if (uncommittedEntries >= (options.commitEntries ?? COMMIT_ENTRIES) || uncommittedBytes >= COMMIT_BYTES) await commit();
      options.onProgress?.({ done: reused + built, total: sources.length, file: todo[i].file });
    }
  } finally {
    // What was written before a failure is kept: the next build continues from there.
    try {
      if (uncommittedEntries > 0 || !existing) await commit();
    } finally {
      await shardHandle?.close();
      await pool.close();
    }
  }

  let int16Entries = 0;
  for (const record of Object.values(index.entries)) if (record[4] === 1) int16Entries++;
  const entries = Object.keys(index.entries).length;
  return {
    dir,
    content,
    built,
    reused,
    stale,
    entries,
    shards: index.shards.length,
    bytes: index.shards.reduce((sum, s) => sum + s.bytes, 0),
    int16Entries,
    float32Entries: entries - int16Entries,
  };
}

export interface LocateOptions {
  /** Skip comparing each source's size and mtime with the index (faster on huge sets; default false). */
  trustSources?: boolean;
}

/**
 * Where the cached data of each of `files` lies, for the batch loader. Every file must have a
 * current entry: a missing or stale one (source changed since the build) is an error naming the
 * file — training from a cache never silently mixes in audio decoding; run the build again.
 * Without `spec`, only the coverage is checked (not which front end the cache suits).
 * @throws VoxkitError E_DATA (missing/stale entries), E_USAGE (a cache for another front end)
 */
export async function locateCachedFiles(dir: string, files: readonly string[], spec: FeatureSpec | undefined, options: LocateOptions = {}): Promise<CacheLocations> {
  const root = resolve(dir);
  const index = await readFeatureCacheIndex(root);
  if (!index) throw new VoxkitError('E_DATA', `${join(root, FEATURE_CACHE_INDEX)}: no feature cache here (build it with voxkit cache build)`, { file: join(root, FEATURE_CACHE_INDEX) });
  // Waveforms at the right rate feed every audio front end (RTVC too, e.g. with augmentation).
  const content = spec && cacheContentFor(spec);
  const waveformsFit = spec && index.content.kind === 'waveform' && spec.kind !== 'frames' && index.content.sampleRateHz === spec.sampleRateHz;
  if (spec && content && !sameContent(index.content, content) && !waveformsFit) {
    throw new VoxkitError('E_USAGE', `${root}: this feature cache holds ${describeContent(index.content)}, but ${spec.source} trains on ${describeContent(content)}`, { file: root });
  }
  const n = files.length;
  const locations = {
    dir: root,
    content: index.content,
    shardFiles: index.shards.map((s) => s.file),
    files: files.slice(),
    shard: new Uint32Array(n),
    offset: new Float64Array(n),
    rows: new Uint32Array(n),
    cols: new Uint32Array(n),
    dtype: new Uint8Array(n),
  };
  const missing: string[] = [];
  const changed: string[] = [];
  const check = async (i: number): Promise<void> => {
    const file = resolve(files[i]);
    const record = index.entries[file];
    if (!record) {
      missing.push(files[i]);
      return;
    }
    const shard = index.shards[record[0]];
    if (!shard || record[1] + entryBytes(record) > shard.bytes) {
      throw new VoxkitError('E_DATA', `${join(root, FEATURE_CACHE_INDEX)}: damaged entry for ${file}; delete ${root} and build again`, { file: join(root, FEATURE_CACHE_INDEX) });
    }
    if (!options.trustSources) {
      const info = await stat(file).catch(() => undefined);
      if (!info || info.size !== record[5] || info.mtimeMs !== record[6]) changed.push(files[i]);
    }
    locations.shard[i] = record[0];
    locations.offset[i] = record[1];
    locations.rows[i] = record[2];
    locations.cols[i] = record[3];
    locations.dtype[i] = record[4];
  };
  const batch = 64;
  for (let from = 0; from < n; from += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - from) }, (_, k) => check(from + k)));
  }
  missing.sort();
  changed.sort();
  if (missing.length > 0) {
    throw new VoxkitError(
      'E_DATA',
      `${missing[0]}: not in the feature cache ${root} (${missing.length} of ${n} training files missing: ${listSome(missing)}); run voxkit cache build for this training set`,
      { file: missing[0], details: { missing: missing.length } },
    );
  }
  if (changed.length > 0) {
    throw new VoxkitError(
      'E_DATA',
      `${changed[0]}: changed since the feature cache ${root} was built (${changed.length} stale: ${listSome(changed)}); run voxkit cache build again to update it`,
      { file: changed[0], details: { stale: changed.length } },
    );
  }
  return locations;
}

export interface FeatureCacheInfo {
  dir: string;
  content: CacheContent;
  entries: number;
  shards: number;
  bytes: number;
  int16Entries: number;
  writtenBy: string;
}

/** What a cache folder holds (for `voxkit cache info`). */
export async function featureCacheInfo(dir: string): Promise<FeatureCacheInfo> {
  const root = resolve(dir);
  const index = await readFeatureCacheIndex(root);
  if (!index) throw new VoxkitError('E_DATA', `${join(root, FEATURE_CACHE_INDEX)}: no feature cache here`, { file: join(root, FEATURE_CACHE_INDEX) });
  const records = Object.values(index.entries);
  return {
    dir: root,
    content: index.content,
    entries: records.length,
    shards: index.shards.length,
    bytes: index.shards.reduce((sum, s) => sum + s.bytes, 0),
    int16Entries: records.filter((r) => r[4] === 1).length,
    writtenBy: index.writtenBy,
  };
}

export { CachedSourceReader } from './feature-cache-reader-node.js';
