/**
 * The `epoch-cache` bench item: one epoch of training batches (what the batch workers do: load,
 * crop, features) read from audio and from the feature cache, on a generated corpus, for a
 * voxceleb log-mel front end (ResNetSE34L, sample crops) and for RTVC (mel-frame partials). Batches
 * are checked to be identical both ways. The training step itself is the same either way and is
 * timed by the train-* items; this measures the part the cache removes.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeWav } from '../../src/audio/wav.js';
import { Random } from '../../src/core/random.js';
import { BatchLoader } from '../../src/data/batch-loader-node.js';
import { defaultCropFor } from '../../src/data/batch-features.js';
import { buildFeatureCache, locateCachedFiles } from '../../src/data/feature-cache-node.js';
import { Ge2eSampler, type SampledBatch, VoxcelebSampler } from '../../src/data/samplers.js';
import { buildDataset, type SpeakerDataset, type Utterance } from '../../src/data/train-list.js';
import type { FeatureSpec } from '../../src/features/feature-spec.js';
import { ResNetSE34L } from '../../src/models/resnet-se34l.js';
import { RtvcEncoder } from '../../src/models/rtvc-encoder.js';

const run = promisify(execFile);

interface CorpusShape {
  speakers: number;
  utterancesPerSpeaker: number;
  /** Utterance lengths are drawn between these (seconds). */
  minSeconds: number;
  maxSeconds: number;
}

const FULL: CorpusShape = { speakers: 32, utterancesPerSpeaker: 8, minSeconds: 4, maxSeconds: 8 };
const QUICK: CorpusShape = { speakers: 12, utterancesPerSpeaker: 4, minSeconds: 3, maxSeconds: 5 };
const WORKERS = 2;

export interface EpochCacheRow {
  corpus: string;
  frontEnd: string;
  batches: number;
  fromAudioSeconds: number;
  fromCacheSeconds: number;
  buildSeconds: number;
  cacheBytes: number;
  audioBytes: number;
  identical: boolean;
}

/** voice-like test signal: a gliding tone with harmonics and noise, so features are not trivial. */
function utteranceWave(rng: Random, samples: number, sampleRateHz: number, pitchHz: number): Float32Array {
  const wave = new Float32Array(samples);
  let phase = 0;
  for (let i = 0; i < samples; i++) {
    const f = pitchHz * (1 + 0.1 * Math.sin((2 * Math.PI * i) / sampleRateHz));
    phase += (2 * Math.PI * f) / sampleRateHz;
    wave[i] = 0.2 * Math.sin(phase) + 0.1 * Math.sin(2 * phase) + 0.05 * Math.sin(3 * phase) + 0.02 * (rng.uniform() * 2 - 1);
  }
  return wave;
}

async function writeCorpus(root: string, shape: CorpusShape, sampleRateHz: number, format: 'wav' | 'flac'): Promise<{ dataset: SpeakerDataset; bytes: number }> {
  const rng = new Random(2026);
  const utterances: Utterance[] = [];
  let bytes = 0;
  for (let s = 0; s < shape.speakers; s++) {
    const speaker = `id${String(s).padStart(5, '0')}`;
    await mkdir(join(root, speaker), { recursive: true });
    for (let u = 0; u < shape.utterancesPerSpeaker; u++) {
      const seconds = shape.minSeconds + rng.uniform() * (shape.maxSeconds - shape.minSeconds);
      const wav = encodeWav(utteranceWave(rng, Math.round(seconds * sampleRateHz), sampleRateHz, 90 + 7 * s), sampleRateHz);
      const name = `${String(u).padStart(5, '0')}`;
      const wavPath = join(root, speaker, `${name}.wav`);
      await writeFile(wavPath, wav);
      let path = wavPath;
      if (format === 'flac') {
        path = join(root, speaker, `${name}.flac`);
        await run('ffmpeg', ['-v', 'error', '-y', '-i', wavPath, path]);
        await rm(wavPath);
      }
      bytes += format === 'flac' ? (await stat(path)).size : wav.byteLength;
      utterances.push({ speaker, relativePath: `${speaker}/${name}.${format}`, path });
    }
  }
  return { dataset: buildDataset(utterances), bytes };
}

async function epochSeconds(spec: FeatureSpec, crop: ReturnType<typeof defaultCropFor>, files: string[], batches: SampledBatch[], featureCache?: Awaited<ReturnType<typeof locateCachedFiles>>): Promise<{ seconds: number; checksum: number }> {
  const loader = new BatchLoader({ featureSpec: spec, crop, files, numWorkers: WORKERS, ...(featureCache ? { featureCache } : {}) });
  let checksum = 0;
  const started = performance.now();
  try {
    for await (const { features } of loader.iterate(batches)) {
      for (let i = 0; i < features.data.length; i += 97) checksum = (checksum * 31 + Math.round(features.data[i] * 1e6)) % 1e9;
    }
  } finally {
    await loader.close();
  }
  return { seconds: (performance.now() - started) / 1000, checksum };
}

async function ffmpegAvailable(): Promise<boolean> {
  return run('ffmpeg', ['-version']).then(
    () => true,
    () => false,
  );
}

