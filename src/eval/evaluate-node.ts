/**
 * Evaluating a checkpoint on a verification trial list (Node), as voxceleb_trainer's `--eval`
 * does: embed every recording the trials name (evenly spaced crops, or the whole utterance), score
 * each trial, optionally normalise the scores against a cohort (AS-norm / S-norm), and report EER
 * and minDCF. Embeddings go through an on-disk cache keyed by checkpoint bytes, recording and
 * settings, so a second evaluation only reads the cache and scores.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { CheckpointError, VoxkitError } from '../errors.js';
import { VERSION } from '../version.js';
import { loadAudio } from '../audio/load-node.js';
import { disposeLoadedEncoder, loadEncoder, type EngineChoice, type LoadedEncoder } from '../api/load-encoder-node.js';
import { loadCheckpointFile } from '../io/load-checkpoint-node.js';
import { MODEL_NAMES, MODEL_REGISTRY, resolveModelName, type ModelName } from '../models/registry.js';
import { sha256Hex } from '../train/checkpoint-node.js';
import { readTrainList } from '../data/dataset-node.js';
import { compareCodePoints } from '../data/train-list.js';
import { verificationMetrics } from './metrics.js';
import { trialLabels, trialPaths, type Trial } from './trials.js';
import { readTrialListFile } from './trials-node.js';
import {
  embedForScoring,
  normalizeScores,
  plansCrops,
  scorableRecording,
  scorePair,
  speakerCohort,
  type EmbeddingPlan,
  type ScorableRecording,
  type ScoreNorm,
  type ScoringMode,
} from './scoring.js';
import { defaultEmbeddingCacheDir, EmbeddingCache, recordingKey, type EmbeddingCacheStatus } from './embedding-cache-node.js';

/** voxceleb_trainer's evaluation protocol: 10 crops of 400 frames (its README's `--eval_frames 400`). */
export const DEFAULT_NUM_EVAL = 10;
export const DEFAULT_EVAL_FRAMES = 400;
export const DEFAULT_TOP_N = 300;

export interface CohortOptions {
  /** Train list (`speaker path` lines) of the cohort recordings. */
  list: string;
  /** Folder the list's paths are relative to ('' = as written). */
  path?: string;
  norm?: ScoreNorm;
  /** AS-norm: cohort scores per recording that set its statistics (default 300). */
  topN?: number;
}

export interface EvaluateTrialsOptions {
  /** Checkpoint file. */
  weights: string;
  /** Architecture, when the checkpoint does not say. */
  model?: string;
  /** Trial list file (`label path1 path2` lines); or give `trials`. */
  testList?: string;
  trials?: readonly Trial[];
  /** Folder the trial paths are relative to (voxceleb_trainer `--test_path`; '' = as written). */
  testPath?: string;
  /** Default `crops`; encoders that do not take crops (RTVC) fall back to `cosine` with a note. */
  scoring?: ScoringMode;
  /** Crops per recording (default 10; cosine scoring uses the whole utterance unless evalFrames is set). */
  numEval?: number;
  /** Frames per crop (default 400 for crop scoring). */
  evalFrames?: number;
  /** L2-normalise each crop embedding before scoring (default true, voxceleb_trainer's `test_normalize`). */
  testNormalize?: boolean;
  pTarget?: number;
  cMiss?: number;
  cFa?: number;
  cohort?: CohortOptions;
  /** Cache folder (default `defaultEmbeddingCacheDir()`); false turns the cache off. */
  cache?: string | false;
  /**
   * Inference engine (default 'tfjs', as `loadEncoder`): 'ort' runs the network in ONNX Runtime,
   * 'auto' does when onnxruntime-node loads. Embeddings cached by ONNX Runtime are kept apart from
   * tfjs ones (the engine is part of the cache key).
   */
  engine?: EngineChoice;
  /** ONNX Runtime intra-op threads (default: VOXKIT_ORT_THREADS or the available cores). */
  threads?: number;
  /** Called once before the first network run (e.g. to initialise the compute backend). */
  prepare?: () => Promise<void>;
  onProgress?: (progress: EvaluationProgress) => void;
}

export interface EvaluationProgress {
  phase: 'embedding';
  done: number;
  total: number;
  cacheHits: number;
}

export interface EvaluationResult {
  /** Equal error rate in percent. */
  eer: number;
  minDcf: number;
  /** Score threshold at the EER point. */
  threshold: number;
  minDcfThreshold: number;
  /** Final scores in trial order (normalised when a cohort was given). */
  scores: Float64Array;
  /** Scores before normalisation (the same array when there was none). */
  rawScores: Float64Array;
  labels: Uint8Array;
  trials: Trial[];
  /** Pooled unit-length embedding of each recording, by its path in the trial list. */
  embeddings: Map<string, Float32Array>;
  /** Recordings embedded (trial and cohort recordings, each once). */
  files: number;
  /** Of those, how many came from the cache. */
  cacheHits: number;
  cache?: EmbeddingCacheStatus;
  model: ModelName;
  /** The engine that embeds (or embedded, for cached recordings) the audio. */
  engine: 'ort' | 'tfjs';
  scoring: ScoringMode;
  numEval: number;
  evalFrames: number;
  norm?: { method: ScoreNorm; topN: number; cohortSpeakers: number };
  pTarget: number;
  cMiss: number;
  cFa: number;
  /** Things the caller should tell the user (scoring fallback, damaged cache segments). */
  notes: string[];
  seconds: number;
}

