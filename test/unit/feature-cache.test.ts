import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../../src/core/backend.js';
import { VoxkitError } from '../../src/errors.js';
import { loadAudio } from '../../src/audio/load-node.js';
import { encodeWav } from '../../src/audio/wav.js';
import { rtvcMel } from '../../src/features/rtvc-mel.js';
import type { FeatureSpec, RtvcMelSpec } from '../../src/features/feature-spec.js';
import { ResNetSE34L } from '../../src/models/resnet-se34l.js';
import { RtvcEncoder } from '../../src/models/rtvc-encoder.js';
import { BatchLoader, type LoadedBatch } from '../../src/data/batch-loader-node.js';
import { defaultCropFor } from '../../src/data/batch-features.js';
import { scanSpeakerFolders } from '../../src/data/dataset-node.js';
import { Ge2eSampler, type SampledBatch, VoxcelebSampler } from '../../src/data/samplers.js';
import { type SpeakerDataset, buildDataset } from '../../src/data/train-list.js';
import { buildFeatureCache, locateCachedFiles, readFeatureCacheIndex } from '../../src/data/feature-cache-node.js';
import { CachedSourceReader } from '../../src/data/feature-cache-reader-node.js';
import { type WavCorpus, writeWavCorpus } from '../helpers/wav-corpus.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

let corpus: WavCorpus;
let dataset: SpeakerDataset;
let files: string[];
let voxSpec: FeatureSpec;
let rtvcSpec: RtvcMelSpec;
let scratch: string;

before(async () => {
  await useBackend();
  // 0.3 s to 2 s: wrap-padded and randomly placed crops both occur.
  corpus = await writeWavCorpus({ speakers: 5, utterancesPerSpeaker: 4, samples: (s, u) => 4800 + 7919 * ((s * 4 + u) % 5), seed: 7 });
  // Resampled on loading, so not 16-bit values: stored as float32.
  const wave = Float32Array.from({ length: 22050 }, (_, i) => 0.2 * Math.sin(i / 7) + 0.01 * Math.cos(i / 3));
  await writeFile(join(corpus.root, 'id00004', 'session0', 'resampled.wav'), encodeWav(wave, 22050));
  dataset = buildDataset(await scanSpeakerFolders(corpus.root));
  files = dataset.utterances.map((u) => u.path);
  const model = new ResNetSE34L({ embeddingDim: 8 });
  voxSpec = model.featureSpec();
  model.dispose();
  const rtvc = new RtvcEncoder({ hiddenSize: 8, embeddingDim: 8, numLayers: 1 });
  rtvcSpec = rtvc.featureSpec();
  rtvc.dispose();
  scratch = await mkdtemp(join(tmpdir(), 'voxkit-cache-'));
});

