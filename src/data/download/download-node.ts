/**
 * `voxkit download`: fetches a dataset's parts (resuming interrupted transfers), checks each MD5
 * against the part list (a mismatch is reported, the file deleted and fetched again), joins
 * multi-part archives in order, extracts them safely and leaves markers, so a rerun after any
 * interruption picks up where the last run stopped and a finished dataset is not touched again.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { VoxkitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write-node.js';
import { extractArchive } from './extract-node.js';
import { downloadFile } from './http-node.js';
import { md5File } from './md5-node.js';
import { DATASETS, isDatasetName, parsePartsFile, partUrl, redactUrl, DATASET_NAMES, type ArchiveSpec, type DatasetName, type DownloadPart } from './parts.js';

export interface DownloadDatasetOptions {
  /** Output folder: parts, archives and the extracted dataset. */
  out: string;
  /** HTTP basic authentication (the VoxCeleb hosts' older per-user login). */
  user?: string;
  password?: string;
  /** Per-user access key: substituted for `{key}` in the URL, else sent as `key=` or in `keyHeader`. */
  key?: string;
  /** Send the key in this request header instead of the URL. */
  keyHeader?: string;
  /** Where the parts are now: a prefix the part name is appended to, or a template with {file} (and {key}). */
  baseUrl?: string;
  /** A custom part list (voxceleb_trainer's fileparts.txt / files.txt formats). */
  partsFile?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Network retries per transfer (default 5) and fresh downloads after a checksum mismatch (default 2). */
  retries?: number;
  checksumRetries?: number;
  retryDelayMs?: number;
  idleTimeoutMs?: number;
  /** Keep the parts of multi-part archives after they were joined (default: delete them). */
  keepParts?: boolean;
  /** Delete each archive once it was extracted. */
  deleteArchives?: boolean;
  onProgress?: (event: DownloadEvent) => void;
  signal?: AbortSignal;
}

export type DownloadEvent =
  | { type: 'part-start'; file: string; url: string; index: number; count: number }
  | { type: 'bytes'; file: string; bytes: number; totalBytes?: number }
  | { type: 'part-done'; file: string; bytes: number; resumedFrom: number }
  | { type: 'part-skipped'; file: string }
  | { type: 'retry'; file: string; attempt: number; error: string; delayMs: number; resumeFrom: number }
  | { type: 'checksum-mismatch'; file: string; expected: string; actual: string; attempt: number; willRetry: boolean }
  | { type: 'verify'; file: string }
  | { type: 'concatenate'; archive: string; parts: string[] }
  | { type: 'extract'; archive: string; target: string; entries: number; totalEntries?: number; bytes: number }
  | { type: 'extracted'; archive: string; target: string; entries: number }
  | { type: 'archive-skipped'; archive: string };

export interface DownloadDatasetResult {
  dataset: DatasetName;
  out: string;
  /** Parts fetched by this run (skipped ones not included). */
  downloaded: string[];
  archives: { name: string; extractedTo: string; skipped: boolean }[];
  /** The dataset's .done marker was already there: nothing was done. */
  alreadyDone: boolean;
}

const WHERE_CREDENTIALS = 'VoxCeleb access keys and logins come from the request form on the VoxCeleb website';
const VOXCELEB_AUTH_HINT = `check --user/--password (or VOXKIT_VOX_USER/VOXKIT_VOX_PASSWORD) or --key (VOXKIT_VOX_KEY); ${WHERE_CREDENTIALS}`;

export function doneMarkerPath(out: string, dataset: DatasetName): string {
  return join(out, `.voxkit-download-${dataset}.done`);
}

