/**
 * Scoring verification trials (browser-safe): voxceleb_trainer's crop-distance score
 * (`evaluateFromList`: −mean of the Euclidean distances between the L2-normalised crop embeddings
 * of the two recordings), whole-utterance cosine, and cohort score normalisation (AS-norm, S-norm)
 * as WeSpeaker computes it. The training Validator and `voxkit eval` both score through here.
 */
import { VoxkitError } from '../errors.js';
import { embedWaveform, isEmbeddingEngine, tfjsEngine, type EmbeddingEngine } from '../api/embed.js';
import { evalCrops } from '../audio/eval-crops.js';
import type { SpeakerEncoder } from '../models/encoder.js';
import type { EmbeddingStrategy } from '../models/registry.js';

/** `crops`: −mean crop-pair distance (voxceleb_trainer); `cosine`: cosine of the pooled embeddings. */
export type ScoringMode = 'crops' | 'cosine';
export const SCORING_MODES: readonly ScoringMode[] = ['crops', 'cosine'];

export type ScoreNorm = 'as-norm' | 's-norm';
export const SCORE_NORMS: readonly ScoreNorm[] = ['as-norm', 's-norm'];

/** How a recording becomes the embeddings it is scored with. */
export interface EmbeddingPlan {
  strategy: EmbeddingStrategy;
  /** Crops per recording (0 = the whole utterance). */
  numEval: number;
  /** Frames per crop (0 = the whole utterance). */
  evalFrames: number;
}

/** True when the plan embeds evenly spaced crops (only voxceleb_trainer-style waveform encoders do). */
export function plansCrops(plan: EmbeddingPlan): boolean {
  return plan.strategy === 'utterance' && plan.numEval > 0 && plan.evalFrames > 0;
}

/**
 * The network outputs a recording is scored with: one row per crop, or a single row for a
 * whole-utterance (or RTVC `embed_utterance`) embedding.
 */
export async function embedForScoring(encoder: SpeakerEncoder | EmbeddingEngine, plan: EmbeddingPlan, wave: Float32Array, file?: string): Promise<Float32Array[]> {
  if (!plansCrops(plan)) {
    const result = await embedWaveform(encoder, plan.strategy, wave, { file });
    return [result.embedding];
  }
  const crops = evalCrops(wave, { numCrops: plan.numEval, cropFrames: plan.evalFrames });
  // The crops are one equal-length batch: one network run on either engine.
  return (isEmbeddingEngine(encoder) ? encoder : tfjsEngine(encoder)).embedWaves(crops);
}

/** v/‖v‖ in float32 (as torch's F.normalize on float32 embeddings); a zero vector stays zero. */
export function unitVector(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const norm = Math.sqrt(s);
  return norm > 0 ? v.map((x) => x / norm) : v.slice();
}

/** The unit-length mean of the unit-length rows: one embedding for a recording's crops. */
export function pooledEmbedding(rows: readonly Float32Array[]): Float32Array {
  if (rows.length === 0) throw new VoxkitError('E_DATA', 'cannot pool zero embeddings');
  const mean = new Float32Array(rows[0].length);
  for (const row of rows) {
    const unit = unitVector(row);
    for (let i = 0; i < mean.length; i++) mean[i] += unit[i];
  }
  return unitVector(mean);
}

