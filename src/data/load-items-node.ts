/**
 * Loads the files of one batch and computes its features: the work a batch-loader worker does
 * (also run on the calling thread when the loader has no workers).
 */
import { readFile } from 'node:fs/promises';
import { loadAudio } from '../audio/load-node.js';
import { VoxkitError } from '../errors.js';
import type { FeatureBatch, FeatureSpec } from '../features/feature-spec.js';
import { type CropSpec, type ItemSource, batchFeatures } from './batch-features.js';
import { decodeNpyFrames } from './npy-frames.js';
import { type CacheLocations, rtvcBatchWithFrames } from './feature-cache-format.js';
import { CachedSourceReader } from './feature-cache-reader-node.js';
import { type AugmentLoadSettings, batchAugmentation } from './augment/noise-audio-node.js';

export interface ItemLoadSettings {
  readonly spec: FeatureSpec;
  readonly crop: CropSpec;
  /** ffmpeg for non-WAV audio; default `ffmpeg` on the PATH. */
  readonly ffmpegPath?: string;
  /** Read sources from this feature cache (`locateCachedFiles`) instead of decoding audio. */
  readonly featureCache?: CacheLocations;
  /** On-the-fly augmentation (noise, reverb, speed, SpecAugment), driven by the item seeds. */
  readonly augment?: AugmentLoadSettings;
}

/** Makes sure an error names the file it is about. */
export function errorForFile(file: string, cause: unknown): VoxkitError {
  if (cause instanceof VoxkitError) {
    if (cause.file !== undefined && cause.message.includes(file)) return cause;
    return new VoxkitError(cause.code, cause.message.includes(file) ? cause.message : `${file}: ${cause.message}`, {
      file,
      details: cause.details,
      cause,
    });
  }
  const code = (cause as NodeJS.ErrnoException)?.code;
  const reason = code === 'ENOENT' ? 'no such file' : cause instanceof Error ? cause.message : String(cause);
  return new VoxkitError(code ? 'E_IO' : 'E_DATA', `${file}: ${reason}`, { file, cause });
}

const cacheReaders = new WeakMap<CacheLocations, CachedSourceReader>();

/** Closes the shard files this thread opened for `locations` (a loader without workers reads on this thread). */
export async function closeCachedSources(locations: CacheLocations): Promise<void> {
  const reader = cacheReaders.get(locations);
  cacheReaders.delete(locations);
  await reader?.close();
}

/**
 * The cached source of `file`; undefined for RTVC mel entries shorter than the training window,
 * which are cut from wrap-padded audio (RTVC preprocessing drops such utterances anyway).
 */
async function cachedSource(settings: ItemLoadSettings, locations: CacheLocations, file: string): Promise<ItemSource | undefined> {
  let reader = cacheReaders.get(locations);
  if (!reader) cacheReaders.set(locations, (reader = new CachedSourceReader(locations)));
  const rows = reader.rowsOf(file) ?? 0;
  if (locations.content.kind === 'rtvc-mel' && settings.crop.mode === 'frames' && rows < settings.crop.numFrames && !file.toLowerCase().endsWith('.npy')) return undefined;
  return reader.read(file);
}

async function loadSource(settings: ItemLoadSettings, file: string): Promise<ItemSource> {
  try {
    if (settings.featureCache) {
      const cached = await cachedSource(settings, settings.featureCache, file);
      if (cached) return cached;
    }
    // RTVC trains on the mel frames SV2TTS preprocessing stored.
    if (settings.spec.kind === 'frames' || (settings.spec.kind === 'rtvc-mel' && file.toLowerCase().endsWith('.npy'))) {
      const bytes = await readFile(file);
      return { frames: decodeNpyFrames(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file) };
    }
    const audio = await loadAudio(file, { sampleRateHz: settings.spec.sampleRateHz, ffmpegPath: settings.ffmpegPath });
    if (audio.samples.length === 0) throw new VoxkitError('E_DATA', `${file}: no audio samples`, { file });
    return { samples: audio.samples };
  } catch (cause) {
    throw errorForFile(file, cause);
  }
}

/**
 * Loads `files` (one per item, in item order), crops each with its seed and computes the features.
 * @returns [items, …] features in item order
 * @throws VoxkitError naming the first file (in item order) that could not be used
 */
export async function loadBatchFeatures(settings: ItemLoadSettings, files: readonly string[], seeds: readonly number[]): Promise<FeatureBatch> {
  // A file repeated in a batch (GE2E cyclers may repeat) is read once.
  const unique = [...new Set(files)];
  const settled = await Promise.allSettled(unique.map((file) => loadSource(settings, file)));
  const byFile = new Map<string, ItemSource>();
  for (let i = 0; i < unique.length; i++) {
    const result = settled[i];
    if (result.status === 'rejected') throw result.reason;
    byFile.set(unique[i], result.value);
  }
  const sources = files.map((file) => byFile.get(file) as ItemSource);
  if (settings.spec.kind === 'rtvc-mel' && sources.some((source) => 'frames' in source)) {
    if (settings.augment) {
      throw new VoxkitError('E_CONFIG', `${settings.spec.source}: augmentation needs waveforms, not stored mel frames (use a waveform feature cache or audio files)`);
    }
    return rtvcBatchWithFrames(settings.spec, settings.crop, sources, seeds, files);
  }
  const augmentation = settings.spec.kind === 'frames' ? undefined : await batchAugmentation(settings.augment, seeds, settings.spec.sampleRateHz, settings.ffmpegPath);
  try {
    return batchFeatures(settings.spec, settings.crop, sources, seeds, augmentation);
  } catch (cause) {
    // A crop/feature failure belongs to one item; find which, so the message names its file.
    for (let i = 0; i < files.length; i++) {
      try {
        batchFeatures(settings.spec, settings.crop, [sources[i]], [seeds[i]], augmentation);
      } catch (itemCause) {
        throw errorForFile(files[i], itemCause);
      }
    }
    throw cause;
  }
}
