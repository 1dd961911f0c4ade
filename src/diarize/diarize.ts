/**
 * Who spoke when: speech activity detection → sliding windows → one embedding per window →
 * clustering (a given speaker count, or an automatic one) → frame labels → smoothed segments with
 * a confidence each. Browser-safe: it takes a waveform and an encoder (file loading and the speaker
 * database are in diarize-node.ts).
 */
import { VoxkitError } from '../errors.js';
import { embedWaveform, isEmbeddingEngine, l2Normalize, tfjsEngine, type EmbeddingEngine } from '../api/embed.js';
import { clusterEmbeddings, type ClusterMethod, type ClusterOptions, type ClusterResult } from '../cluster/cluster.js';
import type { SpeakerEncoder } from '../models/encoder.js';
import type { EmbeddingStrategy } from '../models/registry.js';
import { detectSpeechRegions, totalDuration, type SpeechActivityOptions, type SpeechRegion } from './speech-activity.js';
import { slidingWindows, type AnalysisWindow, type WindowOptions } from './windows.js';
import { windowsToSegments, type LabelledWindow, type SegmentSmoothingOptions } from './segments.js';
import type { SpeakerTurn } from './rttm.js';

export interface DiarizeOptions extends SpeechActivityOptions, WindowOptions, SegmentSmoothingOptions {
  /** The number of speakers, when known; otherwise it is estimated. */
  numSpeakers?: number;
  /** Bounds of the automatic count. Defaults 1 and 8. */
  minSpeakers?: number;
  maxSpeakers?: number;
  /** Default 'ahc' (measured better than 'spectral' on 1.5 s windows; see docs/diarize.md). */
  method?: ClusterMethod;
  /**
   * AHC, automatic count: 'silhouette' cuts the dendrogram at the count (within the bounds) whose
   * clusters are best separated (mean silhouette on cosine distance); 'threshold' stops merging at
   * `threshold`. Default 'silhouette'.
   */
  countBy?: 'silhouette' | 'threshold';
  /**
   * AHC: stop merging below this average cosine similarity between the (centred, smoothed) window
   * embeddings. Default DEFAULT_DIARIZE_THRESHOLD.
   */
  threshold?: number;
  /**
   * Clusters holding fewer than this share of the windows are dissolved into their nearest
   * cluster (a few stray windows are not a speaker). Default 0.1; 0 keeps every cluster.
   */
  minClusterShare?: number;
  /** Segments whose confidence is below this are flagged `review`. Default 0.5. */
  minConfidence?: number;
  /** Windows per forward pass. Default 32. */
  batchSize?: number;
  /** Seed of the clustering's random parts (spectral k-means). Default 0. */
  seed?: number;
  /**
   * Average each window's embedding with this many neighbours on each side within its speech
   * region before clustering (more evidence per decision; blurs only next to a speaker change).
   * Default 2 (with 0.75 s hops: about 4.5 s of speech behind each decision).
   */
  smoothWindows?: number;
  /**
   * Subtract the recording's mean window embedding before clustering (default true). What all
   * windows share — room, microphone, language, the encoder's bias — then no longer makes every
   * pair look alike. It assumes at least two speakers: a one-speaker recording is best diarized
   * with numSpeakers 1.
   */
  center?: boolean;
  /** Skip speech activity detection and use these regions (e.g. an oracle for evaluation). */
  speechRegions?: readonly SpeechRegion[];
}

export interface DiarizedSegment extends SpeakerTurn {
  /** Cluster index (0 = the speaker heard first). */
  cluster: number;
  /** 0…1: how much the windows under the segment agree with its speaker and how sure each is. */
  confidence: number;
  /** Confidence below `minConfidence`: worth a human check. */
  review: boolean;
}

export interface DiarizedSpeaker {
  name: string;
  cluster: number;
  /** L2-normalised mean embedding of the speaker's windows. */
  centroid: Float32Array;
  speechSec: number;
  /** Set when a speaker database named the cluster: the enrolled speaker's cosine score. */
  score?: number;
}

export interface DiarizationResult {
  durationSec: number;
  sampleRateHz: number;
  speechRegions: SpeechRegion[];
  windows: LabelledWindow[];
  method: ClusterMethod;
  /** Whether the count was given or estimated. */
  countSource: 'given' | 'estimated';
  speakers: DiarizedSpeaker[];
  segments: DiarizedSegment[];
  minConfidence: number;
}

