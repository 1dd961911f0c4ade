/**
 * Batch conversion of compressed audio (m4a/aac/mp3/flac/ogg/opus, anything ffmpeg decodes) to
 * mono 16-bit PCM WAV at a fixed rate, the layout voxceleb_trainer trains on. Resumable: an output
 * that already holds a complete WAV of the right format is skipped, and ffmpeg always writes to a
 * temporary name that is renamed only after ffmpeg succeeded and the header checks out, so a
 * killed run never leaves a half-written file under a final name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { VoxkitError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write-node.js';

export interface ConversionJob {
  input: string;
  output: string;
}

export interface ConversionProgress {
  /** Jobs finished so far (converted + skipped + failed). */
  done: number;
  total: number;
  converted: number;
  skipped: number;
  failed: number;
  /** The input just finished. */
  input: string;
  outcome: 'converted' | 'skipped' | 'failed';
}

export interface ConvertOptions {
  /** Parallel ffmpeg processes; default one per core. */
  workers?: number;
  sampleRateHz?: number;
  onProgress?: (progress: ConversionProgress) => void;
  signal?: AbortSignal;
  /** The ffmpeg executable; default `ffmpeg` on the PATH. */
  ffmpegPath?: string;
}

export interface ConversionResult {
  converted: number;
  skipped: number;
  failed: { input: string; error: string }[];
}

/** The compressed formats VoxCeleb and the usual speech corpora ship in. */
export const COMPRESSED_AUDIO_EXTENSIONS = ['m4a', 'aac', 'mp3', 'flac', 'ogg', 'opus'] as const;

export const CONVERT_FAILURES_FILE = 'convert-failures.txt';

const INSTALL_FFMPEG_HINT = 'install it (apt-get install ffmpeg, brew install ffmpeg, or https://ffmpeg.org/download.html)';

const TEMP_SUFFIX = '.convert-tmp';

/**
 * Where ffmpeg writes before the rename: hidden, and unique to this process, because the ffmpeg
 * children of a killed run may still be writing their own temporaries.
 */
export function temporaryOutputPath(output: string): string {
  return join(dirname(output), `.${basename(output)}.${process.pid}${TEMP_SUFFIX}`);
}

/** Leftover temporaries of killed runs, per output folder, listed once per folder. */
class StaleTemporaries {
  private readonly byDir = new Map<string, Promise<Set<string>>>();

  /** Deletes the leftovers of `output` (an orphaned ffmpeg still writing one only loses its inode). */
  async removeFor(output: string): Promise<void> {
    const dir = dirname(output);
    let names = this.byDir.get(dir);
    if (!names) {
      names = readdir(dir).then(
        (all) => new Set(all.filter((n) => n.startsWith('.') && n.endsWith(TEMP_SUFFIX))),
        () => new Set<string>(),
      );
      this.byDir.set(dir, names);
    }
    const stale = await names;
    if (stale.size === 0) return;
    const prefix = `.${basename(output)}.`;
    for (const name of stale) {
      if (name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length, name.length - TEMP_SUFFIX.length))) {
        stale.delete(name);
        await unlink(join(dir, name)).catch(() => undefined);
      }
    }
  }
}

/**
 * Mirrors a tree of compressed audio files into WAV paths under `outputRoot` (`a/b/c.m4a` →
 * `a/b/c.wav`), sorted by input path. Hidden files and folders and the output folder itself (when
 * it lies inside the input) are not visited. Two inputs mapping to the same WAV are an error.
 */
