/**
 * Training augmentation: SNR mixing as voxceleb_trainer measures it, reverb, babble, speed,
 * SpecAugment, determinism (same seed → same batch, worker = main thread), `prepare musan` on a
 * miniature MUSAN tree (5 s chunks every 3 s, resumable), `prepare rirs` on a miniature RIRS_NOISES
 * tree (small and medium rooms), and a short training run recording the settings in config.yaml.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAudio } from '../../src/audio/load-node.js';
import { encodeWav } from '../../src/audio/wav.js';
import { useBackend } from '../../src/core/backend.js';
import { Random } from '../../src/core/random.js';
import { main } from '../../src/cli/main.js';
import {
  type AugmentSettings,
  DEFAULT_NUM_NOISES,
  DEFAULT_SNR_DB,
  DEFAULT_SPEC_AUGMENT,
  type NoiseSets,
  applySpecAugment,
  applyWaveAugmentation,
  cropAt,
  levelDb,
  planAugmentation,
  reverberate,
  speedPerturbedCrop,
} from '../../src/data/augment/augment.js';
import { readMusanSet, readRirSet } from '../../src/data/augment/noise-sets-node.js';
import { batchAugmentation } from '../../src/data/augment/noise-audio-node.js';
import { batchFeatures, cropUniform, defaultCropFor } from '../../src/data/batch-features.js';
import { BatchLoader, type LoadedBatch } from '../../src/data/batch-loader-node.js';
import { musanChunkStarts, prepareMusan } from '../../src/data/corpora/musan-node.js';
import { prepareRirs } from '../../src/data/corpora/rirs-node.js';
import { VoxcelebSampler } from '../../src/data/samplers.js';
import type { FeatureSpec } from '../../src/features/feature-spec.js';
import { ResNetSE34L } from '../../src/models/resnet-se34l.js';
import { loadTrainConfig, type TrainConfigInput } from '../../src/train/config.js';
import { checkTrainConfig, train } from '../../src/train/trainer.js';
import { makeTinyCorpus } from './train-corpus.js';

const SR = 16000;
let dir: string;
let musanSplit: string;
let rirsList: string;
let sets: NoiseSets;
let logMelSpec: FeatureSpec;
const waveformSpec: FeatureSpec = { kind: 'waveform', source: 'test', sampleRateHz: SR };

function noiseWave(seed: number, seconds: number, kind: 'tone' | 'noise' = 'noise'): Float32Array {
  const rng = new Random(seed);
  const f = 200 + 50 * seed;
  return Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => (kind === 'tone' ? 0.3 * Math.sin((2 * Math.PI * f * i) / SR) : 0.2 * rng.normal()));
}

function writeWavFile(path: string, samples: Float32Array): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, encodeWav(samples, SR));
}

/** MUSAN's layout: musan/{music,noise,speech}/<source>/<type>-<source>-NNNN.wav; lengths in seconds. */
const MUSAN_FILES: Array<[string, number]> = [
  ['music/fma/music-fma-0000.wav', 12.5],
  ['music/jamendo/music-jamendo-0000.wav', 8],
  ['noise/free-sound/noise-free-sound-0000.wav', 11],
  ['noise/sound-bible/noise-sound-bible-0000.wav', 4],
  ['speech/librivox/speech-librivox-0000.wav', 6],
  ['speech/librivox/speech-librivox-0001.wav', 7],
  ['speech/librivox/speech-librivox-0002.wav', 9],
  ['speech/us-gov/speech-us-gov-0000.wav', 6.5],
  ['speech/us-gov/speech-us-gov-0001.wav', 5],
  ['speech/us-gov/speech-us-gov-0002.wav', 10],
];