/** Lines `score label enroll test` (score with every digit, so re-reading gives the same numbers). */
export function formatScoreLines(trials: readonly Trial[], scores: ArrayLike<number>): string {
  return trials.map((t, i) => `${scores[i]} ${t.label ?? '-'} ${t.enrollPath} ${t.testPath}\n`).join('');
}

/** How often finished embeddings are written to the cache during a long run. */
const CACHE_FLUSH_MS = 30_000;
const MAX_MISSING_LISTED = 5;

function resolveUnder(root: string, path: string): string {
  return isAbsolute(path) || !root ? path : join(root, path);
}

/**
 * The engine 'auto' stands for, decided before the model loads: the cache key needs it, and a fully
 * cached run never loads the model.
 */
async function resolveEngine(choice: EngineChoice): Promise<'ort' | 'tfjs'> {
  if (choice !== 'auto') return choice;
  const { loadOnnxRuntime } = await import('../engine/ort-node.js');
  return (await loadOnnxRuntime()) ? 'ort' : 'tfjs';
}

async function resolveModel(weights: string, model: string | undefined): Promise<ModelName> {
  if (model) return resolveModelName(model);
  const checkpoint = await loadCheckpointFile(weights);
  if (checkpoint.architecture && (MODEL_NAMES as string[]).includes(checkpoint.architecture)) return checkpoint.architecture as ModelName;
  throw new CheckpointError(weights, `cannot tell which model these weights belong to (layout ${checkpoint.layout}); pass --model (${MODEL_NAMES.join(', ')})`);
}

interface Recording {
  /** As listed (trial path, or cohort list path). */
  listed: string;
  file: string;
  key: string;
}

/** Stats every recording up front so that all missing files are reported together. */
async function locateRecordings(listed: readonly string[], root: string, listFile: string | undefined, what: string): Promise<Recording[]> {
  const found: Recording[] = [];
  const missing: string[] = [];
  for (const path of listed) {
    const file = resolveUnder(root, path);
    try {
      found.push({ listed: path, file, key: await recordingKey(file) });
    } catch {
      missing.push(file);
    }
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, MAX_MISSING_LISTED).join(', ');
    const more = missing.length > MAX_MISSING_LISTED ? ` and ${missing.length - MAX_MISSING_LISTED} more` : '';
    throw new VoxkitError('E_DATA', `${missing.length} of the ${listed.length} ${what} listed cannot be read: ${shown}${more}${root ? '' : ' (relative paths need a test path)'}`, {
      file: listFile,
      details: { missing },
    });
  }
  return found;
}

