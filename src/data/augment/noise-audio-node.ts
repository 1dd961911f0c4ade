/**
 * What a batch-loading thread needs to augment a batch: the noise file lists (read once per
 * thread) and the decoded audio of the files the batch's plans name, kept in a bounded LRU cache
 * per thread (MUSAN chunks are drawn over and over; impulse responses are small).
 */
import { loadAudio } from '../../audio/load-node.js';
import { VoxkitError } from '../../errors.js';
import { type AugmentSettings, type BatchAugmentation, type NoiseSets, augmentationActive, checkNoiseSets, filesOfPlans, planAugmentation } from './augment.js';
import { type NoiseSources, readNoiseSets } from './noise-sets-node.js';

/** The augmentation part of the batch-loader settings (plain data, sent to the workers). */
export interface AugmentLoadSettings extends NoiseSources {
  readonly settings: AugmentSettings;
  /** Decoded samples kept per thread; default 24 M (≈ 96 MB, some 300 MUSAN chunks). */
  readonly cacheSamples?: number;
}

export const DEFAULT_NOISE_CACHE_SAMPLES = 24_000_000;

/** Least-recently-used cache of decoded audio, bounded by total samples. */
export class AudioLru {
  private readonly entries = new Map<string, Float32Array>();
  private total = 0;
  constructor(readonly maxSamples: number) {}

  get(key: string): Float32Array | undefined {
    const value = this.entries.get(key);
    if (value) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: Float32Array): void {
    const old = this.entries.get(key);
    if (old) {
      this.total -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.total += value.length;
    // Oldest first; the newest entry always stays, even when alone it is over the bound.
    for (const [k, v] of this.entries) {
      if (this.total <= this.maxSamples || k === key) break;
      this.entries.delete(k);
      this.total -= v.length;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get samples(): number {
    return this.total;
  }
}

const setsBySources = new Map<string, Promise<NoiseSets>>();
let cache: AudioLru | undefined;

/** The noise lists of these sources, read once per thread. */
export function noiseSetsOf(sources: NoiseSources, settings: AugmentSettings): Promise<NoiseSets> {
  const key = JSON.stringify([sources.musan ?? null, sources.rirs ?? null]);
  let sets = setsBySources.get(key);
  if (!sets) {
    sets = readNoiseSets(sources).then((read) => {
      checkNoiseSets(settings, read);
      return read;
    });
    // A failed read is not cached: the next batch tries again and reports the same error.
    sets.catch(() => setsBySources.delete(key));
    setsBySources.set(key, sets);
  }
  return sets;
}

async function loadNoise(file: string, sampleRateHz: number, ffmpegPath: string | undefined): Promise<Float32Array> {
  try {
    const audio = await loadAudio(file, { sampleRateHz, ffmpegPath });
    if (audio.samples.length === 0) throw new VoxkitError('E_DATA', `${file}: no audio samples`, { file });
    return audio.samples;
  } catch (cause) {
    if (cause instanceof VoxkitError && cause.message.includes(file)) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new VoxkitError(cause instanceof VoxkitError ? cause.code : 'E_IO', `${file}: augmentation audio: ${reason}`, { file, cause });
  }
}

/**
 * The augmentation of one batch: its items' plans decide which noise files to load (from the
 * cache when possible). Undefined when the settings change nothing.
 */
export async function batchAugmentation(
  load: AugmentLoadSettings | undefined,
  seeds: readonly number[],
  sampleRateHz: number,
  ffmpegPath?: string,
): Promise<BatchAugmentation | undefined> {
  if (!load || !augmentationActive(load.settings)) return undefined;
  const sets = await noiseSetsOf(load, load.settings);
  const plans = seeds.map((seed) => planAugmentation(seed, load.settings, sets));
  const maxSamples = load.cacheSamples ?? DEFAULT_NOISE_CACHE_SAMPLES;
  if (!cache || cache.maxSamples !== maxSamples) cache = new AudioLru(maxSamples);
  const lru = cache;
  const audio = new Map<string, Float32Array>();
  await Promise.all(
    filesOfPlans(plans).map(async (file) => {
      const key = `${sampleRateHz}:${file}`;
      let samples = lru.get(key);
      if (!samples) {
        samples = await loadNoise(file, sampleRateHz, ffmpegPath);
        lru.set(key, samples);
      }
      audio.set(file, samples);
    }),
  );
  return { settings: load.settings, sets, audio };
}
