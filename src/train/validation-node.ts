/**
 * Validation during training, as voxceleb_trainer's `evaluateFromList` does it: embed every
 * recording of a trial list with the encoder in eval mode (evenly spaced crops or the whole
 * utterance; RTVC partials for RTVC), score each trial, and report EER and minDCF
 * (src/eval/metrics.ts). The trials come from a trial list file, or are generated from held-out
 * speakers (a validation list or speakers split off the training data).
 */
import { isAbsolute, join } from 'node:path';
import { VoxkitError } from '../errors.js';
import { loadAudio } from '../audio/load-node.js';
import { verificationMetrics } from '../eval/metrics.js';
import { embedForScoring, scorableRecording, scorePair, type ScorableRecording } from '../eval/scoring.js';
import { generateTrials, trialLabels, trialPaths, type LabelledUtterance, type Trial } from '../eval/trials.js';
import type { SpeakerEncoder } from '../models/encoder.js';
import type { EmbeddingStrategy } from '../models/registry.js';

export interface ValidationSet {
  trials: Trial[];
  /** Where the trials came from (for logs). */
  source: string;
  /** Folder relative paths start from. */
  root: string;
}

export interface ValidationOptions {
  strategy: EmbeddingStrategy;
  scoring: 'cosine' | 'mean-distance';
  /** Crops per recording (0 = whole utterance). */
  numEval: number;
  /** Frames per crop (0 = whole utterance). */
  evalFrames: number;
  /** L2-normalise crop embeddings before scoring (voxceleb_trainer `__L__.test_normalize`). */
  testNormalize: boolean;
  pTarget: number;
  cMiss: number;
  cFa: number;
}

export interface ValidationResult {
  eer: number;
  minDcf: number;
  threshold: number;
  trials: number;
  seconds: number;
}

/** Target and non-target pair capacity of a set of recordings (target pairs across sessions when known). */
function pairCapacity(utterances: readonly LabelledUtterance[]): { targets: number; nonTargets: number } {
  const bySpeaker = new Map<string, Map<string, number>>();
  for (const u of utterances) {
    const sessions = bySpeaker.get(u.speaker) ?? new Map<string, number>();
    // A recording without a session pairs with any other of its speaker: give it a session of its own.
    const session = u.session ?? `\u0000${u.path}`;
    sessions.set(session, (sessions.get(session) ?? 0) + 1);
    bySpeaker.set(u.speaker, sessions);
  }
  let targets = 0;
  let sumSquares = 0;
  for (const sessions of bySpeaker.values()) {
    let n = 0;
    let within = 0;
    for (const count of sessions.values()) {
      n += count;
      within += count * count;
    }
    targets += (n * n - within) / 2;
    sumSquares += n * n;
  }
  const total = utterances.length;
  return { targets, nonTargets: (total * total - sumSquares) / 2 };
}

/**
 * Balanced trials (about half targets) over held-out recordings; fewer than `count` when the
 * recordings cannot supply that many distinct pairs.
 */
export function validationTrials(utterances: readonly LabelledUtterance[], count: number, seed: number): Trial[] {
  const { targets, nonTargets } = pairCapacity(utterances);
  const usable = Math.min(count, 2 * Math.min(targets, nonTargets));
  if (usable < 2) {
    throw new VoxkitError('E_DATA', `validation data too small for trials: ${utterances.length} recordings give ${targets} target and ${nonTargets} non-target pairs`);
  }
  return generateTrials(utterances, { count: usable, seed, targetFraction: 0.5 });
}

function resolvePath(root: string, path: string): string {
  return isAbsolute(path) || !root ? path : join(root, path);
}

/**
 * Embeds and scores a validation set. Waveforms are loaded once and kept, so later validations
 * only run the network.
 */
export class Validator {
  private readonly waves = new Map<string, Float32Array>();

  constructor(
    readonly set: ValidationSet,
    readonly options: ValidationOptions,
  ) {}

  get numTrials(): number {
    return this.set.trials.length;
  }

  /** Every recording of the trials, checked for existence up front (the caller reports the list). */
  paths(): string[] {
    return trialPaths(this.set.trials).map((p) => resolvePath(this.set.root, p));
  }

  private async wave(path: string, sampleRateHz: number): Promise<Float32Array> {
    let wave = this.waves.get(path);
    if (!wave) {
      wave = (await loadAudio(path, { sampleRateHz })).samples;
      this.waves.set(path, wave);
    }
    return wave;
  }

  /** Crop embeddings of one recording ([crops][dim]); one entry when the whole utterance is used. */
  private async embedRecording(encoder: SpeakerEncoder, path: string): Promise<Float32Array[]> {
    const wave = await this.wave(path, encoder.sampleRateHz);
    const { strategy, numEval, evalFrames } = this.options;
    return embedForScoring(encoder, { strategy, numEval, evalFrames }, wave, path);
  }

  /** Runs validation with the encoder in eval mode (its previous mode is restored). */
  async run(encoder: SpeakerEncoder): Promise<ValidationResult> {
    const started = performance.now();
    const wasTraining = encoder.training;
    encoder.eval();
    const recordings = new Map<string, ScorableRecording>();
    try {
      for (const path of trialPaths(this.set.trials)) {
        const rows = await this.embedRecording(encoder, resolvePath(this.set.root, path));
        recordings.set(path, scorableRecording(rows, this.options.testNormalize));
      }
    } finally {
      encoder.train(wasTraining);
    }
    const trials = this.set.trials;
    const mode = this.options.scoring === 'mean-distance' ? 'crops' : 'cosine';
    const scores = Float64Array.from(trials, (trial) => scorePair(mode, recordings.get(trial.enrollPath)!, recordings.get(trial.testPath)!));
    const metrics = verificationMetrics(scores, trialLabels(trials), { pTarget: this.options.pTarget, cMiss: this.options.cMiss, cFa: this.options.cFa });
    return {
      eer: metrics.eer,
      minDcf: metrics.minDcf,
      threshold: metrics.eerThreshold,
      trials: trials.length,
      seconds: (performance.now() - started) / 1000,
    };
  }
}