before(async () => {
  await useBackend();
  dir = mkdtempSync(join(tmpdir(), 'voxkit-augment-'));
  MUSAN_FILES.forEach(([rel, seconds], i) => writeWavFile(join(dir, 'musan', rel), noiseWave(i + 1, seconds, rel.startsWith('music') ? 'tone' : 'noise')));
  writeFileSync(join(dir, 'musan', 'README'), 'MUSAN\n');
  writeFileSync(join(dir, 'musan', 'noise', 'free-sound', 'ANNOTATIONS'), 'x\n');
  // RIRS_NOISES/simulated_rirs/<room>/RoomNNN/RoomNNN-NNNNN.wav: decaying noise bursts.
  const rng = new Random(5);
  for (const [room, rooms] of [['smallroom', 2], ['mediumroom', 1], ['largeroom', 2]] as const) {
    for (let r = 1; r <= rooms; r++) {
      const name = `Room${String(r).padStart(3, '0')}`;
      for (let k = 1; k <= 2; k++) {
        const rir = Float32Array.from({ length: 1600 }, (_, i) => (i === 0 ? 0.8 : 0.3 * rng.normal() * Math.exp(-i / 300)));
        writeWavFile(join(dir, 'RIRS_NOISES', 'simulated_rirs', room, name, `${name}-${String(k).padStart(5, '0')}.wav`), rir);
      }
    }
  }
  writeFileSync(join(dir, 'RIRS_NOISES', 'simulated_rirs', 'smallroom', 'rir_list'), 'list\n');
  const model = new ResNetSE34L({ embeddingDim: 8, channelsPerStage: [8, 8, 16, 16], blocksPerStage: [1, 1, 1, 1] });
  logMelSpec = model.featureSpec();
  model.dispose();
});
after(() => rmSync(dir, { recursive: true, force: true }));

function settings(extra: Partial<AugmentSettings> = {}): AugmentSettings {
  return {
    choices: ['none', 'reverb', 'music', 'speech', 'noise'],
    snrDb: DEFAULT_SNR_DB,
    numNoises: DEFAULT_NUM_NOISES,
    speedFactors: [],
    specAugment: false,
    ...extra,
  };
}

const FAKE_SETS: NoiseSets = {
  music: ['m0', 'm1', 'm2'],
  speech: Array.from({ length: 10 }, (_, i) => `s${i}`),
  noise: ['n0', 'n1'],
  rirs: ['r0', 'r1', 'r2', 'r3'],
};

test('additive noise: the added signal sits at the drawn SNR, measured as voxceleb_trainer does (10·log10(mean(x²) + 1e-4))', () => {
  const clean = noiseWave(40, 2, 'tone');
  const noise = noiseWave(41, 3);
  for (let seed = 0; seed < 20; seed++) {
    const plan = planAugmentation(seed, settings({ choices: ['noise'] }), { ...FAKE_SETS, noise: ['n'] });
    assert.equal(plan.noises.length, 1);
    const { snrDb, cropUniform: u } = plan.noises[0];
    assert.ok(snrDb >= DEFAULT_SNR_DB.noise[0] && snrDb <= DEFAULT_SNR_DB.noise[1]);
    const out = applyWaveAugmentation(clean, plan, new Map([['n', noise]]));
    const added = out.map((v, i) => v - clean[i]);
    const noiseCrop = cropAt(noise, clean.length, u);
    // The reference's relation, exactly: clean_dB − noise_dB − snr = 20·log10(gain).
    const gain = Math.sqrt(added.reduce((s, v) => s + v * v, 0) / noiseCrop.reduce((s, v) => s + v * v, 0));
    assert.ok(Math.abs(levelDb(clean) - levelDb(noiseCrop) - 20 * Math.log10(gain) - snrDb) < 1e-3, `seed ${seed}`);
    // And, with levels far above the 1e-4 floor, the plain power ratio.
    const measured = 10 * Math.log10(clean.reduce((s, v) => s + v * v, 0) / added.reduce((s, v) => s + v * v, 0));
    assert.ok(Math.abs(measured - snrDb) < 0.02, `measured ${measured} vs drawn ${snrDb}`);
  }
});

test('a noise file shorter than the crop is wrap-padded; a longer one is cut at the drawn start', () => {
  const short = Float32Array.from([1, 2, 3]);
  assert.deepEqual([...cropAt(short, 7, 0.99)], [1, 2, 3, 1, 2, 3, 1]);
  const long = Float32Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual([...cropAt(long, 10, 0.5)], Array.from({ length: 10 }, (_, i) => 45 + i));
});