after(async () => {
  await rm(corpus.root, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

async function collect(loader: BatchLoader, batches: SampledBatch[]): Promise<LoadedBatch[]> {
  const out: LoadedBatch[] = [];
  try {
    for await (const loaded of loader.iterate(batches)) out.push(loaded);
  } finally {
    await loader.close();
  }
  return out;
}

function assertSameBatches(a: LoadedBatch[], b: LoadedBatch[]): void {
  assert.equal(a.length, b.length);
  a.forEach((batch, i) => {
    assert.deepEqual(batch.features.shape, b[i].features.shape);
    assert.ok(Buffer.from(batch.features.data.buffer).equals(Buffer.from(b[i].features.data.buffer)), `batch ${i} differs`);
  });
}

test('waveform cache round trip: every entry is the decoded audio, int16 only where lossless', async () => {
  const dir = join(scratch, 'round-trip');
  const result = await buildFeatureCache({ files, dir, spec: voxSpec, workers: 1, shardBytes: 64 * 1024 });
  assert.equal(result.built, files.length);
  assert.equal(result.entries, files.length);
  assert.ok(result.shards > 1, 'small shards: the data spans several');
  assert.equal(result.float32Entries, 1, 'only the resampled file needs float32');
  const locations = await locateCachedFiles(dir, files, voxSpec);
  const reader = new CachedSourceReader(locations);
  try {
    for (const file of files) {
      const cached = await reader.read(file);
      const audio = await loadAudio(file, { sampleRateHz: 16000 });
      assert.ok('samples' in cached);
      assert.ok(Buffer.from(cached.samples.buffer, cached.samples.byteOffset, cached.samples.byteLength).equals(Buffer.from(audio.samples.buffer, audio.samples.byteOffset, audio.samples.byteLength)), file);
    }
  } finally {
    await reader.close();
  }
  // A second build has nothing to do.
  const again = await buildFeatureCache({ files, dir, spec: voxSpec, workers: 0, shardBytes: 64 * 1024 });
  assert.equal(again.built, 0);
  assert.equal(again.reused, files.length);
});

test('voxceleb log-mel batches from the cache are byte-identical to batches from audio (same seed)', async () => {
  const dir = join(scratch, 'vox');
  await buildFeatureCache({ files, dir, spec: voxSpec, workers: 0 });
  const sampler = new VoxcelebSampler(dataset.labels, { batchSize: 3, nPerSpeaker: 2, seed: 11 });
  const batches = [...sampler.batchesForEpoch(0), ...sampler.batchesForEpoch(1)];
  const crop = defaultCropFor(voxSpec, 30);
  const featureCache = await locateCachedFiles(dir, files, voxSpec);
  const fromAudio = await collect(new BatchLoader({ featureSpec: voxSpec, crop, files, numWorkers: 0 }), batches);
  const fromCache = await collect(new BatchLoader({ featureSpec: voxSpec, crop, files, numWorkers: 1, featureCache }), batches);
  assertSameBatches(fromCache, fromAudio);
});

test('RTVC batches from cached mel frames are byte-identical to batches from audio (short utterances fall back to audio)', async () => {
  const dir = join(scratch, 'rtvc');
  const result = await buildFeatureCache({ files, dir, spec: rtvcSpec, workers: 1 });
  assert.equal(result.content.kind, 'rtvc-mel');
  const index = await readFeatureCacheIndex(dir);
  const first = index!.entries[resolve(files[0])];
  assert.equal(first[3], 40, 'entries hold 40-band frames');
  assert.equal(first[2], rtvcMel((await loadAudio(files[0])).samples).frames);
  const sampler = new Ge2eSampler(dataset.labels, { speakersPerBatch: 3, utterancesPerSpeaker: 3, seed: 5 });
  const batches = [...sampler.batchesForEpoch(0), ...sampler.batchesForEpoch(1)];
  // 40 frames: the 0.3 s utterances (31 frames) are wrap-padded audio, the others cached frames.
  const crop = defaultCropFor(rtvcSpec, 40);
  const featureCache = await locateCachedFiles(dir, files, rtvcSpec);
  const fromAudio = await collect(new BatchLoader({ featureSpec: rtvcSpec, crop, files, numWorkers: 0 }), batches);
  const fromCache = await collect(new BatchLoader({ featureSpec: rtvcSpec, crop, files, numWorkers: 1, featureCache }), batches);
  assertSameBatches(fromCache, fromAudio);
  // A waveform cache feeds RTVC too.
  const waveforms = await locateCachedFiles(join(scratch, 'vox'), files, rtvcSpec);
  assertSameBatches(await collect(new BatchLoader({ featureSpec: rtvcSpec, crop, files, numWorkers: 0, featureCache: waveforms }), batches), fromAudio);
});

test('a build killed mid-way leaves a usable index; the rerun completes it with the same data', async () => {
  const dir = join(scratch, 'killed');
  const script = `
    import { buildFeatureCache } from ${JSON.stringify(join(REPO, 'src/data/feature-cache-node.ts'))};
    const files = ${JSON.stringify(files)};
    await buildFeatureCache({ files, dir: ${JSON.stringify(dir)}, spec: { kind: 'waveform', sampleRateHz: 16000 }, workers: 0, shardBytes: 48 * 1024, commitEntries: 3,
      onProgress: ({ done }) => { if (done === 8) process.kill(process.pid, 'SIGKILL'); } });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, sig) => done(sig)));
  assert.equal(signal, 'SIGKILL', stderr);

  const interrupted = await readFeatureCacheIndex(dir);
  assert.ok(interrupted, 'the index exists after the kill');
  const committed = Object.keys(interrupted.entries).length;
  assert.ok(committed >= 3 && committed < 8, `committed ${committed} entries`);
  // The killed build wrote past the committed length (entries 7 and 8 at least).
  const tail = interrupted.shards[interrupted.shards.length - 1];
  const onDisk = (await readdir(dir)).filter((n) => n.startsWith('shard-'));
  const extra = onDisk.length > interrupted.shards.length || (await stat(join(dir, tail.file))).size > tail.bytes;
  assert.ok(extra, 'uncommitted shard data is on disk');
  // Readers of the interrupted cache see only complete entries, and missing ones are named.
  await assert.rejects(locateCachedFiles(dir, files, voxSpec), (e: unknown) => e instanceof VoxkitError && e.code === 'E_DATA' && /not in the feature cache/.test(e.message));

  const resumed = await buildFeatureCache({ files, dir, spec: voxSpec, workers: 0, shardBytes: 48 * 1024 });
  assert.equal(resumed.reused, committed);
  assert.equal(resumed.built, files.length - committed);
  const index = await readFeatureCacheIndex(dir);
  for (const shard of index!.shards) assert.equal((await stat(join(dir, shard.file))).size, shard.bytes);
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('shard-')).sort(), index!.shards.map((s) => s.file).sort());
  const reader = new CachedSourceReader(await locateCachedFiles(dir, files, voxSpec));
  try {
    for (const file of files) {
      const cached = await reader.read(file);
      assert.ok('samples' in cached);
      assert.deepEqual(cached.samples, (await loadAudio(file, { sampleRateHz: 16000 })).samples, file);
    }
  } finally {
    await reader.close();
  }
});

test('stale and missing entries are errors naming the file; a rebuild updates them', async () => {
  const dir = join(scratch, 'stale');
  const some = files.slice(0, 6);
  await buildFeatureCache({ files: some, dir, spec: voxSpec, workers: 0 });
  await assert.rejects(locateCachedFiles(dir, files, voxSpec), (e: unknown) => e instanceof VoxkitError && e.file === [...files.slice(6)].sort()[0]);
  const changed = some[2];
  await writeFile(changed, encodeWav(Float32Array.from({ length: 9000 }, (_, i) => Math.sin(i / 5) * 0.1), 16000));
  await assert.rejects(locateCachedFiles(dir, some, voxSpec), (e: unknown) => e instanceof VoxkitError && e.file === changed && /changed since/.test(e.message));
  const rebuilt = await buildFeatureCache({ files: some, dir, spec: voxSpec, workers: 0 });
  assert.equal(rebuilt.stale, 1);
  const reader = new CachedSourceReader(await locateCachedFiles(dir, some, voxSpec));
  const cached = await reader.read(changed);
  await reader.close();
  assert.ok('samples' in cached && cached.samples.length === 9000);
  // A cache of frames cannot feed a waveform model.
  await assert.rejects(locateCachedFiles(join(scratch, 'rtvc'), files, voxSpec), (e: unknown) => e instanceof VoxkitError && e.code === 'E_USAGE');
});

test('training from the feature cache (data.featureCache) takes the same steps as training from audio', async () => {
  const { loadTrainConfig } = await import('../../src/train/config.js');
  const { checkTrainConfig, train } = await import('../../src/train/trainer.js');
  const dir = join(scratch, 'train-cache');
  await buildFeatureCache({ files, dir, spec: voxSpec, workers: 0 });
  const losses = async (runName: string, featureCache?: string): Promise<number[]> => {
    const overrides = {
      data: { trainPath: corpus.root, batchSize: 2, nPerSpeaker: 2, maxFrames: 20, workers: 1, ...(featureCache ? { featureCache } : {}) },
      model: { name: 'ResNetSE34L', options: { numFilters: [8, 8, 16, 16], layers: [1, 1, 1, 1], embeddingDim: 32 } },
      loss: { name: 'softmax' },
      train: { maxSteps: 3, logEvery: 1, checkpointEverySteps: 0 },
      out: join(scratch, 'runs'),
      runName,
    };
    const config = await checkTrainConfig(loadTrainConfig({ overrides } as Parameters<typeof loadTrainConfig>[0]));
    const steps: number[] = [];
    await train(config, { onEvent: (e) => void (e.type === 'step' && steps.push(e.loss)) });
    return steps;
  };
  const fromAudio = await losses('audio');
  const fromCache = await losses('cache', dir);
  assert.equal(fromAudio.length, 3);
  assert.deepEqual(fromCache, fromAudio);
  // A cache that does not cover the training set is reported before training.
  const partial = join(scratch, 'train-partial');
  await buildFeatureCache({ files: files.slice(1), dir: partial, spec: voxSpec, workers: 0 });
  await assert.rejects(losses('partial', partial), (e: unknown) => e instanceof Error && e.message.includes('data.featureCache') && e.message.includes(files[0]));
});

test('voxkit cache build / info: builds for a model, reruns reuse, errors are one line naming the file', async () => {
  const { main } = await import('../../src/cli/main.js');
  const dir = join(scratch, 'cli');
  const run = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  };
  const built = await run(['cache', 'build', '--train-path', corpus.root, '--model', 'RTVC', '--out', dir, '--workers', '0', '--json']);
  assert.equal(built.code, 0, built.stderr);
  const result = JSON.parse(built.stdout);
  assert.equal(result.entries, files.length);
  assert.equal(result.content.kind, 'rtvc-mel');
  const again = await run(['cache', 'build', '--train-path', corpus.root, '--model', 'RTVC', '--out', dir, '--workers', '0']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`0 built, ${files.length} already current`));
  // The same folder cannot take waveforms too.
  const clash = await run(['cache', 'build', '--train-path', corpus.root, '--model', 'RawNet3', '--out', dir]);
  assert.equal(clash.code, 2);
  assert.equal(clash.stderr.trim().split('\n').length, 1);
  assert.match(clash.stderr, /RTVC 40-band mel frames/);
  const info = await run(['cache', 'info', dir]);
  assert.equal(info.code, 0);
  assert.match(info.stdout, new RegExp(`entries +${files.length}`));
  const missing = await run(['cache', 'info', join(scratch, 'nowhere')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /index\.json/);
});
