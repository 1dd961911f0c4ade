/**
 * The speaker database: enrolled speakers (embeddings, centroid, sources, timestamps), the model
 * that made the embeddings, and an open-set threshold, in one LMDB environment.
 *
 * LMDB gives what enrollment needs without a server: every change is one ACID transaction (a crash
 * leaves the previous or the new state, never a mix), one writer at a time across processes (its
 * lock is a robust mutex, so a writer killed mid-transaction does not block the next), readers that
 * never block, and commits flushed to disk before they return (we turn off lmdb-js's
 * `overlappingSync`, which would acknowledge a commit before its flush: fine against a killed
 * process, but a power cut could lose the last acknowledged enrollments).
 *
 * On disk, PATH is a directory holding `data.mdb` and `lock.mdb`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { VoxkitError } from '../errors.js';
import { calibrateThreshold, speakerCentroid, type EnrolledSpeaker, type ThresholdCalibration } from './identify.js';

/** The model the embeddings come from: embeddings of different models are not comparable. */
export interface ModelIdentity {
  architecture: string;
  /** SHA-256 of the checkpoint file, hex. */
  checkpointSha256: string;
  embeddingDim: number;
}

export interface StoredThreshold {
  value: number;
  /** `calibrated`: from `calibrateThreshold` on the enrolled data; `set`: given by a user. */
  source: 'calibrated' | 'set';
  updatedAt: string;
  /** Leave-one-out EER (%) of a calibration. */
  eer?: number;
}

export interface StoredSpeaker extends EnrolledSpeaker {
  /** ISO 8601 times of the first and the latest enrollment. */
  enrolledAt: string;
  updatedAt: string;
}

export interface OpenSpeakerDatabaseOptions {
  /** Create the database when PATH does not exist (or is an empty directory). */
  create?: boolean;
  /** Open for reading only; writes throw E_USAGE. */
  readOnly?: boolean;
}

const FORMAT = 'voxkit-speakers';
const FORMAT_VERSION = 1;
const META_KEY = 'meta';
const MAX_NAME_LENGTH = 200;

interface MetaRecord {
  format: string;
  version: number;
  createdAt: string;
  model?: ModelIdentity;
  threshold?: StoredThreshold;
}

interface SpeakerRecord {
  name: string;
  dim: number;
  count: number;
  /** count × dim float32, little-endian. */
  embeddings: Uint8Array;
  centroid: Uint8Array;
  sources: string[];
  enrolledAt: string;
  updatedAt: string;
}

function floatsToBytes(rows: readonly Float32Array[], dim: number): Uint8Array {
  const bytes = new Uint8Array(rows.length * dim * 4);
  const view = new DataView(bytes.buffer);
  rows.forEach((row, r) => row.forEach((x, i) => view.setFloat32((r * dim + i) * 4, x, true)));
  return bytes;
}