export const DEFAULT_MAX_SPEAKERS = 8;
export const DEFAULT_MIN_CONFIDENCE = 0.5;
export const DEFAULT_DIARIZE_METHOD: ClusterMethod = 'ahc';
/**
 * AHC stop on centred window embeddings. Centring spreads the similarities around 0 (windows of
 * different speakers go negative), so this is much lower than a threshold on raw embeddings; it
 * was chosen on assembled conversations of speakers the demo encoder never heard (docs/diarize.md).
 */
export const DEFAULT_DIARIZE_THRESHOLD = 0.2;
export const DEFAULT_SMOOTH_WINDOWS = 2;
export const DEFAULT_MIN_CLUSTER_SHARE = 0.1;

/** Shortest window the frame-based encoders can embed (one 25 ms analysis frame). */
const MIN_WINDOW_SAMPLES = 400;

/** Placeholder names until a database names them: spk1, spk2, … in order of first speech. */
export function defaultSpeakerName(cluster: number): string {
  return `spk${cluster + 1}`;
}

function checkCount(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new VoxkitError('E_USAGE', `${name} must be a positive integer, got ${value}`);
}

/**
 * Embeds each window. Windows of equal length share a forward pass (the networks take
 * equal-length batches); RTVC-style encoders embed each window as an utterance of its own.
 *
 * @returns one L2-normalised embedding per window, or undefined for a window that could not be embedded
 */
export async function embedWindows(
  encoder: SpeakerEncoder | EmbeddingEngine,
  strategy: EmbeddingStrategy,
  wave: Float32Array,
  windows: readonly AnalysisWindow[],
  batchSize = 32,
): Promise<Array<Float32Array | undefined>> {
  const sr = encoder.sampleRateHz;
  const ranges = windows.map((w) => [Math.round(w.start * sr), Math.min(wave.length, Math.round(w.end * sr))] as const);
  const out: Array<Float32Array | undefined> = new Array(windows.length).fill(undefined);
  if (strategy === 'feature-frames') {
    throw new VoxkitError('E_USAGE', `${encoder.architecture} takes feature frames, not audio; diarization needs a waveform encoder`);
  }
  if (strategy === 'rtvc-partials') {
    for (let i = 0; i < windows.length; i++) {
      try {
        out[i] = l2Normalize((await embedWaveform(encoder, strategy, wave.subarray(ranges[i][0], ranges[i][1]))).embedding);
      } catch (err) {
        // A window RTVC's own VAD finds silent has nothing to say about a speaker.
        if (!(err instanceof VoxkitError && err.code === 'E_DATA')) throw err;
      }
    }
    return out;
  }
  const byLength = new Map<number, number[]>();
  ranges.forEach(([from, to], i) => {
    if (to - from < MIN_WINDOW_SAMPLES) return;
    const list = byLength.get(to - from) ?? [];
    list.push(i);
    byLength.set(to - from, list);
  });
  const engine = isEmbeddingEngine(encoder) ? encoder : tfjsEngine(encoder);
  for (const indices of byLength.values()) {
    for (let b = 0; b < indices.length; b += batchSize) {
      const batch = indices.slice(b, b + batchSize);
      const embeddings = await engine.embedWaves(batch.map((i) => wave.subarray(ranges[i][0], ranges[i][1])));
      embeddings.forEach((e, k) => (out[batch[k]] = l2Normalize(e)));
    }
  }
  return out;
}

/**
 * Diarizes one mono waveform at `encoder.sampleRateHz`.
 * @param encoder a tfjs encoder or any EmbeddingEngine (e.g. an ONNX Runtime session)
 */