export async function planConversion(
  inputRoot: string,
  outputRoot: string,
  options: { extensions?: readonly string[] } = {},
): Promise<ConversionJob[]> {
  const extensions = new Set((options.extensions ?? COMPRESSED_AUDIO_EXTENSIONS).map((e) => e.replace(/^\./, '').toLowerCase()));
  const inputAbs = resolve(inputRoot);
  const outputAbs = resolve(outputRoot);
  const rootStat = await stat(inputAbs).catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `${inputRoot}: cannot read the input folder (${(cause as NodeJS.ErrnoException).code ?? cause})`, { file: inputRoot, cause });
  });
  if (!rootStat.isDirectory()) throw new VoxkitError('E_USAGE', `${inputRoot}: not a folder`, { file: inputRoot });

  const inputs: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        // An output tree inside the input tree holds only WAVs of this run; but it may also be the input itself.
        if (path === outputAbs && outputAbs !== inputAbs) continue;
        await walk(path);
      } else if (entry.isFile() && extensions.has(extname(entry.name).slice(1).toLowerCase())) {
        inputs.push(path);
      }
    }
  };
  await walk(inputAbs);
  inputs.sort();

  const byOutput = new Map<string, string>();
  const jobs: ConversionJob[] = [];
  for (const input of inputs) {
    const rel = relative(inputAbs, input);
    const output = join(outputAbs, rel.slice(0, rel.length - extname(rel).length) + '.wav');
    const other = byOutput.get(output);
    if (other !== undefined) {
      throw new VoxkitError('E_DATA', `${input} and ${other} would both be converted to ${output}; rename one of them`, { file: input });
    }
    byOutput.set(output, input);
    jobs.push({ input, output });
  }
  return jobs;
}

/**
 * True when `path` is a WAV of 16-bit PCM, mono, at `sampleRateHz`, whose data chunk ends exactly
 * at the end of the file (a writer killed before patching the header, or a truncated copy, fails).
 */
export async function isCompleteWav(path: string, sampleRateHz: number): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return false;
  }
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(size, 4096));
    await handle.read(head, 0, head.length, 0);
    if (head.length < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return false;
    if (head.readUInt32LE(4) + 8 !== size) return false;
    let offset = 12;
    let formatOk = false;
    while (offset + 8 <= head.length) {
      const id = head.toString('latin1', offset, offset + 4);
      const chunkSize = head.readUInt32LE(offset + 4);
      const body = offset + 8;
      if (id === 'fmt ') {
        if (body + 16 > head.length) return false;
        const formatTag = head.readUInt16LE(body);
        const channels = head.readUInt16LE(body + 2);
        const rate = head.readUInt32LE(body + 4);
        const bits = head.readUInt16LE(body + 14);
        formatOk = formatTag === 1 && channels === 1 && rate === sampleRateHz && bits === 16;
      } else if (id === 'data') {
        return formatOk && body + chunkSize === size && chunkSize % 2 === 0;
      }
      offset = body + chunkSize + (chunkSize % 2);
    }
    return false;
  } finally {
    await handle.close();
  }
}

/** One clear error when ffmpeg cannot be run at all, before any job is attempted. */
async function checkFfmpeg(ffmpegPath: string): Promise<void> {
  await new Promise<void>((resolvePromise, reject) => {
    const child = spawn(ffmpegPath, ['-hide_banner', '-version'], { stdio: 'ignore' });
    child.on('error', (cause: NodeJS.ErrnoException) => {
      const message =
        cause.code === 'ENOENT'
          ? `ffmpeg ("${ffmpegPath}") was not found; converting compressed audio needs it: ${INSTALL_FFMPEG_HINT}`
          : `could not run ffmpeg ("${ffmpegPath}"): ${cause.message}`;
      reject(new VoxkitError('E_AUDIO_DECODER', message, { cause }));
    });
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else reject(new VoxkitError('E_AUDIO_DECODER', `ffmpeg ("${ffmpegPath}") -version exited with code ${code}; ${INSTALL_FFMPEG_HINT}`));
    });
  });
}

function ffmpegArgs(input: string, temporary: string, sampleRateHz: number): string[] {
  // `file:` keeps names like "http:..." from being read as protocols; bitexact drops the
  // encoder-version tag so the same input gives the same bytes with any ffmpeg build's muxer.
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
    '-i', `file:${input}`,
    '-map', '0:a:0', '-vn', '-map_metadata', '-1',
    '-ac', '1', '-ar', String(sampleRateHz), '-sample_fmt', 's16', '-c:a', 'pcm_s16le',
    '-fflags', '+bitexact', '-flags:a', '+bitexact',
    '-f', 'wav', `file:${temporary}`,
  ];
}

