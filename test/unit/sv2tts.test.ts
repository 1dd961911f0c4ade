import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { useBackend } from '../../src/core/backend.js';
import { loadAudio } from '../../src/audio/load-node.js';
import { preprocessWav } from '../../src/audio/rtvc-preprocess.js';
import { encodeWav } from '../../src/audio/wav.js';
import { rtvcMel } from '../../src/features/rtvc-mel.js';
import { decodeNpyFrames } from '../../src/data/npy-frames.js';
import { readSpeakerDataset } from '../../src/data/dataset-node.js';
import { BatchLoader } from '../../src/data/batch-loader-node.js';
import { Ge2eSampler } from '../../src/data/samplers.js';
import { preprocessSv2tts, sv2ttsFrameName, SV2TTS_MIN_FRAMES } from '../../src/data/sv2tts-node.js';
import { RtvcEncoder } from '../../src/models/rtvc-encoder.js';
import { synthesizeCorpus } from '../../src/synth/corpus-node.js';
import { main } from '../../src/cli/main.js';

let scratch: string;
let wavRoot: string;
let shortFile: string;
let utterances: Array<{ speaker: string; path: string; relativePath: string }>;

async function listWavs(root: string): Promise<Array<{ speaker: string; path: string; relativePath: string }>> {
  const out: Array<{ speaker: string; path: string; relativePath: string }> = [];
  for (const speaker of (await readdir(root)).sort()) {
    for (const session of (await readdir(join(root, speaker))).sort()) {
      for (const file of (await readdir(join(root, speaker, session))).sort()) {
        out.push({ speaker, path: join(root, speaker, session, file), relativePath: `${speaker}/${session}/${file}` });
      }
    }
  }
  return out;
}

