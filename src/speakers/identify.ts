/**
 * Open-set speaker identification: scoring a query embedding against enrolled speakers, ranking
 * them, and deciding between the best speaker and `unknown`. Browser-safe (no Node APIs); the
 * database that holds the speakers is database-node.ts.
 */
import { VoxkitError } from '../errors.js';
import { cosineSimilarity, l2Normalize } from '../api/embed.js';
import { tuneThresholdFromScore } from '../eval/metrics.js';

export interface EnrolledSpeaker {
  name: string;
  /** Mean of the L2-normalised `embeddings` (not itself normalised; scoring uses the cosine). */
  centroid: Float32Array;
  /** The embeddings as the encoder produced them, in enrollment order. */
  embeddings: Float32Array[];
  /** Where each embedding came from (file path or a caller's label), parallel to `embeddings`. */
  sources: string[];
}

/**
 * How a query is scored against one speaker:
 * - `centroid`: cosine to the speaker's centroid (the default; see `identifyEmbedding`);
 * - `top-k`: mean of the k best cosines to the speaker's individual enrollment embeddings.
 */
export type SpeakerScoring = 'centroid' | 'top-k';

export interface IdentifyOptions {
  /** Open-set threshold on the score: below it the query is `unknown` (decision null). */
  threshold: number;
  /** Return only the best `top` speakers in `ranked` (default: all). */
  top?: number;
  /** Default `centroid`. */
  scoring?: SpeakerScoring;
  /** k of `top-k` scoring (default 3; speakers with fewer embeddings use all of theirs). */
  k?: number;
}

export interface IdentifyResult {
  /** The best speaker's name, or null (= unknown) when its score is below the threshold. */
  decision: string | null;
  /** Speakers by decreasing score (ties by name), at most `top` of them. */
  ranked: { name: string; score: number }[];
  /**
   * How far the scores are from changing the decision, ≥ 0: for a named speaker, the smaller of
   * (best − runner-up) and (best − threshold); for `unknown`, threshold − best. 0 when nobody is
   * enrolled. A small margin means a fragile decision.
   */
  margin: number;
}

/** Mean of the L2-normalised embeddings: what `EnrolledSpeaker.centroid` holds. */
export function speakerCentroid(embeddings: readonly Float32Array[]): Float32Array {
  if (embeddings.length === 0) throw new VoxkitError('E_USAGE', 'a speaker centroid needs at least one embedding');
  const dim = embeddings[0].length;
  const sum = new Float64Array(dim);
  for (const e of embeddings) {
    if (e.length !== dim) throw new VoxkitError('E_SHAPE', `embeddings differ in size (${dim} vs ${e.length})`);
    const n = l2Normalize(e);
    for (let i = 0; i < dim; i++) sum[i] += n[i];
  }
  return Float32Array.from(sum, (s) => s / embeddings.length);
}

/** The score of `query` against one speaker, as `identifyEmbedding` ranks it. */
export function scoreSpeaker(speaker: EnrolledSpeaker, query: Float32Array, scoring: SpeakerScoring = 'centroid', k = 3): number {
  if (scoring === 'centroid') return cosineSimilarity(speaker.centroid, query);
  if (speaker.embeddings.length === 0) throw new VoxkitError('E_DATA', `speaker "${speaker.name}" has no embeddings`);
  const scores = speaker.embeddings.map((e) => cosineSimilarity(e, query)).sort((a, b) => b - a);
  const used = Math.min(Math.max(1, Math.floor(k)), scores.length);
  let sum = 0;
  for (let i = 0; i < used; i++) sum += scores[i];
  return sum / used;
}

/**
 * Ranks the enrolled speakers by their score against `query` and makes the open-set decision.
 *
 * Default scoring is the cosine to each speaker's centroid: averaging the enrollment embeddings
 * cancels much of the per-recording variation (channel, words, length), each speaker costs one dot
 * product, and speakers enrolled with many recordings are not favoured over those with few (top-k
 * over individual recordings gives a speaker with more recordings more chances of a lucky match).
 */
export function identifyEmbedding(speakers: readonly EnrolledSpeaker[], query: Float32Array, options: IdentifyOptions): IdentifyResult {
  const { threshold, top, scoring = 'centroid', k = 3 } = options;
  if (!Number.isFinite(threshold)) throw new VoxkitError('E_USAGE', `identify: the threshold must be a finite number, got ${threshold}`);
  if (top !== undefined && !(Number.isInteger(top) && top > 0)) throw new VoxkitError('E_USAGE', `identify: top must be a positive integer, got ${top}`);
  if (!query.every(Number.isFinite)) throw new VoxkitError('E_DATA', 'identify: the query embedding contains NaN or infinite values');
  const all = speakers
    .map((s) => ({ name: s.name, score: scoreSpeaker(s, query, scoring, k) }))
    .sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (all.length === 0) return { decision: null, ranked: [], margin: 0 };
  const best = all[0].score;
  const known = best >= threshold;
  const margin = known ? Math.min(best - threshold, all.length > 1 ? best - all[1].score : Infinity) : threshold - best;
  return { decision: known ? all[0].name : null, ranked: top === undefined ? all : all.slice(0, top), margin };
}

export interface ThresholdCalibration {
  /** The open-set threshold: equal rates of falsely rejected known and falsely accepted unknown speakers. */
  threshold: number;
  /** That equal error rate, in percent, on the leave-one-out trials. */
  eer: number;
  /** Number of known-speaker (target) and simulated-unknown (non-target) trials. */
  targets: number;
  nonTargets: number;
}

/**
 * Calibrates the open-set threshold on the enrolled data alone, by leave-one-out: each enrollment
 * embedding of a speaker with at least two is scored against its own speaker's centroid rebuilt
 * without it (a known speaker's query), and every enrollment embedding is scored against the best
 * of the *other* speakers (what the same voice would score were it not enrolled: an unknown
 * speaker's query). The threshold is the EER point of these two sets. Needs two or more speakers,
 * at least one of them with two or more embeddings.
 */
export function calibrateThreshold(speakers: readonly EnrolledSpeaker[], options: { scoring?: SpeakerScoring; k?: number } = {}): ThresholdCalibration {
  const { scoring = 'centroid', k = 3 } = options;
  if (speakers.length < 2) {
    throw new VoxkitError('E_DATA', `calibrating a threshold needs at least 2 enrolled speakers (${speakers.length} enrolled)`);
  }
  const scores: number[] = [];
  const labels: number[] = [];
  for (const speaker of speakers) {
    const others = speakers.filter((s) => s !== speaker);
    speaker.embeddings.forEach((query, i) => {
      if (speaker.embeddings.length >= 2) {
        const rest = speaker.embeddings.filter((_, j) => j !== i);
        const heldOut: EnrolledSpeaker = { ...speaker, embeddings: rest, centroid: speakerCentroid(rest) };
        scores.push(scoreSpeaker(heldOut, query, scoring, k));
        labels.push(1);
      }
      scores.push(Math.max(...others.map((o) => scoreSpeaker(o, query, scoring, k))));
      labels.push(0);
    });
  }
  const targets = labels.reduce((a, b) => a + b, 0);
  if (targets === 0) {
    throw new VoxkitError('E_DATA', 'calibrating a threshold needs a speaker enrolled with at least 2 recordings');
  }
  const { eer, eerThreshold } = tuneThresholdFromScore(scores, labels, []);
  return { threshold: eerThreshold, eer, targets, nonTargets: labels.length - targets };
}
