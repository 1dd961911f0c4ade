import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { VoxkitError } from '../../errors.js';

/** Feeds a file's bytes into `hash` as a stream (constant memory, for archives of tens of GB). */
export async function hashFileInto(hash: Hash, path: string, signal?: AbortSignal): Promise<void> {
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) hash.update(chunk as Buffer);
  } catch (cause) {
    if (signal?.aborted) throw signal.reason;
    const code = (cause as NodeJS.ErrnoException)?.code ?? String(cause);
    throw new VoxkitError('E_IO', `${path}: cannot read it to check its MD5 (${code})`, { file: path, cause });
  }
}

/** The MD5 of a file as 32 lowercase hex digits. */
export async function md5File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('md5');
  await hashFileInto(hash, path, signal);
  return hash.digest('hex');
}
