/**
 * Enrolling and identifying audio files against a speaker database (Node): loads the encoder,
 * embeds the files, and reads or writes the database, so library users need not touch the CLI.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VoxkitError } from '../errors.js';
import { disposeLoadedEncoder, embedFile, loadEncoder, type LoadEncoderOptions, type LoadedEncoder } from '../api/load-encoder-node.js';
import { sha256Hex } from '../train/checkpoint-node.js';
import { SpeakerDatabase, modelMismatchError, normalizeSpeakerName, sameModel, type ModelIdentity, type StoredSpeaker, type StoredThreshold } from './database-node.js';
import { identifyEmbedding, type IdentifyResult, type SpeakerScoring } from './identify.js';

/**
 * Open-set threshold when neither the caller nor the database gives one. Not calibrated: scores
 * depend on the model and the data; `voxkit speakers --calibrate` stores a calibrated one.
 */
export const DEFAULT_IDENTIFY_THRESHOLD = 0.5;

export interface SpeakerEncoderOptions extends Pick<LoadEncoderOptions, 'engine' | 'threads'> {
  /** A checkpoint path, or an encoder the caller has loaded (and keeps ownership of; `engine` and `threads` then do not apply). */
  weights: string | LoadedEncoder;
  /** Architecture, when it cannot be detected from the weights. */
  model?: string;
  /** voxceleb models: embed this many evenly spaced crops instead of the whole recording. */
  crops?: number;
  cropFrames?: number;
}

/** Identity of a loaded encoder: architecture, SHA-256 of its checkpoint file, embedding size. */
export async function modelIdentity(loaded: LoadedEncoder): Promise<ModelIdentity> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(loaded.file);
  } catch (cause) {
    throw new VoxkitError('E_IO', `${loaded.file}: cannot read the checkpoint (${(cause as NodeJS.ErrnoException)?.code ?? cause})`, { file: loaded.file, cause });
  }
  return { architecture: loaded.name, checkpointSha256: sha256Hex(bytes), embeddingDim: loaded.encoder.embeddingDim };
}

async function withEncoder<T>(options: SpeakerEncoderOptions, body: (loaded: LoadedEncoder, model: ModelIdentity) => Promise<T>): Promise<T> {
  const owned = typeof options.weights === 'string';
  const loaded = typeof options.weights === 'string' ? await loadEncoder(options.weights, { model: options.model, engine: options.engine, threads: options.threads }) : options.weights;
  try {
    return await body(loaded, await modelIdentity(loaded));
  } finally {
    if (owned) disposeLoadedEncoder(loaded);
  }
}

async function embedAll(loaded: LoadedEncoder, files: readonly string[], options: SpeakerEncoderOptions): Promise<Float32Array[]> {
  const embeddings: Float32Array[] = [];
  for (const file of files) embeddings.push((await embedFile(loaded, file, { crops: options.crops, cropFrames: options.cropFrames })).embedding);
  return embeddings;
}

export interface EnrollResult {
  speaker: StoredSpeaker;
  /** Embeddings added by this call. */
  added: number;
  model: ModelIdentity;
}

/**
 * Embeds `files` and adds them to speaker `name` in the database at `dbPath` (created if missing).
 * All or nothing: every file is embedded before the database is touched, then one transaction
 * stores them all, so a bad file or a crash never leaves a partial enrollment.
 */
export async function enrollFiles(dbPath: string, name: string, files: readonly string[], options: SpeakerEncoderOptions): Promise<EnrollResult> {
  if (files.length === 0) throw new VoxkitError('E_USAGE', 'enroll needs at least one audio file');
  return withEncoder(options, async (loaded, model) => {
    // Fail fast on a wrong model or name before the (slow) embedding, creating nothing yet.
    normalizeSpeakerName(name);
    if (existsSync(join(dbPath, 'data.mdb'))) {
      const probe = SpeakerDatabase.open(dbPath, { readOnly: true });
      try {
        probe.checkModel(model);
      } finally {
        await probe.close();
      }
    }
    const embeddings = await embedAll(loaded, files, options);
    const db = SpeakerDatabase.open(dbPath, { create: true });
    try {
      return { speaker: db.enroll(name, embeddings, files, model), added: files.length, model };
    } finally {
      await db.close();
    }
  });
}

export interface IdentifyFilesOptions extends SpeakerEncoderOptions {
  /** Open-set threshold; default the database's stored one, else DEFAULT_IDENTIFY_THRESHOLD. */
  threshold?: number;
  /** Keep the best `top` speakers per file (default all). */
  top?: number;
  scoring?: SpeakerScoring;
  /**
   * Called for a file that cannot be embedded (unreadable, undecodable, too short); that file is
   * then left out of the results. Without it the first such error is thrown.
   */
  onFileError?: (file: string, error: VoxkitError) => void;
}

export interface FileIdentification extends IdentifyResult {
  file: string;
  threshold: number;
  /** Where the threshold came from: the caller, the database (calibrated or set), or the default. */
  thresholdSource: 'option' | StoredThreshold['source'] | 'default';
}

/** Identifies each file against the speakers of the database at `dbPath` (opened read-only). */
export async function identifyFiles(dbPath: string, files: readonly string[], options: IdentifyFilesOptions): Promise<FileIdentification[]> {
  const db = SpeakerDatabase.open(dbPath, { readOnly: true });
  let speakers: StoredSpeaker[];
  let stored: StoredThreshold | undefined;
  let dbModel: ModelIdentity | undefined;
  try {
    speakers = db.speakers();
    stored = db.threshold();
    dbModel = db.model();
  } finally {
    await db.close();
  }
  if (speakers.length === 0) throw new VoxkitError('E_USAGE', `${dbPath}: no speaker is enrolled`, { file: dbPath });
  const threshold = options.threshold ?? stored?.value ?? DEFAULT_IDENTIFY_THRESHOLD;
  const thresholdSource: FileIdentification['thresholdSource'] = options.threshold !== undefined ? 'option' : (stored?.source ?? 'default');
  return withEncoder(options, async (loaded, model) => {
    if (dbModel && !sameModel(dbModel, model)) throw modelMismatchError(dbPath, dbModel, model);
    const results: FileIdentification[] = [];
    for (const file of files) {
      let embedding: Float32Array;
      try {
        ({ embedding } = await embedFile(loaded, file, { crops: options.crops, cropFrames: options.cropFrames }));
      } catch (err) {
        if (!(err instanceof VoxkitError) || !options.onFileError) throw err;
        options.onFileError(file, err);
        continue;
      }
      results.push({ file, ...identifyEmbedding(speakers, embedding, { threshold, top: options.top, scoring: options.scoring }), threshold, thresholdSource });
    }
    return results;
  });
}

export async function identifyFile(dbPath: string, file: string, options: IdentifyFilesOptions): Promise<FileIdentification> {
  return (await identifyFiles(dbPath, [file], options))[0];
}
