/**
 * Per-file work of the feature cache build and of SV2TTS preprocessing — decode, resample,
 * preprocess, mel — run in a pool of worker threads (this file is also the workers' entry), or on
 * the calling thread when the pool has no workers. The caller writes the results, in its own order.
 */
import { readFile } from 'node:fs/promises';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadAudio } from '../audio/load-node.js';
import { RTVC_SAMPLE_RATE_HZ, preprocessWav } from '../audio/rtvc-preprocess.js';
import { VoxkitError, type VoxkitErrorCode } from '../errors.js';
import { rtvcMel } from '../features/rtvc-mel.js';
import type { PadMode } from '../features/framing.js';
import { type CacheContent, type CacheDtype, DTYPE_F32, DTYPE_I16, fitsInt16 } from './feature-cache-format.js';
import { errorForFile } from './load-items-node.js';
import { decodeNpyFrames } from './npy-frames.js';

export type FeatureJob =
  | { readonly task: 'cache'; readonly file: string; readonly content: CacheContent; readonly ffmpegPath?: string }
  | { readonly task: 'sv2tts'; readonly file: string; readonly padMode: PadMode; readonly ffmpegPath?: string };

export interface FeatureJobOutput {
  /** [rows, cols] row-major; for SV2TTS the mel frames (empty when the whole file was silence). */
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly dtype: CacheDtype;
  /** SV2TTS: seconds of audio left after preprocessing. */
  readonly seconds?: number;
}

