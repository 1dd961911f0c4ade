/**
 * The feature cache's on-disk format and the parts of reading it that need no Node APIs.
 *
 * What is cached is what a training crop is cut FROM, so batches from the cache are bit-identical
 * to batches decoded from audio for the same seed:
 * - sample-crop front ends (voxceleb log-mel, Kaldi fbank, waveform/RawNet3): the decoded, resampled waveform —
 *   their crop is cut in samples and the log-mel/instance norm is computed on the crop, which
 *   whole-utterance features cannot reproduce;
 * - RTVC mel (frame-window crops): the mel frames of the whole utterance — a partial's frames are
 *   exactly the whole utterance's frames (see `partialUtteranceCrop`);
 * - precomputed `.npy` frames: the frames, decoded.
 *
 * A cache folder holds shard files (`shard-00000.bin`, …) of raw little-endian arrays and
 * `index.json`, which is only ever replaced atomically and names, per source file, its shard,
 * byte offset, shape, sample type and the source's size and mtime (to tell a stale entry).
 */
import { VoxkitError } from '../errors.js';
import type { FeatureSpec, RtvcMelSpec } from '../features/feature-spec.js';
import type { PadMode } from '../features/framing.js';
import { type CropSpec, type ItemSource, batchFeatures, cropUniform } from './batch-features.js';
import type { FrameMatrix } from './crops.js';
import { partialStartFrame } from './crops.js';
import type { FeatureBatch } from '../features/feature-spec.js';

export const FEATURE_CACHE_FORMAT = 'voxkit-feature-cache';
export const FEATURE_CACHE_VERSION = 1;
export const FEATURE_CACHE_INDEX = 'index.json';

/** What the entries of a cache hold; one cache serves every front end with the same content. */
export type CacheContent =
  | { readonly kind: 'waveform'; readonly sampleRateHz: number }
  | { readonly kind: 'rtvc-mel'; readonly sampleRateHz: number; readonly numMels: number; readonly padMode: PadMode }
  | { readonly kind: 'npy-frames' };

/** Sample types of an entry: 0 float32, 1 int16 (÷32768; used only where that is lossless). */
export const DTYPE_F32 = 0;
export const DTYPE_I16 = 1;
export type CacheDtype = typeof DTYPE_F32 | typeof DTYPE_I16;

/**
 * One entry as stored in the index (an array keeps a million-entry index small):
 * [shard, byteOffset, rows, cols, dtype, sourceSize, sourceMtimeMs]. Waveforms are rows = samples,
 * cols = 1; frames are rows = frames, cols = features.
 */
export type CacheEntryRecord = [shard: number, offset: number, rows: number, cols: number, dtype: CacheDtype, size: number, mtimeMs: number];

export interface FeatureCacheIndex {
  format: typeof FEATURE_CACHE_FORMAT;
  version: number;
  content: CacheContent;
  /** voxkit version that last wrote the index. */
  writtenBy: string;
  /** Shard file names and their committed lengths: bytes past a length are an interrupted write. */
  shards: Array<{ file: string; bytes: number }>;
  /** By absolute source path. */
  entries: Record<string, CacheEntryRecord>;
}

/** Bytes of an entry's data. */
export function entryBytes(record: CacheEntryRecord): number {
  return record[2] * record[3] * (record[4] === DTYPE_I16 ? 2 : 4);
}

/** The cache content a front end's training crops are cut from. */
export function cacheContentFor(spec: FeatureSpec): CacheContent {
  switch (spec.kind) {
    case 'voxceleb-logmel':
    case 'kaldi-fbank':
    case 'waveform':
      return { kind: 'waveform', sampleRateHz: spec.sampleRateHz };
    case 'rtvc-mel':
      return { kind: 'rtvc-mel', sampleRateHz: spec.sampleRateHz, numMels: spec.numMels, padMode: spec.padMode };
    case 'frames':
      return { kind: 'npy-frames' };
    default:
      throw new VoxkitError('E_CONFIG', `feature cache: unknown feature kind "${(spec as { kind: unknown }).kind}"`);
  }
}

