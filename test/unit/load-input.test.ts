import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/core/backend.js';
import { seedWeightInit } from '../../src/core/random.js';
import { VoxkitError } from '../../src/errors.js';
import { loadAudio } from '../../src/audio/load-node.js';
import { embedWaveform } from '../../src/api/embed.js';
import { embedFile, loadEncoder, type LoadedEncoder } from '../../src/api/load-encoder-node.js';
import { loadInput } from '../../src/api/load-input-node.js';
import { encodeNpy } from '../../src/io/npy.js';
import { RtvcEncoder } from '../../src/models/rtvc-encoder.js';
import { SingerEncoder } from '../../src/models/singer-encoder.js';
import { synthesizeCorpus } from '../../src/synth/corpus-node.js';

let scratch: string;
let wavs: string[];
let demo: LoadedEncoder;

before(async () => {
  await useBackend();
  scratch = await mkdtemp(join(tmpdir(), 'voxkit-load-input-'));
  await synthesizeCorpus({ outDir: scratch, speakers: 4, utterancesPerSpeaker: 2, seed: 12, engines: ['flite'], workers: 0 });
  wavs = [];
  for (const speaker of (await readdir(join(scratch, 'wav'))).sort()) {
    for (const session of await readdir(join(scratch, 'wav', speaker))) {
      for (const file of await readdir(join(scratch, 'wav', speaker, session))) wavs.push(join(scratch, 'wav', speaker, session, file));
    }
  }
  demo = await loadEncoder(new URL('../../assets/models/demo-resnetse34l.model', import.meta.url).pathname);
});

after(async () => {
  demo?.encoder.dispose();
  await rm(scratch, { recursive: true, force: true });
});

function forwardRows(encoder: { forward(x: tf.Tensor): tf.Tensor2D }, input: tf.Tensor): Float32Array[] {
  const out = tf.tidy(() => encoder.forward(input));
  const [n, d] = out.shape;
  const flat = out.dataSync() as Float32Array;
  out.dispose();
  input.dispose();
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}

test('ResNetSE34L: forward(loadInput(file)) is the embedding embedFile returns, whole file and crops', async () => {
  const file = wavs[0];
  const input = await loadInput(file, demo);
  assert.equal(input.shape[0], 1);
  assert.equal(input.shape[1], 40, 'log-mel bands first');
  const [embedding] = forwardRows(demo.encoder, input);
  assert.deepEqual(embedding, (await embedFile(demo, file)).embedding);

  const crops = await loadInput(file, demo.encoder, { crops: 3, cropFrames: 100 });
  assert.deepEqual(crops.shape.slice(0, 2), [3, 40]);
  const rows = forwardRows(demo.encoder, crops);
  assert.deepEqual(rows, (await embedFile(demo, file, { crops: 3, cropFrames: 100 })).crops);
});

test('RTVC: loadInput gives the 1.6 s partials embedUtterance embeds (preprocessed audio), or the whole mel', async () => {
  seedWeightInit(3);
  const rtvc = new RtvcEncoder({ hiddenSize: 16, embeddingDim: 8, numLayers: 1 });
  try {
    for (const file of wavs.slice(0, 2)) {
      const expected = await embedWaveform(rtvc, 'rtvc-partials', (await loadAudio(file, { sampleRateHz: 16000 })).samples);
      const input = await loadInput(file, rtvc);
      assert.equal(input.shape[1], 160);
      assert.equal(input.shape[2], 40);
      assert.ok(expected.partials, 'the file is long enough for partials');
      assert.deepEqual(forwardRows(rtvc, input), expected.partials!.embeddings);
      const whole = await loadInput(file, rtvc, { usingPartials: false });
      const [single] = forwardRows(rtvc, whole);
      assert.deepEqual(single, (await embedWaveform(rtvc, 'rtvc-partials', (await loadAudio(file)).samples, { usingPartials: false })).embedding);
    }
  } finally {
    rtvc.dispose();
  }
});

test('singer encoder: a .npy of feature frames becomes [1, frames, features]; mismatches name the file', async () => {
  const singer = new SingerEncoder();
  const spec = singer.featureSpec();
  assert.equal(spec.kind, 'frames');
  const numFeats = spec.kind === 'frames' ? spec.numFeats : 0;
  const frames = Float32Array.from({ length: 12 * numFeats }, (_, i) => Math.sin(i));
  const good = join(scratch, 'good.npy');
  await writeFile(good, encodeNpy(frames, [12, numFeats]));
  const input = await loadInput(good, singer);
  assert.deepEqual(input.shape, [1, 12, numFeats]);
  assert.deepEqual(input.dataSync(), frames);
  input.dispose();
  const bad = join(scratch, 'bad.npy');
  await writeFile(bad, encodeNpy(new Float32Array(12 * 3), [12, 3]));
  await assert.rejects(loadInput(bad, singer), (e: unknown) => e instanceof VoxkitError && e.file === bad);
  singer.dispose();
  await assert.rejects(loadInput(join(scratch, 'missing.wav'), demo), (e: unknown) => e instanceof VoxkitError && e.code === 'E_IO');
});
