/**
 * Feeds training batches from a pool of worker threads: each worker loads a batch's files (16 kHz
 * mono), crops every item at its seeded position and computes the features, then transfers the
 * Float32Array back. The loader keeps `prefetch` batches in flight ahead of the consumer, so the
 * training loop does not wait on audio, and yields batches in order whatever the workers' timing.
 *
 * Workers run the compiled `batch-worker-node.js` next to this file; under tsx (development,
 * tests) they register tsx first and run the `.ts` source.
 */
import { availableParallelism, cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { VoxkitError, type VoxkitErrorCode } from '../errors.js';
import type { FeatureBatch, FeatureSpec } from '../features/feature-spec.js';
import { type CropSpec, checkAugmentationForSpec, checkCropForSpec } from './batch-features.js';
import type { BatchJob, BatchJobResult } from './batch-worker-node.js';
import { type ItemLoadSettings, closeCachedSources, loadBatchFeatures } from './load-items-node.js';
import type { SampledBatch } from './samplers.js';
import type { CacheLocations } from './feature-cache-format.js';
import type { AugmentLoadSettings } from './augment/noise-audio-node.js';

export interface BatchLoaderOptions {
  /** The encoder's front end (`encoder.featureSpec()`). */
  featureSpec: FeatureSpec;
  /** How items are cut (see `defaultCropFor`). */
  crop: CropSpec;
  /** File of each utterance index (`dataset.utterances.map((u) => u.path)`). */
  files: readonly string[];
  /** Worker threads; default min(2, cores). 0 computes on the calling thread (no prefetch overlap). */
  numWorkers?: number;
  /** Batches loaded ahead of the one being consumed; default max(2, numWorkers). */
  prefetch?: number;
  /** ffmpeg for non-WAV audio; default `ffmpeg` on the PATH. */
  ffmpegPath?: string;
  /** Read sources from a feature cache (`locateCachedFiles(dir, files, featureSpec)`), not audio. */
  featureCache?: CacheLocations;
  /** On-the-fly augmentation; each worker reads the noise lists and caches the noise audio itself. */
  augment?: AugmentLoadSettings;
}

export interface LoadedBatch {
  readonly batch: SampledBatch;
  /** Network input, rows in the batch's item order (see `SampledBatch.layout`). */
  readonly features: FeatureBatch;
  /** Class index per speaker slot, [speakersPerBatch]. */
  readonly labels: Int32Array;
}

interface Job {
  readonly id: number;
  readonly files: string[];
  readonly seeds: number[];
  resolve(features: FeatureBatch): void;
  reject(error: unknown): void;
}

interface PoolWorker {
  readonly thread: Worker;
  job?: Job;
}

/** Default pool size: min(2, cores). */
export function defaultWorkerCount(): number {
  const cores = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  return Math.max(1, Math.min(2, cores));
}

function spawnWorker(settings: ItemLoadSettings): Worker {
  const runningFromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(`./batch-worker-node.${runningFromSource ? 'ts' : 'js'}`, import.meta.url);
  if (!runningFromSource) return new Worker(entry, { workerData: settings });
  // Node 20 does not apply `--import` loaders to a worker's entry; register tsx inside the worker.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: settings });
}

export class BatchLoader {
  private readonly settings: ItemLoadSettings;
  private readonly files: readonly string[];
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Job[] = [];
  private nextJobId = 0;
  private failure?: VoxkitError;
  private closed = false;
  readonly numWorkers: number;
  readonly prefetch: number;

  constructor(options: BatchLoaderOptions) {
    checkCropForSpec(options.featureSpec, options.crop);
    if (options.augment) checkAugmentationForSpec(options.featureSpec, options.augment);
    this.settings = {
      spec: options.featureSpec,
      crop: options.crop,
      ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}),
      ...(options.featureCache ? { featureCache: options.featureCache } : {}),
      ...(options.augment ? { augment: options.augment } : {}),
    };
    this.files = options.files;
    this.numWorkers = options.numWorkers ?? defaultWorkerCount();
    if (!Number.isInteger(this.numWorkers) || this.numWorkers < 0) {
      throw new VoxkitError('E_CONFIG', `batch loader: numWorkers must be an integer ≥ 0, got ${options.numWorkers}`);
    }
    this.prefetch = options.prefetch ?? Math.max(2, this.numWorkers);
    if (!Number.isInteger(this.prefetch) || this.prefetch < 1) {
      throw new VoxkitError('E_CONFIG', `batch loader: prefetch must be an integer ≥ 1, got ${options.prefetch}`);
    }
    for (let i = 0; i < this.numWorkers; i++) this.workers.push(this.startWorker());
  }

  private startWorker(): PoolWorker {
    const worker: PoolWorker = { thread: spawnWorker(this.settings) };
    // An idle pool does not keep the process alive; a worker is ref'd while it has a job.
    worker.thread.unref();
    worker.thread.on('message', (result: BatchJobResult) => this.finish(worker, result));
    worker.thread.on('error', (error: Error) => this.fail(new VoxkitError('E_DATA', `batch loader worker failed: ${error.message}`, { cause: error })));
    worker.thread.on('exit', (exitCode) => {
      if (!this.closed) this.fail(new VoxkitError('E_DATA', `batch loader worker stopped unexpectedly (exit code ${exitCode})`));
    });
    return worker;
  }

  private finish(worker: PoolWorker, result: BatchJobResult): void {
    // A result that arrives while close() terminates the pool must not unref the thread again.
    if (this.closed) return;
    const job = worker.job;
    worker.job = undefined;
    worker.thread.unref();
    if (job && job.id === result.id) {
      if (result.type === 'done') job.resolve({ data: result.data, shape: result.shape });
      else job.reject(new VoxkitError(result.code as VoxkitErrorCode, result.message, result.file === undefined ? {} : { file: result.file }));
    }
    this.dispatch();
  }

  /** Stops the pool after a worker crash: every pending and later load rejects with the error. */
  private fail(error: VoxkitError): void {
    if (this.failure || this.closed) return;
    this.failure = error;
    for (const worker of this.workers) {
      worker.job?.reject(error);
      worker.job = undefined;
    }
    for (const job of this.queue.splice(0)) job.reject(error);
    void this.close();
  }

  private dispatch(): void {
    for (const worker of this.workers) {
      if (this.queue.length === 0) return;
      if (worker.job) continue;
      const job = this.queue.shift() as Job;
      worker.job = job;
      worker.thread.ref();
      const message: BatchJob = { type: 'batch', id: job.id, files: job.files, seeds: job.seeds };
      worker.thread.postMessage(message);
    }
  }

  private filesOf(batch: SampledBatch): string[] {
    return batch.items.map((item) => {
      const file = this.files[item.utterance];
      if (file === undefined) {
        throw new VoxkitError('E_USAGE', `batch loader: utterance ${item.utterance} is not among the ${this.files.length} files`);
      }
      return file;
    });
  }

  /** Loads one batch (queued behind earlier loads). */
  load(batch: SampledBatch): Promise<LoadedBatch> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new VoxkitError('E_USAGE', 'batch loader is closed'));
    let files: string[];
    try {
      files = this.filesOf(batch);
    } catch (error) {
      return Promise.reject(error);
    }
    const seeds = batch.items.map((item) => item.seed);
    const labels = Int32Array.from(batch.labels);
    if (this.numWorkers === 0) {
      return loadBatchFeatures(this.settings, files, seeds).then((features) => ({ batch, features, labels }));
    }
    return new Promise<FeatureBatch>((resolve, reject) => {
      this.queue.push({ id: this.nextJobId++, files, seeds, resolve, reject });
      this.dispatch();
    }).then((features) => ({ batch, features, labels }));
  }

  /**
   * Loads `batches` in order with up to `prefetch` in flight. Stopping early (break) drops loads
   * not yet started; a failed batch rejects when it is reached.
   */
  async *iterate(batches: Iterable<SampledBatch>): AsyncGenerator<LoadedBatch, void, undefined> {
    const source = batches[Symbol.iterator]();
    const inFlight: Array<Promise<LoadedBatch>> = [];
    let exhausted = false;
    const refill = (): void => {
      while (!exhausted && inFlight.length < this.prefetch) {
        const next = source.next();
        if (next.done) {
          exhausted = true;
          return;
        }
        const pending = this.load(next.value);
        // Awaited when its turn comes; until then a failure must not count as unhandled.
        pending.catch(() => undefined);
        inFlight.push(pending);
      }
    };
    const started = this.nextJobId;
    try {
      refill();
      while (inFlight.length > 0) {
        const batch = await (inFlight.shift() as Promise<LoadedBatch>);
        refill();
        yield batch;
      }
    } finally {
      // Loads this iteration queued but no worker has started: drop them.
      for (let i = this.queue.length - 1; i >= 0; i--) {
        if (this.queue[i].id >= started) this.queue.splice(i, 1)[0].reject(new VoxkitError('E_USAGE', 'batch load cancelled'));
      }
    }
  }

  /** Terminates the workers; pending loads reject. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const cancelled = new VoxkitError('E_USAGE', 'batch loader closed');
    for (const job of this.queue.splice(0)) job.reject(cancelled);
    const threads = this.workers.map((w) => {
      w.job?.reject(this.failure ?? cancelled);
      w.job = undefined;
      // An idle worker is unref'd: without ref() the loop may end before terminate() resolves.
      w.thread.ref();
      return w.thread.terminate();
    });
    await Promise.allSettled(threads);
    if (this.settings.featureCache) await closeCachedSources(this.settings.featureCache);
  }
}