export async function diarizeWaveform(
  encoder: SpeakerEncoder | EmbeddingEngine,
  strategy: EmbeddingStrategy,
  wave: Float32Array,
  options: DiarizeOptions = {},
): Promise<DiarizationResult> {
  const sampleRateHz = encoder.sampleRateHz;
  const durationSec = wave.length / sampleRateHz;
  const method = options.method ?? DEFAULT_DIARIZE_METHOD;
  const minConfidence = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  checkCount('numSpeakers', options.numSpeakers);
  checkCount('minSpeakers', options.minSpeakers);
  checkCount('maxSpeakers', options.maxSpeakers);
  if (!(minConfidence >= 0 && minConfidence <= 1)) throw new VoxkitError('E_USAGE', `minConfidence must be in [0, 1], got ${minConfidence}`);

  const speechRegions = options.speechRegions ? options.speechRegions.map((r) => ({ ...r })) : await detectSpeechRegions(wave, sampleRateHz, options);
  const allWindows = slidingWindows(speechRegions, options);
  const embedded = await embedWindows(encoder, strategy, wave, allWindows, options.batchSize);
  const windows: AnalysisWindow[] = [];
  const embeddings: Float32Array[] = [];
  embedded.forEach((e, i) => {
    if (e && e.every(Number.isFinite)) {
      windows.push(allWindows[i]);
      embeddings.push(e);
    }
  });
  const base = { durationSec, sampleRateHz, speechRegions, method, minConfidence, countSource: options.numSpeakers ? ('given' as const) : ('estimated' as const) };
  if (embeddings.length === 0) return { ...base, windows: [], speakers: [], segments: [] };

  const n = embeddings.length;
  const reach = options.smoothWindows ?? DEFAULT_SMOOTH_WINDOWS;
  if (!Number.isInteger(reach) || reach < 0) throw new VoxkitError('E_USAGE', `smoothWindows must be a non-negative integer, got ${reach}`);
  const smoothed = reach > 0 ? smoothAlongRegions(embeddings, windows, reach) : embeddings;
  const clusterInput = options.center === false ? smoothed : centerEmbeddings(smoothed);
  const maxSpeakers = Math.min(n, options.maxSpeakers ?? DEFAULT_MAX_SPEAKERS);
  const minSpeakers = Math.min(maxSpeakers, options.minSpeakers ?? 1);
  // Silhouettes need two clusters, so an upper bound of one speaker is a given count.
  const numClusters = options.numSpeakers !== undefined ? Math.min(n, options.numSpeakers) : maxSpeakers === 1 ? 1 : undefined;
  const bySilhouette = method === 'ahc' && numClusters === undefined && options.threshold === undefined && (options.countBy ?? 'silhouette') === 'silhouette';
  const clusterOptions = { method, numClusters, minClusters: minSpeakers, maxClusters: maxSpeakers, threshold: options.threshold ?? DEFAULT_DIARIZE_THRESHOLD, seed: options.seed ?? 0 };
  const clustering =
    n === 1
      ? { labels: Int32Array.of(0), confidence: Float64Array.of(0) }
      : bySilhouette
        ? bestSilhouetteClustering(clusterInput, clusterOptions)
        : clusterEmbeddings(clusterInput, clusterOptions);

  const minShare = options.minClusterShare ?? DEFAULT_MIN_CLUSTER_SHARE;
  if (numClusters === undefined && minShare > 0) dissolveSmallClusters(clusterInput, clustering.labels, Math.ceil(minShare * n));

  // Renumber clusters by first appearance so spk1 is whoever speaks first.
  const order = new Map<number, number>();
  for (const label of clustering.labels) if (!order.has(label)) order.set(label, order.size);
  const labelled: LabelledWindow[] = windows.map((w, i) => ({ ...w, label: order.get(clustering.labels[i])!, confidence: clustering.confidence[i] }));

  const scored = windowsToSegments(labelled, speechRegions, durationSec, options);
  const segments: DiarizedSegment[] = scored.map((s) => ({
    start: s.start,
    end: s.end,
    speaker: defaultSpeakerName(s.label),
    cluster: s.label,
    confidence: s.confidence,
    review: s.confidence < minConfidence,
  }));
  const speakers: DiarizedSpeaker[] = [];
  for (let cluster = 0; cluster < order.size; cluster++) {
    const members = embeddings.filter((_, i) => labelled[i].label === cluster);
    const speechSec = totalDuration(segments.filter((s) => s.cluster === cluster));
    // Clusters the smoothing swallowed entirely no longer speak anywhere.
    if (speechSec === 0) continue;
    speakers.push({ name: defaultSpeakerName(cluster), cluster, centroid: meanDirection(members), speechSec });
  }
  return { ...base, windows: labelled, speakers, segments };
}

/**
 * Removes what all windows of the recording share (voice-independent traits of the channel, the
 * language, the encoder's own bias), so the cosine between windows reflects who speaks.
 */
export function centerEmbeddings(embeddings: readonly Float32Array[]): Float32Array[] {
  const dim = embeddings[0]?.length ?? 0;
  const mean = new Float32Array(dim);
  for (const e of embeddings) for (let d = 0; d < dim; d++) mean[d] += e[d] / embeddings.length;
  return embeddings.map((e) => l2Normalize(e.map((x, d) => x - mean[d])));
}

/**
 * Moves the members of clusters smaller than `minSize` to the nearest remaining centroid (in place).
 * The largest cluster always stays.
 */