export function dotProduct(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new VoxkitError('E_SHAPE', `embeddings differ in size (${a.length} vs ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** −mean over all crop pairs of ‖a_i − b_j‖ (voxceleb_trainer: `-numpy.mean(torch.cdist(ref, com))`). */
export function negativeMeanDistance(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  if (a.length === 0 || b.length === 0) throw new VoxkitError('E_DATA', 'cannot score a recording without embeddings');
  let sum = 0;
  for (const x of a) {
    for (const y of b) {
      if (x.length !== y.length) throw new VoxkitError('E_SHAPE', `embeddings differ in size (${x.length} vs ${y.length})`);
      let d = 0;
      for (let k = 0; k < x.length; k++) {
        const diff = x[k] - y[k];
        d += diff * diff;
      }
      sum += Math.sqrt(d);
    }
  }
  return -sum / (a.length * b.length);
}

/** A recording ready to score: its (normalised) crop rows and their pooled embedding. */
export interface ScorableRecording {
  rows: Float32Array[];
  pooled: Float32Array;
}

/**
 * Prepares network outputs for scoring. `normalize` L2-normalises each row first
 * (voxceleb_trainer's `test_normalize`, true for its metric-learning losses).
 */
export function scorableRecording(rows: readonly Float32Array[], normalize = true): ScorableRecording {
  const prepared = normalize ? rows.map((row) => unitVector(row)) : [...rows];
  return { rows: prepared, pooled: pooledEmbedding(prepared) };
}

/** The score of one trial. Higher means more likely the same speaker, in both modes. */
export function scorePair(mode: ScoringMode, a: ScorableRecording, b: ScorableRecording): number {
  return mode === 'crops' ? negativeMeanDistance(a.rows, b.rows) : dotProduct(a.pooled, b.pooled);
}

/**
 * Cohort entries from per-speaker groups of recordings: each speaker's mean pooled embedding,
 * L2-normalised (WeSpeaker averages a cohort speaker's embeddings into one vector), in the order
 * given. Each entry is a single-row recording, so both scoring modes apply to it.
 */
export function speakerCohort(recordingsBySpeaker: ReadonlyMap<string, readonly ScorableRecording[]>): ScorableRecording[] {
  const cohort: ScorableRecording[] = [];
  for (const [speaker, recordings] of recordingsBySpeaker) {
    if (recordings.length === 0) throw new VoxkitError('E_DATA', `cohort speaker ${speaker} has no recordings`);
    const mean = new Float32Array(recordings[0].pooled.length);
    for (const r of recordings) for (let i = 0; i < mean.length; i++) mean[i] += r.pooled[i];
    const unit = unitVector(mean);
    cohort.push({ rows: [unit], pooled: unit });
  }
  return cohort;
}

export interface CohortStats {
  mean: number;
  /** Population standard deviation (numpy's default, ddof 0). */
  std: number;
}

/** Mean and standard deviation of the `topN` highest scores (all of them when there are fewer). */
export function topScoreStats(scores: ArrayLike<number>, topN: number): CohortStats {
  if (!Number.isInteger(topN) || topN < 1) throw new VoxkitError('E_USAGE', `top-n must be a positive integer, got ${topN}`);
  if (scores.length === 0) throw new VoxkitError('E_DATA', 'no cohort scores');
  const sorted = Float64Array.from(scores).sort().reverse();
  const n = Math.min(topN, sorted.length);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (sorted[i] - mean) ** 2;
  return { mean, std: Math.sqrt(squares / n) };
}

/** The scores of one recording against every cohort entry, in the trial scoring mode. */
export function cohortScores(mode: ScoringMode, recording: ScorableRecording, cohort: readonly ScorableRecording[]): Float64Array {
  return Float64Array.from(cohort, (entry) => scorePair(mode, recording, entry));
}

/** ½·[(s − μ_e)/σ_e + (s − μ_t)/σ_t]: the adaptive symmetric normalisation of one score. */
export function symmetricNormalize(score: number, enroll: CohortStats, test: CohortStats): number {
  return 0.5 * ((score - enroll.mean) / enroll.std + (score - test.mean) / test.std);
}

export interface NormalizeScoresOptions {
  mode: ScoringMode;
  norm: ScoreNorm;
  /** AS-norm: how many of the highest cohort scores of each recording set its statistics (WeSpeaker: 300). */
  topN?: number;
  /** The recordings the trials refer to, by trial path. */
  recordings: ReadonlyMap<string, ScorableRecording>;
  cohort: readonly ScorableRecording[];
  trials: readonly { enrollPath: string; testPath: string }[];
  /** Raw trial scores, in trial order. */
  scores: ArrayLike<number>;
}

/**
 * AS-norm (statistics of each side's `topN` highest cohort scores) or S-norm (the whole cohort),
 * WeSpeaker's `score_norm.py`: normalised = ½[(s − μ_e)/σ_e + (s − μ_t)/σ_t].
 */
export function normalizeScores(options: NormalizeScoresOptions): Float64Array {
  const { mode, norm, recordings, cohort, trials, scores } = options;
  if (cohort.length < 2) throw new VoxkitError('E_DATA', `score normalisation needs a cohort of at least 2 entries, got ${cohort.length}`);
  if (scores.length !== trials.length) throw new VoxkitError('E_USAGE', `${scores.length} scores for ${trials.length} trials`);
  const topN = norm === 's-norm' ? cohort.length : (options.topN ?? 300);
  const statsByPath = new Map<string, CohortStats>();
  const statsOf = (path: string): CohortStats => {
    let stats = statsByPath.get(path);
    if (!stats) {
      const recording = recordings.get(path);
      if (!recording) throw new VoxkitError('E_DATA', `no embedding for ${path}`);
      stats = topScoreStats(cohortScores(mode, recording, cohort), topN);
      if (!(stats.std > 0)) {
        throw new VoxkitError('E_DATA', `the cohort scores of ${path} do not vary (standard deviation ${stats.std}); use a larger or more varied cohort`);
      }
      statsByPath.set(path, stats);
    }
    return stats;
  };
  return Float64Array.from(trials, (trial, i) => symmetricNormalize(scores[i], statsOf(trial.enrollPath), statsOf(trial.testPath)));
}