function npyOf(bytes: Buffer, file: string) {
  return decodeNpyFrames(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}

before(async () => {
  await useBackend();
  scratch = await mkdtemp(join(tmpdir(), 'voxkit-sv2tts-'));
  await synthesizeCorpus({ outDir: join(scratch, 'corpus'), speakers: 4, utterancesPerSpeaker: 3, seed: 13, engines: ['flite'], workers: 0 });
  wavRoot = join(scratch, 'corpus', 'wav');
  const all = await listWavs(wavRoot);
  // 1.2 s of speech: under RTVC's 1.6 s partial, so preprocessing drops it.
  const source = await loadAudio(all[0].path, { sampleRateHz: 16000 });
  shortFile = join(wavRoot, all[0].speaker, all[0].relativePath.split('/')[1], 'short.wav');
  await writeFile(shortFile, encodeWav(source.samples.slice(0, 19200), 16000));
  utterances = await listWavs(wavRoot);
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('frame names follow RTVC: the path inside the speaker folder, / → _, extension → .npy', () => {
  assert.equal(sv2ttsFrameName({ speaker: 'id10001', path: '/x/id10001/1zcIwhmdeo4/00001.wav', relativePath: 'id10001/1zcIwhmdeo4/00001.wav' }), '1zcIwhmdeo4_00001.npy');
  assert.equal(sv2ttsFrameName({ speaker: '19', path: '/l/19/198/19-198-0001.flac', relativePath: '19/198/19-198-0001.flac' }), '198_19-198-0001.npy');
  assert.equal(sv2ttsFrameName({ speaker: 's', path: '/a/b/take.1.wav' }), 'take.1.npy');
});

test('SV2TTS layout: per-speaker frames and _sources.txt, < 1.6 s dropped, train list readable by voxkit train', async () => {
  const out = join(scratch, 'SV2TTS', 'encoder');
  const result = await preprocessSv2tts({ utterances, out, dataset: 'synth', workers: 1 });
  assert.equal(result.speakers, 4);
  assert.equal(result.tooShort, 1, 'the 1.2 s file');
  assert.equal(result.failed.length, 0);
  assert.equal(result.written + result.tooShort + result.silent, utterances.length);
  assert.equal(result.utterances, result.written);

  const folders = (await readdir(out, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  assert.deepEqual(folders, [...new Set(utterances.map((u) => `synth_${u.speaker}`))].sort());
  let listed = 0;
  for (const folder of folders) {
    const lines = (await readFile(join(out, folder, '_sources.txt'), 'utf8')).trim().split('\n');
    const npys = (await readdir(join(out, folder))).filter((n) => n.endsWith('.npy')).sort();
    assert.deepEqual(lines.map((l) => l.split(',')[0]).sort(), npys, `${folder}: one sources line per frames file`);
    for (const line of lines) {
      const [name, source] = line.split(',');
      assert.ok(source !== resolve(shortFile), 'the short utterance is not listed');
      const frames = npyOf(await readFile(join(out, folder, name)), name);
      assert.equal(frames.features, 40);
      assert.ok(frames.frames >= SV2TTS_MIN_FRAMES);
      listed++;
    }
  }
  assert.equal(listed, result.written);

  // The frames are RTVC's preprocess_wav + wav_to_mel_spectrogram of the source.
  const [firstLine] = (await readFile(join(out, folders[1], '_sources.txt'), 'utf8')).split('\n');
  const [name, source] = firstLine.split(',');
  const audio = await loadAudio(source);
  const expected = rtvcMel(await preprocessWav(audio.samples, audio.sampleRateHz));
  const stored = npyOf(await readFile(join(out, folders[1], name)), name);
  assert.equal(stored.frames, expected.frames);
  assert.deepEqual(stored.data, expected.data);

  // voxkit train reads the list; the RTVC loader cuts 160-frame windows out of the stored frames.
  const dataset = await readSpeakerDataset({ trainList: result.trainList, trainPath: out });
  assert.equal(dataset.utterances.length, result.written);
  const rtvc = new RtvcEncoder({ hiddenSize: 8, embeddingDim: 8, numLayers: 1 });
  const spec = rtvc.featureSpec();
  rtvc.dispose();
  const loader = new BatchLoader({ featureSpec: spec, crop: { mode: 'frames', numFrames: 160 }, files: dataset.utterances.map((u) => u.path), numWorkers: 0 });
  const [batch] = new Ge2eSampler(dataset.labels, { speakersPerBatch: 2, utterancesPerSpeaker: 2, seed: 1 }).batchesForEpoch(0);
  const loaded = await loader.load(batch);
  await loader.close();
  assert.deepEqual(loaded.features.shape, [4, 160, 40]);
  const item = npyOf(await readFile(dataset.utterances[batch.items[0].utterance].path), 'item');
  const row = loaded.features.data.subarray(0, 160 * 40);
  const starts = Array.from({ length: item.frames - 159 }, (_, s) => s);
  assert.ok(starts.some((s) => item.data.subarray(s * 40, (s + 160) * 40).every((v, k) => v === row[k])), 'the row is a window of the stored frames');
});

test('--skip-existing keeps finished utterances and redoes only the missing ones; without it all are redone', async () => {
  const out = join(scratch, 'skip');
  const first = await preprocessSv2tts({ utterances, out, dataset: 'synth', workers: 0 });
  const folder = (await readdir(out)).filter((n) => n.startsWith('synth_')).sort()[0];
  const sourcesPath = join(out, folder, '_sources.txt');
  const lines = (await readFile(sourcesPath, 'utf8')).trim().split('\n');
  const kept = lines.slice(0, -1);
  const dropped = lines[lines.length - 1].split(',')[0];
  const keptName = kept[0].split(',')[0];
  const keptMtime = (await stat(join(out, folder, keptName))).mtimeMs;
  // As if the run had been killed before writing the last line.
  await writeFile(sourcesPath, `${kept.join('\n')}\n`);

  const resumed = await preprocessSv2tts({ utterances, out, dataset: 'synth', workers: 0, skipExisting: true });
  assert.equal(resumed.skipped, first.written - 1);
  // The dropped line's utterance plus the too-short file (never listed) are processed again.
  assert.equal(resumed.written, 1);
  assert.equal(resumed.tooShort, 1);
  assert.equal((await stat(join(out, folder, keptName))).mtimeMs, keptMtime, 'kept frames are not rewritten');
  const after = (await readFile(sourcesPath, 'utf8')).trim().split('\n');
  assert.equal(after.length, lines.length);
  assert.ok(after.some((l) => l.startsWith(`${dropped},`)));
  assert.equal(resumed.utterances, first.utterances);

  const again = await preprocessSv2tts({ utterances, out, dataset: 'synth', workers: 0 });
  assert.equal(again.skipped, 0);
  assert.equal(again.written, first.written);
  assert.equal((await readFile(sourcesPath, 'utf8')).trim().split('\n').length, lines.length, 'the sources file is rewritten, not appended to');
});

test('voxkit prepare folder --sv2tts writes the lists and the SV2TTS encoder folders', async () => {
  const out = join(scratch, 'prepared');
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(['prepare', 'folder', '--root', wavRoot, '--out', out, '--val-speakers', '0', '--sv2tts', '--workers', '1'], {
    stdout: (t) => stdout.push(t),
    stderr: (t) => stderr.push(t),
  });
  assert.equal(code, 0, stderr.join(''));
  assert.match(stdout.join(''), /sv2tts .* 4 speakers/);
  const encoderDir = join(out, 'SV2TTS', 'encoder');
  const folders = (await readdir(encoderDir)).filter((n) => n.startsWith('folder_'));
  assert.equal(folders.length, 4);
  const list = (await readFile(join(encoderDir, 'train_list.txt'), 'utf8')).trim().split('\n');
  assert.equal(list.length, utterances.length - 1);
});