/** Runs the item; progress lines go to `log`. */
export async function runEpochCacheBench(quick: boolean, log: (line: string) => void): Promise<EpochCacheRow[]> {
  const shape = quick ? QUICK : FULL;
  const scratch = await mkdtemp(join(tmpdir(), 'voxkit-bench-epoch-'));
  const rows: EpochCacheRow[] = [];
  const resnet = new ResNetSE34L();
  const rtvc = new RtvcEncoder();
  const frontEnds: Array<{ label: string; spec: FeatureSpec; crop: ReturnType<typeof defaultCropFor>; batches: (d: SpeakerDataset) => SampledBatch[] }> = [
    {
      label: 'ResNetSE34L log-mel, 200-frame sample crops',
      spec: resnet.featureSpec(),
      crop: defaultCropFor(resnet.featureSpec(), 200),
      batches: (d) => new VoxcelebSampler(d.labels, { batchSize: 8, nPerSpeaker: 2, seed: 1 }).batchesForEpoch(0),
    },
    {
      label: 'RTVC mel, 160-frame partials',
      spec: rtvc.featureSpec(),
      crop: defaultCropFor(rtvc.featureSpec(), 160),
      batches: (d) => new Ge2eSampler(d.labels, { speakersPerBatch: 4, utterancesPerSpeaker: 4, seed: 1 }).batchesForEpoch(0),
    },
  ];
  resnet.dispose();
  rtvc.dispose();
  const corpora: Array<{ label: string; rate: number; format: 'wav' | 'flac' }> = [
    { label: '16 kHz WAV', rate: 16000, format: 'wav' },
    { label: '44.1 kHz WAV (resampled)', rate: 44100, format: 'wav' },
  ];
  if (await ffmpegAvailable()) corpora.push({ label: '16 kHz FLAC (ffmpeg)', rate: 16000, format: 'flac' });
  try {
    for (const corpusSpec of corpora) {
      const root = join(scratch, `${corpusSpec.format}-${corpusSpec.rate}`);
      log(`epoch-cache: writing ${shape.speakers} × ${shape.utterancesPerSpeaker} utterances (${corpusSpec.label})`);
      const { dataset, bytes } = await writeCorpus(root, shape, corpusSpec.rate, corpusSpec.format);
      const files = dataset.utterances.map((u) => u.path);
      for (const frontEnd of frontEnds) {
        const batches = frontEnd.batches(dataset);
        const cacheDir = join(scratch, `cache-${corpusSpec.format}-${corpusSpec.rate}-${frontEnd.spec.kind}`);
        const buildStarted = performance.now();
        const built = await buildFeatureCache({ files, dir: cacheDir, spec: frontEnd.spec, workers: WORKERS });
        const buildSeconds = (performance.now() - buildStarted) / 1000;
        const cache = await locateCachedFiles(cacheDir, files, frontEnd.spec);
        const audio = await epochSeconds(frontEnd.spec, frontEnd.crop, files, batches);
        const cached = await epochSeconds(frontEnd.spec, frontEnd.crop, files, batches, cache);
        const row: EpochCacheRow = {
          corpus: corpusSpec.label,
          frontEnd: frontEnd.label,
          batches: batches.length,
          fromAudioSeconds: audio.seconds,
          fromCacheSeconds: cached.seconds,
          buildSeconds,
          cacheBytes: built.bytes,
          audioBytes: bytes,
          identical: audio.checksum === cached.checksum,
        };
        log(
          `  ${corpusSpec.label}, ${frontEnd.label}: audio ${audio.seconds.toFixed(2)} s, cache ${cached.seconds.toFixed(2)} s (×${(audio.seconds / cached.seconds).toFixed(1)}), build ${buildSeconds.toFixed(1)} s${row.identical ? '' : ', BATCHES DIFFER'}`,
        );
        rows.push(row);
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return rows;
}

export function renderEpochCacheReport(rows: readonly EpochCacheRow[], quick: boolean): string {
  const shape = quick ? QUICK : FULL;
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  const lines = [
    '## Training epoch: audio vs feature cache',
    '',
    `One epoch of batches through the batch loader (${WORKERS} worker threads: load, crop, features), generated corpus of ${shape.speakers} speakers × ${shape.utterancesPerSpeaker} utterances of ${shape.minSeconds}–${shape.maxSeconds} s. ` +
      'The training step is the same either way (see the training table). "identical" = the batches from the cache equal those from audio.',
    '',
    '| corpus | front end | batches | epoch from audio | epoch from cache | speed-up | cache build | audio / cache size | identical |',
    '|---|---|---:|---:|---:|---:|---:|---:|:---:|',
    ...rows.map(
      (r) =>
        `| ${r.corpus} | ${r.frontEnd} | ${r.batches} | ${r.fromAudioSeconds.toFixed(2)} s | ${r.fromCacheSeconds.toFixed(2)} s | ×${(r.fromAudioSeconds / r.fromCacheSeconds).toFixed(1)} | ${r.buildSeconds.toFixed(1)} s | ${mb(r.audioBytes)} / ${mb(r.cacheBytes)} | ${r.identical ? 'yes' : 'NO'} |`,
    ),
  ];
  return lines.join('\n');
}

/** Whether `--only` asks for this item (or runs everything). */
export function wantsEpochCache(only: readonly string[]): boolean {
  return only.length === 0 || only.some((s) => 'epoch-cache'.includes(s) || s.includes('epoch-cache'));
}