test('reverb: a unit impulse is the identity; a scaled, delayed impulse is normalised to unit energy; a RIR matches direct convolution', () => {
  const clean = noiseWave(50, 0.5);
  const same = reverberate(clean, Float32Array.from([1]));
  same.forEach((v, i) => assert.ok(Math.abs(v - clean[i]) < 1e-6));
  const delayed = reverberate(clean, Float32Array.from([0, 0, 3]));
  assert.equal(delayed.length, clean.length);
  assert.ok(Math.abs(delayed[0]) < 1e-6 && Math.abs(delayed[1]) < 1e-6);
  for (let i = 2; i < clean.length; i++) assert.ok(Math.abs(delayed[i] - clean[i - 2]) < 1e-6);
  const rir = Float32Array.from({ length: 300 }, (_, i) => Math.exp(-i / 40) * Math.cos(i));
  const energy = Math.sqrt(rir.reduce((s, v) => s + v * v, 0));
  const out = reverberate(clean, rir);
  for (const n of [0, 1, 299, 1000, clean.length - 1]) {
    let direct = 0;
    for (let k = 0; k <= Math.min(n, rir.length - 1); k++) direct += (clean[n - k] * rir[k]) / energy;
    assert.ok(Math.abs(out[n] - direct) < 1e-5, `sample ${n}`);
  }
});

test('babble mixes 3–7 distinct speech files, each at its own SNR in 13–20 dB; the type is drawn uniformly', () => {
  const counts = new Set<number>();
  const types = new Map<string, number>();
  for (let seed = 0; seed < 400; seed++) {
    const speech = planAugmentation(seed, settings({ choices: ['speech'] }), FAKE_SETS);
    const files = speech.noises.map((n) => n.file);
    assert.ok(files.length >= 3 && files.length <= 7, `${files.length} files`);
    assert.equal(new Set(files).size, files.length, 'distinct files');
    for (const n of speech.noises) assert.ok(n.snrDb >= 13 && n.snrDb <= 20);
    counts.add(files.length);
    const any = planAugmentation(seed, settings(), FAKE_SETS);
    types.set(any.type, (types.get(any.type) ?? 0) + 1);
  }
  assert.deepEqual([...counts].sort(), [3, 4, 5, 6, 7]);
  assert.equal(types.size, 5);
  for (const n of types.values()) assert.ok(n > 40 && n < 120, `type counts ${[...types]}`);
});

test('speed perturbation plays the crop faster or slower: a tone moves in frequency by the factor', () => {
  const tone = Float32Array.from({ length: 3 * SR }, (_, i) => Math.sin((2 * Math.PI * 500 * i) / SR));
  const zeroCrossings = (x: Float32Array) => x.reduce((n, v, i) => n + (i > 0 && (x[i - 1] < 0) !== (v < 0) ? 1 : 0), 0);
  const base = zeroCrossings(speedPerturbedCrop(tone, SR, 1, 0.3));
  for (const factor of [0.9, 1.1]) {
    const crop = speedPerturbedCrop(tone, SR, factor, 0.3);
    assert.equal(crop.length, SR);
    const ratio = zeroCrossings(crop) / base;
    assert.ok(Math.abs(ratio - factor) < 0.01, `factor ${factor}: ratio ${ratio}`);
    // No fade at the edges: the resampler's margins fall outside the crop.
    assert.ok(Math.max(...crop.subarray(0, 64).map(Math.abs)) > 0.9 && Math.max(...crop.subarray(SR - 64).map(Math.abs)) > 0.9);
  }
  assert.deepEqual(speedPerturbedCrop(tone, 500, 1, 0.7), cropAt(tone, 500, 0.7));
});