/** Evaluates a checkpoint on a trial list; see EvaluateTrialsOptions. */
export async function evaluateTrials(options: EvaluateTrialsOptions): Promise<EvaluationResult> {
  const started = performance.now();
  const notes: string[] = [];
  const pTarget = options.pTarget ?? 0.05;
  const cMiss = options.cMiss ?? 1;
  const cFa = options.cFa ?? 1;
  const testNormalize = options.testNormalize ?? true;

  let trials: Trial[];
  if (options.trials) trials = [...options.trials];
  else if (options.testList) trials = await readTrialListFile(options.testList);
  else throw new VoxkitError('E_USAGE', 'evaluateTrials: give a trial list file (testList) or trials');
  const labels = trialLabels(trials);
  const recordings = await locateRecordings(trialPaths(trials), options.testPath ?? '', options.testList, 'trial recordings');

  let cohortRecordings: Array<Recording & { speaker: string }> = [];
  if (options.cohort) {
    const utterances = await readTrainList(options.cohort.list, '');
    if (utterances.length === 0) throw new VoxkitError('E_DATA', 'the cohort list is empty', { file: options.cohort.list });
    const located = await locateRecordings(
      utterances.map((u) => u.path),
      options.cohort.path ?? '',
      options.cohort.list,
      'cohort recordings',
    );
    cohortRecordings = located.map((r, i) => ({ ...r, speaker: utterances[i].speaker }));
  }

  const modelName = await resolveModel(options.weights, options.model);
  const spec = MODEL_REGISTRY[modelName];
  if (spec.strategy === 'feature-frames') {
    throw new VoxkitError('E_USAGE', `${modelName} takes precomputed feature frames, not audio: it cannot be evaluated on a trial list of recordings`);
  }
  let scoring: ScoringMode = options.scoring ?? 'crops';
  if (scoring === 'crops' && spec.strategy !== 'utterance') {
    notes.push(`${modelName} embeds whole utterances (${spec.strategy}), not crops: scoring with cosine instead`);
    scoring = 'cosine';
  }
  for (const [name, value] of [['numEval', options.numEval], ['evalFrames', options.evalFrames]] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw new VoxkitError('E_USAGE', `${name} must be a whole number ≥ 0, got ${value}`);
  }
  // Cosine scoring embeds the whole utterance unless crops are asked for explicitly.
  const wantsCrops = scoring === 'crops' || (options.evalFrames ?? 0) > 0;
  const plan: EmbeddingPlan = {
    strategy: spec.strategy,
    numEval: wantsCrops ? (options.numEval ?? DEFAULT_NUM_EVAL) : 0,
    evalFrames: wantsCrops ? (options.evalFrames ?? DEFAULT_EVAL_FRAMES) : 0,
  };
  if (!plansCrops(plan)) {
    plan.numEval = 0;
    plan.evalFrames = 0;
  }

  const engine = await resolveEngine(options.engine ?? 'tfjs');

  let cache: EmbeddingCache | undefined;
  if (options.cache !== false) {
    const weightsBytes = await readFile(options.weights).catch((cause: unknown) => {
      const code = (cause as NodeJS.ErrnoException)?.code;
      throw new VoxkitError('E_IO', code === 'ENOENT' ? 'file not found' : `cannot read the checkpoint (${code ?? String(cause)})`, { file: options.weights, cause });
    });
    const checkpointSha256 = sha256Hex(weightsBytes);
    cache = await EmbeddingCache.open(options.cache ?? defaultEmbeddingCacheDir(), {
      checkpointSha256,
      // The two engines agree to ~1e-6, not bit for bit; tfjs keys stay as before so existing caches remain valid.
      settings: { voxkit: VERSION, model: modelName, strategy: plan.strategy, numEval: plan.numEval, evalFrames: plan.evalFrames, ...(engine === 'tfjs' ? {} : { engine }) },
    });
    for (const d of cache.status.discarded) notes.push(`embedding cache: discarded a damaged segment (${d.reason}): ${d.file}; its embeddings are recomputed`);
  }

  const all = new Map<string, Recording>();
  for (const r of [...recordings, ...cohortRecordings]) if (!all.has(r.key)) all.set(r.key, r);
  const rowsByKey = new Map<string, Float32Array[]>();
  let cacheHits = 0;
  let loaded: LoadedEncoder | undefined;
  try {
    let lastFlush = performance.now();
    let done = 0;
    for (const [key, recording] of all) {
      let rows = cache?.get(key);
      if (rows) cacheHits++;
      else {
        if (!loaded) {
          await options.prepare?.();
          loaded = await loadEncoder(options.weights, { model: modelName, engine, threads: options.threads });
        }
        const audio = await loadAudio(recording.file, { sampleRateHz: loaded.encoder.sampleRateHz });
        rows = await embedForScoring(loaded.engine ?? loaded.encoder, plan, audio.samples, recording.file);
        cache?.put(key, rows);
        if (cache && performance.now() - lastFlush > CACHE_FLUSH_MS) {
          await cache.flush();
          lastFlush = performance.now();
        }
      }
      rowsByKey.set(key, rows);
      options.onProgress?.({ phase: 'embedding', done: ++done, total: all.size, cacheHits });
    }
  } finally {
    if (loaded) disposeLoadedEncoder(loaded);
    // Whatever was embedded before a failure is kept for the next run.
    await cache?.close();
  }

  const scorable = new Map<string, ScorableRecording>();
  for (const r of recordings) scorable.set(r.listed, scorableRecording(rowsByKey.get(r.key)!, testNormalize));
  const rawScores = Float64Array.from(trials, (t) => scorePair(scoring, scorable.get(t.enrollPath)!, scorable.get(t.testPath)!));

  let scores: Float64Array = rawScores;
  let norm: EvaluationResult['norm'];
  if (options.cohort) {
    const method = options.cohort.norm ?? 'as-norm';
    const bySpeaker = new Map<string, ScorableRecording[]>();
    const speakers = [...new Set(cohortRecordings.map((r) => r.speaker))].sort(compareCodePoints);
    for (const s of speakers) bySpeaker.set(s, []);
    for (const r of cohortRecordings) bySpeaker.get(r.speaker)!.push(scorableRecording(rowsByKey.get(r.key)!, testNormalize));
    const cohort = speakerCohort(bySpeaker);
    const topN = method === 's-norm' ? cohort.length : (options.cohort.topN ?? DEFAULT_TOP_N);
    scores = normalizeScores({ mode: scoring, norm: method, topN, recordings: scorable, cohort, trials, scores: rawScores });
    norm = { method, topN: Math.min(topN, cohort.length), cohortSpeakers: cohort.length };
  }

  const metrics = verificationMetrics(scores, labels, { pTarget, cMiss, cFa });
  return {
    eer: metrics.eer,
    minDcf: metrics.minDcf,
    threshold: metrics.eerThreshold,
    minDcfThreshold: metrics.minDcfThreshold,
    scores,
    rawScores,
    labels,
    trials,
    embeddings: new Map([...scorable].map(([path, r]) => [path, r.pooled])),
    files: all.size,
    cacheHits,
    cache: cache?.status,
    model: modelName,
    engine,
    scoring,
    numEval: plan.numEval,
    evalFrames: plan.evalFrames,
    norm,
    pTarget,
    cMiss,
    cFa,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}