function extractedMarkerPath(out: string, archive: string): string {
  return join(out, `.${archive}.extracted`);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Downloads, verifies, joins and extracts a dataset into `options.out`; see DownloadDatasetOptions. */
export async function downloadDataset(dataset: string, options: DownloadDatasetOptions): Promise<DownloadDatasetResult> {
  if (!isDatasetName(dataset)) {
    throw new VoxkitError('E_USAGE', `unknown dataset "${dataset}"; valid names: ${DATASET_NAMES.join(', ')}`);
  }
  const spec = DATASETS[dataset];
  const { out, signal } = options;
  const emit = (e: DownloadEvent) => options.onProgress?.(e);

  let parts: DownloadPart[] = spec.parts;
  let archives: ArchiveSpec[] = spec.archives;
  if (options.partsFile) {
    const text = await readFile(options.partsFile, 'utf8').catch((cause: unknown) => {
      throw new VoxkitError('E_IO', `${options.partsFile}: cannot read the part list (${(cause as NodeJS.ErrnoException).code ?? cause})`, {
        file: options.partsFile,
        cause,
      });
    });
    ({ parts, archives } = parsePartsFile(text, options.partsFile, spec));
  }
  const usesDefaultHost = !options.baseUrl && parts.some((p) => !p.url);
  if (spec.needsCredentials && usesDefaultHost && options.key === undefined && options.user === undefined) {
    throw new VoxkitError(
      'E_USAGE',
      `${dataset} needs your VoxCeleb credentials: pass --key KEY (or --user/--password), or --base-url of a mirror you can reach; ${WHERE_CREDENTIALS}`,
    );
  }
  const baseUrl = options.baseUrl ?? (options.key !== undefined && spec.defaultKeyUrl ? spec.defaultKeyUrl : spec.defaultBaseUrl);
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined && options.keyHeader) headers[options.keyHeader] = options.key;

  await mkdir(out, { recursive: true }).catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `${out}: cannot create the output folder (${(cause as NodeJS.ErrnoException).code ?? cause})`, { file: out, cause });
  });
  const result: DownloadDatasetResult = { dataset, out, downloaded: [], archives: [], alreadyDone: false };
  if (await exists(doneMarkerPath(out, dataset))) return { ...result, alreadyDone: true };

  const partByName = new Map(parts.map((p) => [p.name, p]));
  let partIndex = 0;
  const partCount = parts.length;

  /** Makes `<out>/<part>` a file with the listed MD5: kept if it already is, else (re)downloaded. */
  const ensurePart = async (part: DownloadPart): Promise<void> => {
    const path = join(out, part.name);
    partIndex++;
    if (await exists(path)) {
      emit({ type: 'verify', file: part.name });
      if ((await md5File(path, signal)) === part.md5) {
        emit({ type: 'part-skipped', file: part.name });
        return;
      }
      await unlink(path);
    }
    const url = partUrl(part, baseUrl, options.key, Boolean(options.keyHeader));
    const downloads = 1 + (options.checksumRetries ?? 2);
    for (let attempt = 1; ; attempt++) {
      emit({ type: 'part-start', file: part.name, url: redactUrl(url), index: partIndex, count: partCount });
      const got = await downloadFile(url, path, {
        headers,
        user: options.user,
        password: options.password,
        retries: options.retries,
        retryDelayMs: options.retryDelayMs,
        idleTimeoutMs: options.idleTimeoutMs,
        authHint: spec.needsCredentials ? VOXCELEB_AUTH_HINT : undefined,
        signal,
        onProgress: (p) => emit({ type: 'bytes', file: part.name, ...p }),
        onRetry: (r) => emit({ type: 'retry', file: part.name, ...r }),
      });
      if (got.md5 === part.md5) {
        result.downloaded.push(part.name);
        emit({ type: 'part-done', file: part.name, bytes: got.bytes, resumedFrom: got.resumedFrom });
        return;
      }
      await unlink(path).catch(() => undefined);
      const willRetry = attempt < downloads;
      emit({ type: 'checksum-mismatch', file: part.name, expected: part.md5, actual: got.md5, attempt, willRetry });
      if (!willRetry) {
        throw new VoxkitError(
          'E_DATA',
          `${part.name}: MD5 ${got.md5} does not match the part list's ${part.md5} after ${attempt} download(s) from ${redactUrl(url)}; the server may hold another version (check --base-url or pass a --parts-file)`,
          { file: join(out, part.name) },
        );
      }
    }
  };

  const inArchive = new Set(archives.flatMap((a) => a.parts));
  for (const archive of archives) {
    signal?.throwIfAborted();
    const target = join(out, archive.extractTo);
    if (await exists(extractedMarkerPath(out, archive.name))) {
      emit({ type: 'archive-skipped', archive: archive.name });
      result.archives.push({ name: archive.name, extractedTo: target, skipped: true });
      continue;
    }
    const archivePath = join(out, archive.name);
    const singlePart = archive.parts.length === 1 && archive.parts[0] === archive.name;
    if (singlePart) {
      await ensurePart(partByName.get(archive.name)!);
    } else if (!(await exists(archivePath)) || (archive.md5 !== undefined && (await md5File(archivePath, signal)) !== archive.md5)) {
      for (const name of archive.parts) {
        const part = partByName.get(name);
        if (!part) throw new VoxkitError('E_DATA', `archive ${archive.name} needs part ${name}, which the part list does not have`);
        await ensurePart(part);
      }
      await concatenate(out, archive, signal, emit);
      if (!options.keepParts) for (const name of archive.parts) await unlink(join(out, name)).catch(() => undefined);
    }
    const extracted = await extractArchive(archivePath, target, {
      signal,
      onProgress: (p) => emit({ type: 'extract', archive: archive.name, target, ...p }),
    });
    await writeFileAtomic(extractedMarkerPath(out, archive.name), `${JSON.stringify({ archive: archive.name, entries: extracted.entries, date: new Date().toISOString() })}\n`, 'marker');
    emit({ type: 'extracted', archive: archive.name, target, entries: extracted.entries });
    result.archives.push({ name: archive.name, extractedTo: target, skipped: false });
    if (options.deleteArchives) await unlink(archivePath).catch(() => undefined);
  }
  for (const part of parts) {
    if (!inArchive.has(part.name)) await ensurePart(part);
  }
  await writeFileAtomic(
    doneMarkerPath(out, dataset),
    `${JSON.stringify({ dataset, archives: archives.map((a) => a.name), date: new Date().toISOString() })}\n`,
    'marker',
  );
  return result;
}