function runFfmpeg(ffmpegPath: string, args: string[], running: Set<ChildProcess>): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    const stderr: Buffer[] = [];
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (cause) => {
      running.delete(child);
      reject(cause);
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      if (code === 0) return resolvePromise();
      const lines = Buffer.concat(stderr).toString('utf8').trim().split('\n').filter(Boolean);
      const detail = lines.length ? lines[lines.length - 1].trim() : signal ? `killed by ${signal}` : `exit code ${code}`;
      // The `file:` prefixes we add only make ffmpeg's message harder to read.
      reject(new Error(`ffmpeg: ${detail.split('file:').join('')}`));
    });
  });
}

/**
 * Converts each job's input to a mono 16-bit WAV at `sampleRateHz` (default 16 kHz) with ffmpeg,
 * `workers` at a time. Outputs that are already complete WAVs of that format are skipped; a job that
 * fails is recorded and the others go on. Throws only when ffmpeg is missing or on `signal`.
 */
export async function convertAudioFiles(jobs: ConversionJob[], options: ConvertOptions = {}): Promise<ConversionResult> {
  const sampleRateHz = options.sampleRateHz ?? 16000;
  const ffmpegPath = options.ffmpegPath ?? 'ffmpeg';
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), jobs.length || 1));
  const signal = options.signal;
  signal?.throwIfAborted();
  if (jobs.length > 0) await checkFfmpeg(ffmpegPath);

  const result: ConversionResult = { converted: 0, skipped: 0, failed: [] };
  const running = new Set<ChildProcess>();
  const staleTemporaries = new StaleTemporaries();
  const onAbort = () => {
    for (const child of running) child.kill('SIGTERM');
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  let next = 0;
  let done = 0;
  const report = (input: string, outcome: ConversionProgress['outcome']) => {
    done++;
    options.onProgress?.({ done, total: jobs.length, converted: result.converted, skipped: result.skipped, failed: result.failed.length, input, outcome });
  };

  const convertOne = async (job: ConversionJob): Promise<void> => {
    await staleTemporaries.removeFor(job.output);
    if (await isCompleteWav(job.output, sampleRateHz)) {
      result.skipped++;
      report(job.input, 'skipped');
      return;
    }
    const temporary = temporaryOutputPath(job.output);
    try {
      await mkdir(dirname(job.output), { recursive: true });
      await runFfmpeg(ffmpegPath, ffmpegArgs(resolve(job.input), resolve(temporary), sampleRateHz), running);
      signal?.throwIfAborted();
      if (!(await isCompleteWav(temporary, sampleRateHz))) throw new Error('ffmpeg finished but wrote an incomplete WAV');
      await rename(temporary, job.output);
      result.converted++;
      report(job.input, 'converted');
    } catch (err) {
      await unlink(temporary).catch(() => undefined);
      if (signal?.aborted) throw signal.reason;
      result.failed.push({ input: job.input, error: err instanceof Error ? err.message : String(err) });
      report(job.input, 'failed');
    }
  };

  const worker = async () => {
    while (next < jobs.length) {
      signal?.throwIfAborted();
      await convertOne(jobs[next++]);
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    signal?.removeEventListener('abort', onAbort);
    onAbort();
  }
  result.failed.sort((a, b) => (a.input < b.input ? -1 : a.input > b.input ? 1 : 0));
  return result;
}

/**
 * Writes `<outputRoot>/convert-failures.txt` (one `input<TAB>error` line per failure), or removes a
 * previous run's list when nothing failed. Returns the path when a list was written.
 */
export async function writeConversionFailures(outputRoot: string, failed: ConversionResult['failed']): Promise<string | undefined> {
  const path = join(outputRoot, CONVERT_FAILURES_FILE);
  if (failed.length === 0) {
    await unlink(path).catch(() => undefined);
    return undefined;
  }
  await mkdir(outputRoot, { recursive: true });
  const text = failed.map((f) => `${f.input}\t${f.error.replace(/\s+/g, ' ')}`).join('\n') + '\n';
  await writeFileAtomic(path, text, 'conversion failure list');
  return path;
}

/** `path` shown relative to `root` when it lies inside it (shorter progress and failure lines). */
export function displayPath(root: string, path: string): string {
  const rel = relative(resolve(root), resolve(path));
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : path;
}