function bytesToFloats(bytes: Uint8Array, count: number, dim: number): Float32Array[] {
  if (bytes.byteLength !== count * dim * 4) throw new VoxkitError('E_DATA', `speaker record holds ${bytes.byteLength} bytes of embeddings, expected ${count}×${dim}×4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, r) => {
    const row = new Float32Array(dim);
    for (let i = 0; i < dim; i++) row[i] = view.getFloat32((r * dim + i) * 4, true);
    return row;
  });
}

/**
 * A speaker name as stored: Unicode NFC (so visually equal names are one key), non-empty, at most
 * 200 characters, no control characters and no leading or trailing spaces.
 */
export function normalizeSpeakerName(name: string): string {
  if (typeof name !== 'string') throw new VoxkitError('E_USAGE', 'a speaker name must be a string');
  const normalized = name.normalize('NFC');
  if (normalized.length === 0) throw new VoxkitError('E_USAGE', 'a speaker name must not be empty');
  if (normalized.length > MAX_NAME_LENGTH) throw new VoxkitError('E_USAGE', `a speaker name must be at most ${MAX_NAME_LENGTH} characters (got ${normalized.length})`);
  if (/\p{Cc}/u.test(normalized)) throw new VoxkitError('E_USAGE', `speaker name ${JSON.stringify(name)} contains control characters`);
  if (normalized.trim() !== normalized) throw new VoxkitError('E_USAGE', `speaker name ${JSON.stringify(name)} has leading or trailing spaces`);
  return normalized;
}

export function describeModel(model: ModelIdentity): string {
  return `${model.architecture} (${model.embeddingDim}-d, weights sha256 ${model.checkpointSha256.slice(0, 12)}…)`;
}

export function sameModel(a: ModelIdentity, b: ModelIdentity): boolean {
  return a.architecture === b.architecture && a.checkpointSha256 === b.checkpointSha256 && a.embeddingDim === b.embeddingDim;
}

function ioError(path: string, action: string, cause: unknown): VoxkitError {
  if (cause instanceof VoxkitError) return cause;
  const code = (cause as NodeJS.ErrnoException)?.code;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new VoxkitError('E_IO', `${path}: cannot ${action} the speaker database (${code ?? reason})`, { file: path, cause });
}

export class SpeakerDatabase {
  private constructor(
    readonly path: string,
    readonly readOnly: boolean,
    private readonly env: RootDatabase,
    private readonly meta: Database<MetaRecord, string>,
    private readonly records: Database<SpeakerRecord, string>,
  ) {}

  /**
   * Opens (or with `create`, creates) the database at `path`.
   * @throws VoxkitError E_IO when there is none and `create` is not set or it cannot be opened;
   *   E_USAGE when `path` is something else (a file, a directory of other files);
   *   E_DATA when the database is of another format or version
   */
  static open(path: string, options: OpenSpeakerDatabaseOptions = {}): SpeakerDatabase {
    const { create = false, readOnly = false } = options;
    const exists = existsSync(path);
    if (exists && !statSync(path).isDirectory()) {
      throw new VoxkitError('E_USAGE', `${path}: not a speaker database (expected a directory holding data.mdb)`, { file: path });
    }
    const hasData = exists && existsSync(join(path, 'data.mdb'));
    if (!hasData) {
      if (!create || readOnly) {
        throw new VoxkitError('E_IO', `${path}: no speaker database here (enroll a speaker to create one)`, { file: path });
      }
      if (exists && readdirSync(path).some((f) => f !== 'lock.mdb')) {
        throw new VoxkitError('E_USAGE', `${path}: the directory holds other files; choose a new or empty directory for a speaker database`, { file: path });
      }
    }
    let env: RootDatabase;
    try {
      env = open({ path, noSubdir: false, overlappingSync: false, maxDbs: 4, readOnly });
    } catch (cause) {
      throw ioError(path, 'open', cause);
    }
    try {
      const meta = env.openDB<MetaRecord, string>({ name: 'meta' });
      const records = env.openDB<SpeakerRecord, string>({ name: 'speakers' });
      if (!meta || !records) throw new VoxkitError('E_DATA', `${path}: not a voxkit speaker database (its tables are missing)`, { file: path });
      const db = new SpeakerDatabase(path, readOnly, env, meta, records);
      if (!readOnly) {
        env.transactionSync(() => {
          if (meta.get(META_KEY) === undefined) meta.putSync(META_KEY, { format: FORMAT, version: FORMAT_VERSION, createdAt: new Date().toISOString() });
        });
      }
      db.readMeta();
      return db;
    } catch (cause) {
      void env.close();
      throw ioError(path, 'open', cause);
    }
  }

  private readMeta(): MetaRecord {
    const meta = this.meta.get(META_KEY);
    if (meta === undefined || meta.format !== FORMAT) {
      throw new VoxkitError('E_DATA', `${this.path}: not a voxkit speaker database`, { file: this.path });
    }
    if (meta.version !== FORMAT_VERSION) {
      throw new VoxkitError('E_DATA', `${this.path}: speaker database format ${meta.version} is not supported (this voxkit reads format ${FORMAT_VERSION})`, { file: this.path });
    }
    return meta;
  }

  private write<T>(action: string, body: () => T): T {
    if (this.readOnly) throw new VoxkitError('E_USAGE', `${this.path}: the speaker database was opened read-only; cannot ${action}`, { file: this.path });
    try {
      return this.env.transactionSync(body);
    } catch (cause) {
      throw ioError(this.path, action, cause);
    }
  }

  private decode(record: SpeakerRecord): StoredSpeaker {
    return {
      name: record.name,
      embeddings: bytesToFloats(record.embeddings, record.count, record.dim),
      centroid: bytesToFloats(record.centroid, 1, record.dim)[0],
      sources: [...record.sources],
      enrolledAt: record.enrolledAt,
      updatedAt: record.updatedAt,
    };
  }

  /** The model whose embeddings the database holds (set by the first enrollment). */
  model(): ModelIdentity | undefined {
    return this.readMeta().model;
  }

  /** Throws E_USAGE naming both models when `model` is not the database's. */
  checkModel(model: ModelIdentity): void {
    const stored = this.model();
    if (stored && !sameModel(stored, model)) throw modelMismatchError(this.path, stored, model);
  }

  threshold(): StoredThreshold | undefined {
    return this.readMeta().threshold;
  }

  /**
   * Adds embeddings (with their sources) to speaker `name`, creating it if needed, and recomputes
   * its centroid, all in one transaction. The first enrollment fixes the database's model.
   */
  enroll(name: string, embeddings: readonly Float32Array[], sources: readonly string[], model: ModelIdentity): StoredSpeaker {
    const key = normalizeSpeakerName(name);
    if (embeddings.length === 0) throw new VoxkitError('E_USAGE', `enrolling "${key}" needs at least one embedding`);
    if (sources.length !== embeddings.length) {
      throw new VoxkitError('E_USAGE', `enrolling "${key}": ${embeddings.length} embeddings but ${sources.length} sources`);
    }
    if (!(Number.isInteger(model.embeddingDim) && model.embeddingDim > 0) || !model.architecture || !/^[0-9a-f]{64}$/.test(model.checkpointSha256)) {
      throw new VoxkitError('E_USAGE', `enrolling "${key}": incomplete model identity ${JSON.stringify(model)}`);
    }
    for (const e of embeddings) {
      if (e.length !== model.embeddingDim) {
        throw new VoxkitError('E_SHAPE', `enrolling "${key}": embedding of size ${e.length}, but the model's are ${model.embeddingDim}-d`);
      }
      if (!e.every(Number.isFinite)) throw new VoxkitError('E_DATA', `enrolling "${key}": an embedding contains NaN or infinite values`);
    }
    return this.write('enroll into', () => {
      const meta = this.readMeta();
      if (meta.model && !sameModel(meta.model, model)) throw modelMismatchError(this.path, meta.model, model);
      if (!meta.model) this.meta.putSync(META_KEY, { ...meta, model: { ...model } });
      const now = new Date().toISOString();
      const previous = this.records.get(key);
      const all = previous ? [...this.decode(previous).embeddings, ...embeddings] : [...embeddings];
      const record: SpeakerRecord = {
        name: key,
        dim: model.embeddingDim,
        count: all.length,
        embeddings: floatsToBytes(all, model.embeddingDim),
        centroid: floatsToBytes([speakerCentroid(all)], model.embeddingDim),
        sources: [...(previous?.sources ?? []), ...sources],
        enrolledAt: previous?.enrolledAt ?? now,
        updatedAt: now,
      };
      this.records.putSync(key, record);
      return this.decode(record);
    });
  }

  /** All enrolled speakers, by name. */
  speakers(): StoredSpeaker[] {
    try {
      return [...this.records.getRange({})].map(({ value }) => this.decode(value));
    } catch (cause) {
      throw ioError(this.path, 'read', cause);
    }
  }

  names(): string[] {
    return [...this.records.getKeys({})];
  }

  get(name: string): StoredSpeaker | undefined {
    const record = this.records.get(normalizeSpeakerName(name));
    return record && this.decode(record);
  }

  rename(oldName: string, newName: string): void {
    const from = normalizeSpeakerName(oldName);
    const to = normalizeSpeakerName(newName);
    this.write('rename a speaker in', () => {
      const record = this.records.get(from);
      if (!record) throw this.noSuchSpeaker(from);
      if (from === to) return;
      if (this.records.get(to) !== undefined) throw new VoxkitError('E_USAGE', `${this.path}: speaker "${to}" already exists`, { file: this.path });
      this.records.putSync(to, { ...record, name: to, updatedAt: new Date().toISOString() });
      this.records.removeSync(from);
    });
  }

  remove(name: string): void {
    const key = normalizeSpeakerName(name);
    this.write('remove a speaker from', () => {
      if (!this.records.removeSync(key)) throw this.noSuchSpeaker(key);
    });
  }

  /** Stores the open-set threshold that `identify` uses when none is given. */
  setThreshold(value: number, details: { source?: StoredThreshold['source']; eer?: number } = {}): StoredThreshold {
    if (!Number.isFinite(value)) throw new VoxkitError('E_USAGE', `the threshold must be a finite number, got ${value}`);
    const threshold: StoredThreshold = { value, source: details.source ?? 'set', updatedAt: new Date().toISOString() };
    if (details.eer !== undefined) threshold.eer = details.eer;
    this.write('set the threshold of', () => {
      this.meta.putSync(META_KEY, { ...this.readMeta(), threshold });
    });
    return threshold;
  }

  /**
   * Calibrates the open-set threshold on the enrolled speakers (`calibrateThreshold`: leave-one-out
   * EER point) and stores it, reading the speakers and writing the threshold in one transaction.
   */
  calibrate(): ThresholdCalibration & { stored: StoredThreshold } {
    return this.write('calibrate the threshold of', () => {
      const calibration = calibrateThreshold([...this.records.getRange({})].map(({ value }) => this.decode(value)));
      const stored: StoredThreshold = { value: calibration.threshold, source: 'calibrated', updatedAt: new Date().toISOString(), eer: calibration.eer };
      this.meta.putSync(META_KEY, { ...this.readMeta(), threshold: stored });
      return { ...calibration, stored };
    });
  }

  async close(): Promise<void> {
    await this.env.close();
  }

  private noSuchSpeaker(name: string): VoxkitError {
    const known = this.names();
    const list = known.length ? `enrolled: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}` : 'no speaker is enrolled';
    return new VoxkitError('E_USAGE', `${this.path}: no speaker named "${name}" (${list})`, { file: this.path });
  }
}

export function modelMismatchError(path: string, stored: ModelIdentity, given: ModelIdentity): VoxkitError {
  return new VoxkitError(
    'E_USAGE',
    `${path}: the database holds embeddings of ${describeModel(stored)}, not of ${describeModel(given)}; embeddings of different models cannot be compared (use the database's model, or another database)`,
    { file: path, details: { stored, given } },
  );
}