test('SpecAugment zeroes whole time and band stripes (WeSpeaker rule), and only on a drawn share of items', () => {
  const bands = 40;
  const frames = 50;
  let masked = 0;
  for (let seed = 0; seed < 200; seed++) {
    const plan = planAugmentation(seed, settings({ choices: [], specAugment: DEFAULT_SPEC_AUGMENT }), FAKE_SETS);
    const features = new Float32Array(bands * frames).fill(1);
    applySpecAugment(features, bands, frames, plan, DEFAULT_SPEC_AUGMENT);
    if (plan.specMasks.length === 0) {
      assert.ok(features.every((v) => v === 1));
      continue;
    }
    masked++;
    const zeroFrames = Array.from({ length: frames }, (_, t) => t).filter((t) => Array.from({ length: bands }, (_, b) => features[b * frames + t]).every((v) => v === 0));
    const zeroBands = Array.from({ length: bands }, (_, b) => b).filter((b) => features.subarray(b * frames, (b + 1) * frames).every((v) => v === 0));
    assert.ok(zeroFrames.length >= 1 && zeroFrames.length <= DEFAULT_SPEC_AUGMENT.maxTimeWidth, `${zeroFrames.length} frames`);
    assert.ok(zeroBands.length >= 1 && zeroBands.length <= DEFAULT_SPEC_AUGMENT.maxFreqWidth, `${zeroBands.length} bands`);
    assert.equal(zeroFrames[zeroFrames.length - 1] - zeroFrames[0] + 1, zeroFrames.length, 'one contiguous stripe');
  }
  assert.ok(masked > 90 && masked < 150, `${masked}/200 masked (probability 0.6)`);
});

test('prepare musan: 5 s chunks every 3 s in musan_split/<type>/<source>/<recording>/NNNNN.wav, resumable', async () => {
  const result = await prepareMusan({ root: dir });
  musanSplit = result.out;
  assert.equal(result.out, join(dir, 'musan_split'));
  assert.equal(result.recordings, MUSAN_FILES.length);
  assert.equal(result.splitNow, MUSAN_FILES.length);
  // voxceleb_trainer's range(0, len − 5 s, 3 s): ⌈(len − 5 s)/3 s⌉ chunks, none for 5 s or less.
  const expected = (seconds: number) => Math.max(0, Math.ceil((seconds * SR - 5 * SR) / (3 * SR)));
  const byType = { music: 0, speech: 0, noise: 0 };
  for (const [rel, seconds] of MUSAN_FILES) byType[rel.split('/')[0] as keyof typeof byType] += expected(seconds);
  assert.deepEqual(result.chunks, byType);
  assert.deepEqual(result.tooShort, ['noise/sound-bible/noise-sound-bible-0000.wav', 'speech/us-gov/speech-us-gov-0001.wav']);
  assert.deepEqual(musanChunkStarts(12.5 * SR, 5 * SR, 3 * SR), [0, 3 * SR, 6 * SR]);
  // Chunk content and names: the source samples from the chunk's start second.
  const source = await loadAudio(join(dir, 'musan', 'music/fma/music-fma-0000.wav'));
  for (const second of [0, 3, 6]) {
    const chunk = await loadAudio(join(musanSplit, 'music/fma/music-fma-0000', `${String(second).padStart(5, '0')}.wav`));
    assert.equal(chunk.samples.length, 5 * SR);
    assert.deepEqual(chunk.samples.subarray(0, 100), source.samples.subarray(second * SR, second * SR + 100));
  }
  assert.ok(!existsSync(join(musanSplit, 'music/fma/music-fma-0000', '00009.wav')));

  // A killed run left a partial folder and one recording unsplit: the rerun does exactly that one.
  const list = readFileSync(result.listFile, 'utf8');
  rmSync(join(musanSplit, 'speech/librivox/speech-librivox-0002'), { recursive: true });
  mkdirSync(join(musanSplit, 'speech/librivox/.speech-librivox-0002.partial-999999999'));
  writeFileSync(join(musanSplit, 'speech/librivox/.speech-librivox-0002.partial-999999999', '00000.wav'), 'half');
  const again = await prepareMusan({ root: join(dir, 'musan') });
  assert.equal(again.splitNow, 1);
  assert.deepEqual(again.chunks, byType);
  assert.equal(readFileSync(again.listFile, 'utf8'), list);
  assert.ok(!existsSync(join(musanSplit, 'speech/librivox/.speech-librivox-0002.partial-999999999')));

  const read = await readMusanSet(dir);
  assert.equal(read.music.length, byType.music);
  assert.equal(read.speech.length, byType.speech);
  assert.equal(read.noise.length, byType.noise);
  // Without the list (a split made by dataprep.py) the tree is scanned to the same files.
  rmSync(again.listFile);
  assert.deepEqual(await readMusanSet(musanSplit), read);
  writeFileSync(again.listFile, list);
});

