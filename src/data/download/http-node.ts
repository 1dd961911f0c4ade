/**
 * Resumable HTTP(S) download of one file: bytes go to `<dest>.part`, a retry asks for the rest
 * with `Range: bytes=N-`, and the finished file is renamed to `dest`, so `dest` only ever names a
 * complete transfer. The MD5 is computed on the way (the bytes already in `.part` are hashed first).
 */
import { createHash } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { VoxkitError } from '../../errors.js';
import { hashFileInto } from './md5-node.js';
import { redactUrl } from './parts.js';

export interface HttpDownloadOptions {
  headers?: Record<string, string>;
  /** HTTP basic authentication. */
  user?: string;
  password?: string;
  /** Further attempts after a network error, timeout or server error; reset whenever bytes arrive. Default 5. */
  retries?: number;
  /** First wait before a retry, doubled each time (at most 30 s). Default 1000 ms. */
  retryDelayMs?: number;
  /** Give up on an attempt when no byte arrives for this long. Default 60 s. */
  idleTimeoutMs?: number;
  /** Appended to the message of a 401/403 (where the user gets credentials). */
  authHint?: string;
  signal?: AbortSignal;
  onProgress?: (progress: { bytes: number; totalBytes?: number }) => void;
  onRetry?: (retry: { attempt: number; error: string; delayMs: number; resumeFrom: number }) => void;
}

export interface HttpDownloadResult {
  bytes: number;
  md5: string;
  /** Bytes that were already in `<dest>.part` when the last attempt started. */
  resumedFrom: number;
  attempts: number;
}

/** An error not worth retrying (authentication, missing file, bad request). */
class FatalHttpError extends VoxkitError {}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolvePromise();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? ` (${(cause as NodeJS.ErrnoException).code ?? cause.message})` : '';
    return `${err.message}${detail}`;
  }
  return String(err);
}

/**
 * Downloads `url` to `dest`, resuming from `<dest>.part` when one is there. Throws a VoxkitError
 * (one line, URL with secrets hidden) on refused credentials, a missing file, or when the retries
 * run out; rejects with `signal.reason` when aborted (the `.part` stays for the next run).
 */
export async function downloadFile(url: string, dest: string, options: HttpDownloadOptions = {}): Promise<HttpDownloadResult> {
  const partPath = `${dest}.part`;
  const retries = options.retries ?? 5;
  const shownUrl = redactUrl(url);
  const headers: Record<string, string> = { 'accept-encoding': 'identity', ...options.headers };
  if (options.user !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${options.user}:${options.password ?? ''}`).toString('base64')}`;
  }
  let failures = 0;
  let attempts = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    attempts++;
    const before = await fileSize(partPath);
    let received = 0;
    try {
      const result = await attempt(url, shownUrl, partPath, before, headers, options, (n) => (received += n));
      await rename(partPath, dest);
      return { ...result, attempts };
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (err instanceof FatalHttpError) throw err;
      if (received > 0) failures = 0;
      failures++;
      if (failures > retries) {
        throw new VoxkitError('E_IO', `${shownUrl}: download failed after ${attempts} attempt(s): ${describe(err)}`, { file: dest, cause: err });
      }
      const delayMs = Math.min(30_000, (options.retryDelayMs ?? 1000) * 2 ** (failures - 1));
      options.onRetry?.({ attempt: attempts, error: describe(err), delayMs, resumeFrom: await fileSize(partPath) });
      await sleep(delayMs, options.signal);
    }
  }
}

async function attempt(
  url: string,
  shownUrl: string,
  partPath: string,
  existing: number,
  baseHeaders: Record<string, string>,
  options: HttpDownloadOptions,
  onBytes: (n: number) => void,
): Promise<Omit<HttpDownloadResult, 'attempts'>> {
  const controller = new AbortController();
  const idleMs = options.idleTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const armTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data for ${Math.round(idleMs / 1000)} s`)), idleMs);
  };
  const onOuterAbort = () => controller.abort(options.signal!.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  armTimer();
  try {
    const headers = { ...baseHeaders };
    if (existing > 0) headers.range = `bytes=${existing}-`;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      throw controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason : err;
    }
    const status = response.status;
    if (status === 401 || status === 403) {
      await response.body?.cancel();
      const hint = options.authHint ? `; ${options.authHint}` : '';
      throw new FatalHttpError('E_IO', `${shownUrl}: the server refused the credentials (HTTP ${status})${hint}`);
    }
    if (status === 404 || status === 410) {
      await response.body?.cancel();
      throw new FatalHttpError('E_IO', `${shownUrl}: not found (HTTP ${status}); the host may have moved: pass --base-url or a --parts-file with the new URLs`);
    }
    if (status === 416 && existing > 0) {
      await response.body?.cancel();
      const total = Number(/\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '')?.[1]);
      if (total === existing) {
        // The previous attempt got every byte but stopped before the rename.
        const hash = createHash('md5');
        await hashFileInto(hash, partPath, options.signal);
        return { bytes: existing, md5: hash.digest('hex'), resumedFrom: existing };
      }
      await unlink(partPath).catch(() => undefined);
      throw new Error(`HTTP 416 for a .part of ${existing} bytes; starting over`);
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      await response.body?.cancel();
      throw new FatalHttpError('E_IO', `${shownUrl}: HTTP ${status} ${response.statusText}`.trim());
    }
    if (status !== 200 && status !== 206) {
      await response.body?.cancel();
      throw new Error(`HTTP ${status} ${response.statusText}`.trim());
    }
    let offset = 0;
    if (status === 206) {
      const match = /^bytes (\d+)-(\d+)\/(\d+|\*)/.exec(response.headers.get('content-range') ?? '');
      if (!match || Number(match[1]) !== existing) {
        await response.body?.cancel();
        await unlink(partPath).catch(() => undefined);
        throw new Error(`the server answered the range request with another range (${response.headers.get('content-range')}); starting over`);
      }
      offset = existing;
    }
    const length = Number(response.headers.get('content-length') ?? NaN);
    const totalBytes = Number.isFinite(length) ? offset + length : undefined;
    const hash = createHash('md5');
    if (offset > 0) await hashFileInto(hash, partPath, options.signal);
    const handle = await open(partPath, offset > 0 ? 'a' : 'w');
    let bytes = offset;
    try {
      if (response.body) {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          armTimer();
          await handle.write(chunk);
          hash.update(chunk);
          bytes += chunk.length;
          onBytes(chunk.length);
          options.onProgress?.({ bytes, totalBytes });
        }
      }
    } catch (err) {
      throw controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason : err;
    } finally {
      await handle.close();
    }
    if (totalBytes !== undefined && bytes !== totalBytes) throw new Error(`connection closed after ${bytes} of ${totalBytes} bytes`);
    return { bytes, md5: hash.digest('hex'), resumedFrom: offset };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}