/** Joins the parts in order into the archive (temp name, then rename), checking its MD5 when published. */
async function concatenate(out: string, archive: ArchiveSpec, signal: AbortSignal | undefined, emit: (e: DownloadEvent) => void): Promise<void> {
  emit({ type: 'concatenate', archive: archive.name, parts: archive.parts });
  const archivePath = join(out, archive.name);
  const temporary = join(out, `.${archive.name}.concat-tmp`);
  const hash = createHash('md5');
  const hashing = () =>
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    });
  try {
    const sink = createWriteStream(temporary);
    for (const name of archive.parts) {
      await pipeline(createReadStream(join(out, name)), hashing(), sink, { end: false, signal });
    }
    await new Promise<void>((resolvePromise, reject) => sink.end((err?: Error | null) => (err ? reject(err) : resolvePromise())));
    const md5 = hash.digest('hex');
    if (archive.md5 !== undefined && md5 !== archive.md5) {
      throw new VoxkitError(
        'E_DATA',
        `${archive.name}: the joined parts have MD5 ${md5}, not the published ${archive.md5}, although every part matched its own; the part list is inconsistent`,
        { file: archivePath },
      );
    }
    await rename(temporary, archivePath);
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    if (signal?.aborted) throw signal.reason;
    if (err instanceof VoxkitError) throw err;
    throw new VoxkitError('E_IO', `${archivePath}: cannot join the parts (${(err as NodeJS.ErrnoException).code ?? err})`, { file: archivePath, cause: err });
  }
}
