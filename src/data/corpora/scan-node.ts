/** The local disk as a CorpusFileSystem, and cheap per-file checks (size, WAV header, ffprobe). */
import { spawn, spawnSync } from 'node:child_process';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { VoxkitError } from '../../errors.js';
import type { CorpusDirEntry, CorpusFileSystem } from './types.js';
import { readWavHeader, type WavHeaderInfo } from './wav-header.js';

function isMissing(cause: unknown): boolean {
  const code = (cause as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function ioError(path: string, what: string, cause: unknown): VoxkitError {
  const code = (cause as NodeJS.ErrnoException)?.code ?? String(cause);
  return new VoxkitError('E_IO', `${path}: cannot read the ${what} (${code})`, { file: path, cause });
}

/**
 * Reads a corpus below `root`; symbolic links are followed (corpora are often linked in). Folders
 * in `hide` (absolute paths, such as prepare's own output folder inside the root) are not listed.
 */
export function nodeCorpusFileSystem(root: string, options: { hide?: readonly string[] } = {}): CorpusFileSystem {
  const hidden = new Set((options.hide ?? []).map((path) => resolve(path)));
  const absolute = (relative: string) => (relative === '' ? root : join(root, relative));
  return {
    async list(relativeDir) {
      const dir = absolute(relativeDir);
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (cause) {
        if (isMissing(cause)) return undefined;
        throw ioError(dir, 'folder', cause);
      }
      const result: CorpusDirEntry[] = [];
      for (const entry of entries) {
        if (hidden.size > 0 && hidden.has(resolve(dir, entry.name))) continue;
        let isDir = entry.isDirectory();
        if (entry.isSymbolicLink()) isDir = (await stat(join(dir, entry.name)).catch(() => undefined))?.isDirectory() ?? false;
        result.push({ name: entry.name, kind: isDir ? 'dir' : 'file' });
      }
      return result.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async readText(relativePath) {
      const file = absolute(relativePath);
      try {
        return await readFile(file, 'utf8');
      } catch (cause) {
        if (isMissing(cause)) return undefined;
        throw ioError(file, 'file', cause);
      }
    },
  };
}

/** Runs `task` over `items` with at most `limit` in flight; results keep the item order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index], index);
    }
  });
  await Promise.all(runners);
  return results;
}

/** A WAV file's header (a few small reads). @throws Error with the reason when it cannot be used */
export async function readWavHeaderFile(path: string): Promise<WavHeaderInfo> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return await readWavHeader(async (position, length) => {
      const buffer = new Uint8Array(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      return buffer.subarray(0, bytesRead);
    }, size);
  } finally {
    await handle.close();
  }
}

/** Whether ffprobe (part of ffmpeg) can be run. */
export function ffprobeAvailable(): boolean {
  const result = spawnSync('ffprobe', ['-version'], { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

/** The duration ffprobe reports for a file. @throws Error with ffprobe's message */
export function probeDuration(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=noprint_wrappers=1:nokey=1', path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(out.trim());
      if (code === 0 && out.trim() !== '' && Number.isFinite(seconds)) resolve(seconds);
      else reject(new Error(err.trim().split('\n').pop() || `ffprobe exited with ${code}`));
    });
  });
}