test('prepare rirs: keeps the small and medium simulated rooms, leaves the large ones out', async () => {
  const result = await prepareRirs({ root: dir });
  rirsList = result.listFile;
  assert.equal(result.listFile, join(dir, 'RIRS_NOISES', 'rirs.txt'));
  assert.deepEqual(result.byRoom, { largeroom: 4, mediumroom: 2, smallroom: 4 });
  assert.equal(result.kept, 6);
  const lines = readFileSync(rirsList, 'utf8').trim().split('\n');
  assert.ok(lines.every((l) => /^simulated_rirs\/(smallroom|mediumroom)\/Room\d{3}\/Room\d{3}-\d{5}\.wav$/.test(l)), lines.join(' '));
  const fromList = await readRirSet(rirsList);
  assert.deepEqual(await readRirSet(join(dir, 'RIRS_NOISES')), fromList);
  rmSync(rirsList);
  assert.deepEqual(await readRirSet(join(dir, 'RIRS_NOISES', 'simulated_rirs')), fromList, 'scanning the tree keeps the same rooms');
  writeFileSync(rirsList, `${lines.join('\n')}\n`);
  sets = { ...(await readMusanSet(musanSplit)), rirs: fromList };
});

test('voxkit prepare musan|rirs on the command line: summaries, and a folder that is neither is one line with exit code 2', async () => {
  const run = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  };
  const musan = await run(['prepare', 'musan', '--root', dir]);
  assert.equal(musan.code, 0, musan.stderr);
  assert.match(musan.stdout, /recordings\s+10 \(0 split now, 10 done before\)/);
  assert.match(musan.stdout, /next\s+voxkit train --augment --musan /);
  const rirs = await run(['prepare', 'rirs', '--root', join(dir, 'RIRS_NOISES'), '--json']);
  assert.equal(rirs.code, 0, rirs.stderr);
  assert.equal(JSON.parse(rirs.stdout).kept, 6);
  const wrong = await run(['prepare', 'rirs', '--root', join(dir, 'musan')]);
  assert.equal(wrong.code, 2);
  assert.equal(wrong.stderr.trim().split('\n').length, 1);
  assert.match(wrong.stderr, /no RIRS_NOISES\/simulated_rirs/);
});

test('augmentation is a pure function of (crop, seed, noise files): same seed same batch, and workers compute what the main thread does', async () => {
  const corpus = makeTinyCorpus(join(dir, 'pure'), { speakers: 4, utterancesPerSpeaker: 3, seconds: 0.8 });
  const files = corpus.lines.map((l) => join(corpus.wavRoot, l.split(' ')[1]));
  const load = { settings: settings({ speedFactors: [0.9, 1, 1.1], specAugment: DEFAULT_SPEC_AUGMENT }), musan: musanSplit, rirs: rirsList };
  const seeds = [11, 12, 13, 14, 15, 16];
  const sources = await Promise.all(files.slice(0, seeds.length).map(async (f) => ({ samples: (await loadAudio(f)).samples })));
  const crop = defaultCropFor(logMelSpec, 50);
  const first = await batchAugmentation(load, seeds, SR);
  const second = await batchAugmentation(load, seeds, SR);
  assert.ok(first && second);
  const a = batchFeatures(logMelSpec, crop, sources, seeds, first);
  const b = batchFeatures(logMelSpec, crop, sources, seeds, second);
  assert.deepEqual(a.data, b.data);
  const plain = batchFeatures(logMelSpec, crop, sources, seeds);
  assert.notDeepEqual(a.data, plain.data);
  // Augmentation draws on its own stream: the crop positions stay where they were.
  assert.equal(cropUniform(11), cropUniform(11));
  const other = batchFeatures(logMelSpec, crop, sources, seeds.map((s) => s + 100), await batchAugmentation(load, seeds.map((s) => s + 100), SR));
  assert.notDeepEqual(a.data, other.data);
  // Every augmentation type happened among these items.
  const types = new Set(Array.from({ length: 60 }, (_, s) => planAugmentation(s, load.settings, sets).type));
  assert.equal(types.size, 5);

  const sampler = new VoxcelebSampler(corpus.lines.map((l) => corpus.speakers.indexOf(l.split(' ')[0])), { batchSize: 2, nPerSpeaker: 2, seed: 3 });
  const batches = sampler.batchesForEpoch(0).slice(0, 3);
  const collect = async (loader: BatchLoader) => {
    const out: LoadedBatch[] = [];
    try {
      for await (const loaded of loader.iterate(batches)) out.push(loaded);
    } finally {
      await loader.close();
    }
    return out;
  };
  for (const featureSpec of [logMelSpec, waveformSpec]) {
    // SpecAugment only applies to log-mel input; the waveform front end gets noise, reverb and speed.
    const augment = featureSpec.kind === 'waveform' ? { ...load, settings: { ...load.settings, specAugment: false as const } } : load;
    const options = { featureSpec, crop: defaultCropFor(featureSpec, 50), files, augment };
    const fromWorker = await collect(new BatchLoader({ ...options, numWorkers: 1 }));
    const fromMain = await collect(new BatchLoader({ ...options, numWorkers: 0 }));
    assert.equal(fromWorker.length, batches.length);
    fromWorker.forEach((loaded, i) => assert.deepEqual(loaded.features, fromMain[i].features, `${featureSpec.kind} batch ${i}`));
  }
  assert.throws(
    () => new BatchLoader({ featureSpec: waveformSpec, crop: defaultCropFor(waveformSpec, 50), files, numWorkers: 0, augment: load }),
    /SpecAugment masks log-mel features/,
  );
});