/** The cache entry of one source file: what training crops are cut from (see feature-cache-format.ts). */
async function cacheEntry(job: Extract<FeatureJob, { task: 'cache' }>): Promise<FeatureJobOutput> {
  const { content, file } = job;
  if (content.kind === 'npy-frames') {
    const bytes = await readFile(file);
    const frames = decodeNpyFrames(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
    return { data: frames.data, rows: frames.frames, cols: frames.features, dtype: DTYPE_F32 };
  }
  if (content.kind === 'rtvc-mel' && file.toLowerCase().endsWith('.npy')) {
    // SV2TTS output: the frames are already there.
    const bytes = await readFile(file);
    const frames = decodeNpyFrames(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
    return { data: frames.data, rows: frames.frames, cols: frames.features, dtype: DTYPE_F32 };
  }
  const audio = await loadAudio(file, { sampleRateHz: content.sampleRateHz, ffmpegPath: job.ffmpegPath });
  if (audio.samples.length === 0) throw new VoxkitError('E_DATA', `${file}: no audio samples`, { file });
  if (content.kind === 'waveform') {
    return { data: audio.samples, rows: audio.samples.length, cols: 1, dtype: fitsInt16(audio.samples) ? DTYPE_I16 : DTYPE_F32 };
  }
  const mel = rtvcMel(audio.samples, { padMode: content.padMode });
  return { data: mel.data, rows: mel.frames, cols: content.numMels, dtype: DTYPE_F32 };
}

/** RTVC `preprocess_wav` + `wav_to_mel_spectrogram` of one file. */
async function sv2ttsFrames(job: Extract<FeatureJob, { task: 'sv2tts' }>): Promise<FeatureJobOutput> {
  const audio = await loadAudio(job.file, { ffmpegPath: job.ffmpegPath });
  const wav = await preprocessWav(audio.samples, audio.sampleRateHz);
  const seconds = wav.length / RTVC_SAMPLE_RATE_HZ;
  if (wav.length === 0) return { data: new Float32Array(0), rows: 0, cols: 40, dtype: DTYPE_F32, seconds };
  const mel = rtvcMel(wav, { padMode: job.padMode });
  return { data: mel.data, rows: mel.frames, cols: 40, dtype: DTYPE_F32, seconds };
}

export async function runFeatureJob(job: FeatureJob): Promise<FeatureJobOutput> {
  try {
    return job.task === 'cache' ? await cacheEntry(job) : await sv2ttsFrames(job);
  } catch (cause) {
    throw errorForFile(job.file, cause);
  }
}

interface JobMessage {
  readonly id: number;
  readonly job: FeatureJob;
}

type JobReply =
  | { readonly id: number; readonly ok: true; readonly output: FeatureJobOutput }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string; readonly file?: string };

const WORKER_MARK = 'voxkit-feature-jobs';

if (!isMainThread && parentPort && (workerData as { mark?: string } | null)?.mark === WORKER_MARK) {
  const port = parentPort;
  port.on('message', ({ id, job }: JobMessage) => {
    runFeatureJob(job).then(
      (output) => {
        // A view of a bigger buffer (WAV decoding) must not transfer the whole buffer.
        const data = output.data.byteOffset === 0 && output.data.byteLength === output.data.buffer.byteLength ? output.data : output.data.slice();
        const reply: JobReply = { id, ok: true, output: { ...output, data } };
        port.postMessage(reply, [data.buffer as ArrayBuffer]);
      },
      (error: unknown) => {
        const reply: JobReply =
          error instanceof VoxkitError
            ? { id, ok: false, code: error.code, message: error.message, file: error.file }
            : { id, ok: false, code: 'E_DATA', message: error instanceof Error ? error.message : String(error) };
        port.postMessage(reply);
      },
    );
  });
}

function spawnJobWorker(): Worker {
  const runningFromSource = import.meta.url.endsWith('.ts');
  const data = { mark: WORKER_MARK };
  if (!runningFromSource) return new Worker(new URL(import.meta.url), { workerData: data });
  // Node 20 does not apply `--import` loaders to a worker's entry; register tsx inside the worker.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}

interface Pending {
  resolve(output: FeatureJobOutput): void;
  reject(error: unknown): void;
}

/** Runs feature jobs on `workers` threads (0 = on the calling thread), one job per thread at a time. */
export class FeatureJobPool {
  private readonly threads: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<{ message: JobMessage } & Pending> = [];
  private readonly running = new Map<number, Pending>();
  private nextId = 0;
  private broken?: VoxkitError;

  constructor(readonly workers: number) {
    for (let i = 0; i < workers; i++) {
      const thread = spawnJobWorker();
      thread.on('message', (reply: JobReply) => this.finish(thread, reply));
      thread.on('error', (error: Error) => this.fail(new VoxkitError('E_DATA', `feature worker failed: ${error.message}`, { cause: error })));
      this.threads.push(thread);
      this.idle.push(thread);
    }
  }

  /** Jobs that can usefully be in flight at once (queue this many to keep every thread busy). */
  get capacity(): number {
    return Math.max(1, this.workers) * 2;
  }

  run(job: FeatureJob): Promise<FeatureJobOutput> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.workers === 0) return runFeatureJob(job);
    return new Promise((resolve, reject) => {
      this.waiting.push({ message: { id: this.nextId++, job }, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.waiting.length > 0) {
      const thread = this.idle.pop() as Worker;
      const next = this.waiting.shift()!;
      this.running.set(next.message.id, next);
      thread.postMessage(next.message);
    }
  }

  private finish(thread: Worker, reply: JobReply): void {
    const pending = this.running.get(reply.id);
    this.running.delete(reply.id);
    this.idle.push(thread);
    if (pending) {
      if (reply.ok) pending.resolve(reply.output);
      else pending.reject(new VoxkitError(reply.code as VoxkitErrorCode, reply.message, reply.file === undefined ? {} : { file: reply.file }));
    }
    this.dispatch();
  }

  private fail(error: VoxkitError): void {
    if (this.broken) return;
    this.broken = error;
    for (const pending of this.running.values()) pending.reject(error);
    this.running.clear();
    for (const pending of this.waiting.splice(0)) pending.reject(error);
  }

  async close(): Promise<void> {
    const cancelled = new VoxkitError('E_USAGE', 'feature job pool closed');
    for (const pending of this.waiting.splice(0)) pending.reject(cancelled);
    await Promise.allSettled(this.threads.map((t) => t.terminate()));
  }
}