export function dissolveSmallClusters(embeddings: readonly Float32Array[], labels: Int32Array, minSize: number): void {
  const k = labels.reduce((m, l) => Math.max(m, l + 1), 0);
  const sizes = new Int32Array(k);
  for (const l of labels) sizes[l]++;
  const largest = sizes.indexOf(Math.max(...sizes));
  const keep = Array.from({ length: k }, (_, c) => c === largest || sizes[c] >= minSize);
  if (keep.every(Boolean)) return;
  const centroids = Array.from({ length: k }, (_, c) => (keep[c] ? meanDirection(embeddings.filter((_, i) => labels[i] === c)) : undefined));
  labels.forEach((label, i) => {
    if (keep[label]) return;
    let best = largest;
    let bestScore = -Infinity;
    centroids.forEach((centroid, c) => {
      if (!centroid) return;
      let dot = 0;
      for (let d = 0; d < centroid.length; d++) dot += centroid[d] * embeddings[i][d];
      if (dot > bestScore) {
        bestScore = dot;
        best = c;
      }
    });
    labels[i] = best;
  });
}

/**
 * Mean silhouette of a labelling under cosine distance: for each item, (b − a) / max(a, b) with a
 * its mean distance to its own cluster and b to the nearest other cluster; singletons count 0.
 */
export function meanSilhouette(embeddings: readonly Float32Array[], labels: Int32Array): number {
  const n = embeddings.length;
  const k = labels.reduce((m, l) => Math.max(m, l + 1), 0);
  if (k < 2) return 0;
  const sizes = new Int32Array(k);
  for (const l of labels) sizes[l]++;
  let total = 0;
  const sums = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let dot = 0;
      for (let d = 0; d < embeddings[i].length; d++) dot += embeddings[i][d] * embeddings[j][d];
      sums[labels[j]] += 1 - dot;
    }
    const own = labels[i];
    if (sizes[own] < 2) continue;
    const a = sums[own] / (sizes[own] - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && sizes[c] > 0) b = Math.min(b, sums[c] / sizes[c]);
    total += (b - a) / Math.max(a, b, 1e-12);
  }
  return total / n;
}

/** AHC at every count in [minClusters, maxClusters] (at least 2), keeping the best mean silhouette. */
function bestSilhouetteClustering(embeddings: readonly Float32Array[], options: ClusterOptions): ClusterResult {
  const low = Math.max(2, options.minClusters ?? 1);
  const high = Math.max(low, options.maxClusters ?? DEFAULT_MAX_SPEAKERS);
  let best: { score: number; result: ClusterResult } | undefined;
  for (let k = low; k <= Math.min(high, embeddings.length); k++) {
    const result = clusterEmbeddings(embeddings, { ...options, method: 'ahc', numClusters: k });
    const score = meanSilhouette(embeddings, result.labels);
    if (!best || score > best.score) best = { score, result };
  }
  return best?.result ?? clusterEmbeddings(embeddings, { ...options, method: 'ahc', numClusters: 1 });
}

/** Each embedding averaged with up to `reach` neighbours on each side that lie in the same speech region. */
export function smoothAlongRegions(embeddings: readonly Float32Array[], windows: readonly AnalysisWindow[], reach: number): Float32Array[] {
  return embeddings.map((e, i) => {
    const sum = e.slice();
    for (let j = i - reach; j <= i + reach; j++) {
      if (j === i || j < 0 || j >= embeddings.length || windows[j].region !== windows[i].region) continue;
      for (let d = 0; d < sum.length; d++) sum[d] += embeddings[j][d];
    }
    return l2Normalize(sum);
  });
}

function meanDirection(vectors: readonly Float32Array[]): Float32Array {
  const mean = new Float32Array(vectors[0]?.length ?? 0);
  for (const v of vectors) for (let d = 0; d < v.length; d++) mean[d] += v[d];
  return l2Normalize(mean);
}

/** Renames speakers (cluster → name); unnamed clusters keep their placeholder. */
export function renameSpeakers(result: DiarizationResult, names: ReadonlyMap<number, { name: string; score?: number }>): DiarizationResult {
  const nameOf = (cluster: number) => names.get(cluster)?.name ?? defaultSpeakerName(cluster);
  return {
    ...result,
    speakers: result.speakers.map((s) => ({ ...s, name: nameOf(s.cluster), score: names.get(s.cluster)?.score })),
    segments: result.segments.map((s) => ({ ...s, speaker: nameOf(s.cluster) })),
  };
}