export function describeContent(content: CacheContent): string {
  switch (content.kind) {
    case 'waveform':
      return `waveforms at ${content.sampleRateHz} Hz`;
    case 'rtvc-mel':
      return `RTVC ${content.numMels}-band mel frames (${content.padMode} padding)`;
    case 'npy-frames':
      return 'feature frames from .npy files';
  }
}

export function sameContent(a: CacheContent, b: CacheContent): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Whether int16 storage of these samples is lossless: every sample is k/32768 for an integer k in
 * [−32768, 32767] (16-bit PCM decoded at its own rate always is).
 */
export function fitsInt16(samples: Float32Array): boolean {
  for (let i = 0; i < samples.length; i++) {
    const k = samples[i] * 32768;
    if (!Number.isInteger(k) || k < -32768 || k > 32767) return false;
  }
  return true;
}

/** An entry's bytes as stored (little-endian; every platform Node runs on is). */
export function encodeEntry(data: Float32Array, dtype: CacheDtype): Uint8Array {
  if (dtype === DTYPE_F32) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Int16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] * 32768;
  return new Uint8Array(out.buffer);
}

/** Float32 values of an entry's bytes (int16 → k/32768, as the WAV decoder computes them). */
export function decodeEntry(bytes: Uint8Array, dtype: CacheDtype): Float32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  if (dtype === DTYPE_F32) return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  const ints = new Int16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
  const out = new Float32Array(ints.length);
  for (let i = 0; i < ints.length; i++) out[i] = ints[i] / 32768;
  return out;
}

/**
 * Where each training file's cached data lies: plain data (structured-clonable), handed to the
 * batch workers so they read without parsing the index. Row i describes `files[i]`.
 */
export interface CacheLocations {
  readonly dir: string;
  readonly content: CacheContent;
  readonly shardFiles: readonly string[];
  readonly files: readonly string[];
  readonly shard: Uint32Array;
  readonly offset: Float64Array;
  readonly rows: Uint32Array;
  readonly cols: Uint32Array;
  readonly dtype: Uint8Array;
}

/**
 * A batch for the RTVC mel front end when some items come as whole-utterance mel frames (cache
 * entries, SV2TTS `.npy` files): a frames item is the window RTVC's `random_partial` takes,
 * ⌊u·(frames − numFrames)⌋ onwards; an audio item goes through `batchFeatures` as usual, so its
 * row is the same either way.
 */
export function rtvcBatchWithFrames(
  spec: RtvcMelSpec,
  crop: CropSpec,
  sources: readonly ItemSource[],
  seeds: readonly number[],
  files: readonly string[],
): FeatureBatch {
  if (crop.mode !== 'frames') throw new VoxkitError('E_CONFIG', `${spec.source}: mel frames are cut in frames, not samples`);
  const { numFrames } = crop;
  const bands = spec.numMels;
  const rowSize = numFrames * bands;
  const data = new Float32Array(sources.length * rowSize);
  sources.forEach((source, i) => {
    if ('samples' in source) {
      data.set(batchFeatures(spec, crop, [source], [seeds[i]]).data, i * rowSize);
      return;
    }
    const frames: FrameMatrix = source.frames;
    if (frames.features !== bands) {
      throw new VoxkitError('E_DATA', `${files[i]}: mel frames have ${frames.features} bands, the model takes ${bands}`, { file: files[i] });
    }
    if (frames.frames < numFrames) {
      throw new VoxkitError('E_DATA', `${files[i]}: ${frames.frames} mel frames, fewer than the ${numFrames}-frame training window`, { file: files[i] });
    }
    const start = partialStartFrame(frames.frames, numFrames, cropUniform(seeds[i]));
    data.set(frames.data.subarray(start * bands, start * bands + rowSize), i * rowSize);
  });
  return { data, shape: [sources.length, numFrames, bands] };
}