test('a short training run with augmentation records the resolved settings in config.yaml; missing sources are reported up front', async () => {
  const corpus = makeTinyCorpus(join(dir, 'train'), { speakers: 4, utterancesPerSpeaker: 4, seconds: 0.6 });
  const input = {
    data: { trainList: corpus.trainList, trainPath: corpus.wavRoot, batchSize: 2, nPerSpeaker: 2, maxFrames: 40, workers: 1 },
    model: { name: 'ResNetSE34L', options: { numFilters: [8, 8, 16, 16], layers: [1, 1, 1, 1], embeddingDim: 32 } },
    loss: { name: 'angleproto' },
    train: { maxEpoch: 1, maxSteps: 2, logEvery: 1, checkpointEvery: 0, checkpointEverySteps: 0 },
    augment: { enabled: true, musan: musanSplit, rirs: rirsList, speedPerturb: true, specAugment: { probability: 0.5 } },
    out: join(dir, 'runs'),
    runName: 'augmented',
  } as TrainConfigInput;
  const config = await checkTrainConfig(loadTrainConfig({ overrides: input }));
  const result = await train(config);
  assert.equal(result.step, 2);
  const yaml = readFileSync(join(result.runDir, 'config.yaml'), 'utf8');
  const recorded = loadTrainConfig({ file: (await import('yaml')).parse(yaml) }).config;
  assert.ok(recorded);
  assert.deepEqual(recorded.augment.choices, ['none', 'reverb', 'music', 'speech', 'noise']);
  assert.deepEqual(recorded.augment.speedPerturb, [0.9, 1, 1.1]);
  assert.deepEqual(recorded.augment.specAugment, { ...DEFAULT_SPEC_AUGMENT, probability: 0.5 });
  assert.equal(recorded.augment.musan, musanSplit);
  assert.deepEqual(recorded.augment.snr, { music: [5, 15], speech: [13, 20], noise: [0, 15] });
  assert.deepEqual(recorded.augment.babble, [3, 7]);

  // CLI: --augment without noise sources, and a --musan folder that does not exist, fail in one line before training.
  const run = async (args: string[]) => {
    let stderr = '';
    const code = await main(args, { stdout: () => undefined, stderr: (t) => (stderr += t) });
    return { code, stderr };
  };
  const base = ['train', '--train-list', corpus.trainList, '--train-path', corpus.wavRoot, '--batch-size', '2', '--max-frames', '40', '--out', join(dir, 'runs')];
  const bare = await run([...base, '--augment']);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /augment\.enabled needs noise to draw from/);
  const missing = await run([...base, '--augment', '--musan', join(dir, 'nowhere'), '--spec-augment', '--model', 'RawNet3']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /augment\.specAugment masks log-mel features; RawNet3/);
  assert.match(missing.stderr, /nowhere: no such folder/);
  assert.ok(!existsSync(join(dir, 'runs', 'nowhere')));
});
