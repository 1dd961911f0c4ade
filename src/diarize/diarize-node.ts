/**
 * Diarizing audio files (Node): loads the file at the encoder's rate, runs the pipeline, and names
 * the speakers from a speaker database when one is given.
 */
import { loadAudio } from '../audio/load-node.js';
import type { LoadedEncoder } from '../api/load-encoder-node.js';
import { SpeakerDatabase } from '../speakers/database-node.js';
import { DEFAULT_IDENTIFY_THRESHOLD, modelIdentity } from '../speakers/enroll-node.js';
import { diarizeWaveform, type DiarizationResult, type DiarizeOptions } from './diarize.js';
import { nameWithEnrolledSpeakers } from './naming.js';

export interface DiarizeFileOptions extends DiarizeOptions {
  /** Speaker database (voxkit enroll) whose speakers name the clusters they match. */
  db?: string;
  /** Open-set threshold for naming; default the database's stored one, else DEFAULT_IDENTIFY_THRESHOLD. */
  dbThreshold?: number;
}

export interface FileDiarization extends DiarizationResult {
  file: string;
  /** Set when a database named the speakers. */
  naming?: { db: string; threshold: number; thresholdSource: 'option' | 'database' | 'default' };
}

/** Diarizes one audio file (any format loadAudio reads; mixed to mono, resampled to the encoder's rate). */
export async function diarizeFile(loaded: LoadedEncoder, file: string, options: DiarizeFileOptions = {}): Promise<FileDiarization> {
  const audio = await loadAudio(file, { sampleRateHz: loaded.encoder.sampleRateHz });
  const result = await diarizeWaveform(loaded.engine ?? loaded.encoder, loaded.spec.strategy, audio.samples, options);
  if (!options.db) return { ...result, file };
  return { ...(await nameFromDatabase(result, loaded, options.db, options.dbThreshold)), file };
}

/**
 * Names the clusters of `result` after the database's speakers. The database must hold embeddings
 * of the same model (checked by checkpoint hash), or the scores would mean nothing.
 */
export async function nameFromDatabase(
  result: DiarizationResult,
  loaded: LoadedEncoder,
  dbPath: string,
  threshold?: number,
): Promise<DiarizationResult & { naming: NonNullable<FileDiarization['naming']> }> {
  const db = SpeakerDatabase.open(dbPath, { readOnly: true });
  try {
    db.checkModel(await modelIdentity(loaded));
    const stored = db.threshold()?.value;
    const used = threshold ?? stored ?? DEFAULT_IDENTIFY_THRESHOLD;
    const thresholdSource = threshold !== undefined ? 'option' : stored !== undefined ? 'database' : 'default';
    return { ...nameWithEnrolledSpeakers(result, db.speakers(), used), naming: { db: dbPath, threshold: used, thresholdSource } };
  } finally {
    await db.close();
  }
}
