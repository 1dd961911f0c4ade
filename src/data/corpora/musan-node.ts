/**
 * `voxkit prepare musan`: MUSAN (`musan/{music,speech,noise}/<source>/<recording>.wav`) split into
 * 5 s chunks every 3 s, written as 16 kHz WAVs to `<out>/musan_split/<type>/<source>/<recording>/
 * NNNNN.wav` (NNNNN = start second), the layout and rule of voxceleb_trainer's `split_musan`: chunk
 * starts 0, 3, 6, … strictly below length − 5 s, so a recording of 5 s or less gives no chunk.
 * Training then reads 5 s files instead of seeking in hour-long ones.
 *
 * Resumable and atomic: a recording's chunks are written into a hidden `.name.partial-PID` folder
 * renamed into place when complete, so a recording is either fully split or not at all; a rerun
 * skips the finished ones and removes partial folders of runs that no longer exist. The chunk list
 * `musan_split/list.txt` is written last (atomically).
 */
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { loadAudio, writeWav } from '../../audio/load-node.js';
import { VoxkitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write-node.js';
import { NOISE_TYPES, type NoiseType } from '../augment/augment.js';
import { MUSAN_LIST_FILE, MUSAN_SPLIT_DIR } from '../augment/noise-sets-node.js';
import { compareCodePoints } from '../train-list.js';

export const MUSAN_CHUNK_SECONDS = 5;
export const MUSAN_STRIDE_SECONDS = 3;
export const MUSAN_SAMPLE_RATE_HZ = 16000;

export interface PrepareMusanOptions {
  /** The `musan` folder, or the folder holding it. */
  root: string;
  /** Where `musan_split/` goes; default beside `musan/` (voxceleb_trainer's layout). */
  out?: string;
  /** Recordings split at the same time (default 2). */
  workers?: number;
  /** ffmpeg for recordings that are not plain WAV. */
  ffmpegPath?: string;
  onProgress?: (event: { done: number; total: number; file: string }) => void;
}

export interface PrepareMusanResult {
  /** The musan folder read. */
  musan: string;
  /** The musan_split folder written. */
  out: string;
  listFile: string;
  recordings: number;
  /** Recordings split by this run (the others were done before). */
  splitNow: number;
  /** Chunks in the finished split, by type. */
  chunks: Record<NoiseType, number>;
  /** Recordings of 5 s or less split by this run (no chunk, as in voxceleb_trainer). */
  tooShort: string[];
  /** Recordings that could not be read, with the reason (left out; the others are split). */
  failed: Array<{ file: string; message: string }>;
}

/** Chunk starts (in samples) of a recording: 0, stride, … < length − chunk (split_musan's range). */
export function musanChunkStarts(length: number, chunkSamples: number, strideSamples: number): number[] {
  const starts: number[] = [];
  for (let start = 0; start < length - chunkSamples; start += strideSamples) starts.push(start);
  return starts;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function listDir(path: string): Promise<Array<{ name: string; dir: boolean }>> {
  const entries = await readdir(path, { withFileTypes: true });
  return entries.map((e) => ({ name: e.name, dir: e.isDirectory() })).sort((a, b) => compareCodePoints(a.name, b.name));
}

/** The musan folder a --root means: itself (it has music/, speech/ or noise/) or `<root>/musan`. */
export async function findMusanRoot(root: string): Promise<string> {
  const absolute = resolve(root);
  for (const candidate of [absolute, join(absolute, 'musan')]) {
    for (const type of NOISE_TYPES) if (await isDirectory(join(candidate, type))) return candidate;
  }
  throw new VoxkitError('E_DATA', `${root}: not a MUSAN folder (expected music/, speech/ and noise/ in it or in ${join(root, 'musan')})`, { file: root });
}

/** Every `<type>/<source>/<recording>.wav` of the MUSAN tree, sorted. */
export async function listMusanRecordings(musan: string): Promise<string[]> {
  const files: string[] = [];
  for (const type of NOISE_TYPES) {
    const typeDir = join(musan, type);
    if (!(await isDirectory(typeDir))) continue;
    for (const source of await listDir(typeDir)) {
      if (!source.dir || source.name.startsWith('.')) continue;
      for (const entry of await listDir(join(typeDir, source.name))) {
        if (!entry.dir && entry.name.toLowerCase().endsWith('.wav') && !entry.name.startsWith('.')) files.push(join(typeDir, source.name, entry.name));
      }
    }
  }
  return files;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const PARTIAL = /^\.(.+)\.partial-(\d+)$/;

/** Removes partial folders left by runs that were killed (their process is gone). */
async function removeStalePartials(dir: string): Promise<void> {
  for (const entry of await listDir(dir).catch(() => [])) {
    if (!entry.dir) continue;
    const match = PARTIAL.exec(entry.name);
    if (match) {
      if (!processAlive(Number(match[2]))) await rm(join(dir, entry.name), { recursive: true, force: true });
    } else if (!entry.name.startsWith('.')) {
      await removeStalePartials(join(dir, entry.name));
    }
  }
}

/** Writes a recording's chunks into its folder (via a partial folder renamed into place); returns the count. */
async function writeChunks(samples: Float32Array, target: string): Promise<number> {
  const chunk = MUSAN_CHUNK_SECONDS * MUSAN_SAMPLE_RATE_HZ;
  const starts = musanChunkStarts(samples.length, chunk, MUSAN_STRIDE_SECONDS * MUSAN_SAMPLE_RATE_HZ);
  const partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  for (const start of starts) {
    const name = `${String(Math.floor(start / MUSAN_SAMPLE_RATE_HZ)).padStart(5, '0')}.wav`;
    await writeWav(join(partial, name), samples.subarray(start, start + chunk), MUSAN_SAMPLE_RATE_HZ);
  }
  await rename(partial, target);
  return starts.length;
}

/** Chunk files under musan_split, relative to it with `/` separators, sorted. */
async function listChunks(out: string): Promise<string[]> {
  const chunks: string[] = [];
  for (const type of NOISE_TYPES) {
    const typeDir = join(out, type);
    if (!(await isDirectory(typeDir))) continue;
    for (const source of await listDir(typeDir)) {
      if (!source.dir || source.name.startsWith('.')) continue;
      for (const recording of await listDir(join(typeDir, source.name))) {
        if (!recording.dir || recording.name.startsWith('.')) continue;
        const folder = join(typeDir, source.name, recording.name);
        for (const entry of await listDir(folder)) {
          if (!entry.dir && entry.name.endsWith('.wav') && !entry.name.startsWith('.')) chunks.push(relative(out, join(folder, entry.name)).split(sep).join('/'));
        }
      }
    }
  }
  return chunks.sort(compareCodePoints);
}

/** Splits MUSAN for training augmentation (see the module comment). */
export async function prepareMusan(options: PrepareMusanOptions): Promise<PrepareMusanResult> {
  const musan = await findMusanRoot(options.root);
  const out = join(resolve(options.out ?? dirname(musan)), MUSAN_SPLIT_DIR);
  if (out === musan) throw new VoxkitError('E_USAGE', `${out}: the split cannot replace the MUSAN folder itself`, { file: out });
  const recordings = await listMusanRecordings(musan);
  if (recordings.length === 0) throw new VoxkitError('E_DATA', `${musan}: no WAV recordings under music/, speech/ or noise/`, { file: musan });
  await mkdir(out, { recursive: true });
  await removeStalePartials(out);

  const workers = Math.max(1, options.workers ?? 2);
  const tooShort: string[] = [];
  const failed: Array<{ file: string; message: string }> = [];
  let splitNow = 0;
  let done = 0;
  let next = 0;
  const work = async (): Promise<void> => {
    while (next < recordings.length) {
      const file = recordings[next++];
      const rel = relative(musan, file);
      const target = join(out, rel.replace(/\.wav$/i, ''));
      if (!(await isDirectory(target))) {
        // An unreadable recording is reported and left out; a failure to write stops the run.
        const samples = await loadAudio(file, { sampleRateHz: MUSAN_SAMPLE_RATE_HZ, ffmpegPath: options.ffmpegPath }).then(
          (audio) => audio.samples,
          (err: unknown) => {
            failed.push({ file: rel.split(sep).join('/'), message: err instanceof Error ? err.message : String(err) });
            return undefined;
          },
        );
        if (samples) {
          await mkdir(dirname(target), { recursive: true });
          if ((await writeChunks(samples, target)) === 0) tooShort.push(rel.split(sep).join('/'));
          splitNow++;
        }
      }
      options.onProgress?.({ done: ++done, total: recordings.length, file });
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, recordings.length) }, work));

  const chunkList = await listChunks(out);
  const chunks: Record<NoiseType, number> = { music: 0, speech: 0, noise: 0 };
  for (const chunk of chunkList) chunks[chunk.split('/')[0] as NoiseType]++;
  const listFile = join(out, MUSAN_LIST_FILE);
  await writeFileAtomic(listFile, chunkList.map((c) => `${c}\n`).join(''), 'MUSAN chunk list');
  return { musan, out, listFile, recordings: recordings.length, splitNow, chunks, tooShort: tooShort.sort(compareCodePoints), failed: failed.sort((a, b) => compareCodePoints(a.file, b.file)) };
}
