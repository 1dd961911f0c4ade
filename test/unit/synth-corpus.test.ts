import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { decodeWav } from '../../src/audio/wav.js';
import { main } from '../../src/cli/main.js';
import { VoxkitError } from '../../src/errors.js';
import { synthesizeCorpus, type SynthesizeCorpusOptions } from '../../src/synth/corpus-node.js';
import { loadEngine } from '../../src/synth/engines/load-engines-node.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'voxkit-synth-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file under `dir` (relative path → bytes). */
async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.set(relative(dir, path), await readFile(path));
    }
  };
  await walk(dir);
  return out;
}

const SMALL: Omit<SynthesizeCorpusOptions, 'outDir'> = { speakers: 4, utterancesPerSpeaker: 3, seed: 5, engines: ['flite'], trials: 20 };

test('same seed, same bytes — whether rendered in worker threads or not; another seed differs', async () => {
  const inline = join(root, 'inline');
  const threaded = join(root, 'threaded');
  const progress: number[] = [];
  await synthesizeCorpus({ ...SMALL, outDir: inline, workers: 0 }, (p) => progress.push(p.done));
  await synthesizeCorpus({ ...SMALL, outDir: threaded, workers: 2 });
  const a = await snapshot(inline);
  const b = await snapshot(threaded);
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [path, bytes] of a) assert.ok(bytes.equals(b.get(path)!), `${path} differs`);
  assert.equal(Math.max(...progress), 12);

  const other = join(root, 'other-seed');
  await synthesizeCorpus({ ...SMALL, seed: 6, outDir: other, workers: 0 });
  const c = await snapshot(other);
  const wavs = [...a.keys()].filter((k) => k.endsWith('.wav'));
  assert.ok(wavs.every((k) => !c.get(k)?.equals(a.get(k)!)), 'a different seed gives different audio');
});

test('eSpeak NG (optional): same seed, same bytes — in this thread and in worker threads, whatever order the utterances come in', async (t) => {
  if (!(await loadEngine('espeak'))) {
    t.skip('the optional package @echogarden/espeak-ng-emscripten is not installed');
    return;
  }
  const options: Omit<SynthesizeCorpusOptions, 'outDir'> = { ...SMALL, engines: ['espeak'], seed: 7 };
  const inline = join(root, 'espeak-inline');
  const threaded = join(root, 'espeak-threaded');
  await synthesizeCorpus({ ...options, outDir: inline, workers: 0 });
  await synthesizeCorpus({ ...options, outDir: threaded, workers: 2 });
  const a = await snapshot(inline);
  const b = await snapshot(threaded);
  const corpus = JSON.parse(a.get('corpus.json')!.toString('utf8'));
  assert.deepEqual(corpus.engines.map((e: { name: string }) => e.name), ['espeak']);
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [path, bytes] of a) assert.ok(bytes.equals(b.get(path)!), `${path} differs`);
});

test('layout and list formats (VoxCeleb / voxceleb_trainer)', async () => {
  const dir = join(root, 'inline');
  const files = await snapshot(dir);
  const corpus = JSON.parse(files.get('corpus.json')!.toString('utf8'));
  const { speakers } = JSON.parse(files.get('speakers.json')!.toString('utf8'));
  const wavs = [...files.keys()].filter((k) => k.endsWith('.wav'));
  assert.equal(wavs.length, 12);
  for (const path of wavs) {
    assert.match(path, /^wav\/id\d{5}\/[A-Za-z0-9_-]{11}\/\d{5}\.wav$/);
    const bytes = files.get(path)!;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.deepEqual([view.getUint16(20, true), view.getUint16(22, true), view.getUint32(24, true), view.getUint16(34, true)], [1, 1, 16000, 16], `${path}: PCM, mono, 16 kHz, 16-bit`);
    const decoded = decodeWav(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
    const seconds = decoded.channels[0].length / 16000;
    assert.ok(seconds > 1.5 && seconds < 15, `${path}: ${seconds} s`);
    let peak = 0;
    for (const x of decoded.channels[0]) peak = Math.max(peak, Math.abs(x));
    assert.ok(peak > 0.01 && peak < 0.98, `${path}: peak ${peak}`);
  }

  const trainSpeakers = speakers.filter((s: { split: string }) => s.split === 'train').map((s: { id: string }) => s.id);
  const testSpeakers = speakers.filter((s: { split: string }) => s.split === 'test').map((s: { id: string }) => s.id);
  assert.equal(trainSpeakers.length + testSpeakers.length, 4);
  const trainLines = files.get('train_list.txt')!.toString('utf8').trimEnd().split('\n');
  assert.equal(trainLines.length, trainSpeakers.length * 3);
  for (const line of trainLines) {
    const match = /^(id\d{5}) (id\d{5}\/\S+\.wav)$/.exec(line);
    assert.ok(match, line);
    assert.ok(trainSpeakers.includes(match[1]));
    assert.ok(match[2].startsWith(`${match[1]}/`));
    assert.ok(files.has(`wav/${match[2]}`), `${match[2]} exists`);
  }
  const trialLines = files.get('veri_test.txt')!.toString('utf8').trimEnd().split('\n');
  assert.equal(trialLines.length, corpus.counts.trials);
  for (const line of trialLines) {
    const [label, a, b] = line.split(' ');
    assert.ok(label === '0' || label === '1');
    for (const p of [a, b]) {
      assert.ok(files.has(`wav/${p}`), `${p} exists`);
      assert.ok(testSpeakers.includes(p.split('/')[0]), `${p} belongs to a held-out speaker`);
    }
    assert.equal(a.split('/')[0] === b.split('/')[0], label === '1');
  }
  const utterances = files.get('utterances.jsonl')!.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(utterances.map((u: { path: string }) => `wav/${u.path}`).sort(), wavs.sort());

  assert.equal(corpus.generator, 'voxkit synth');
  assert.equal(corpus.seed, 5);
  assert.deepEqual(corpus.engines.map((e: { name: string }) => e.name), ['flite']);
  assert.equal(corpus.counts.utterances, 12);
  assert.equal(corpus.counts.trainUtterances, trainLines.length);
  assert.equal(corpus.counts.targetTrials, trialLines.filter((l) => l.startsWith('1 ')).length);
  for (const s of speakers) {
    for (const key of ['engine', 'voice', 'gender', 'languages', 'f0Factor', 'rateFactor', 'vocalTractFactor', 'timbre', 'sessions']) assert.ok(key in s, `speakers.json has ${key}`);
  }
});

test('an existing corpus is only replaced when asked to', async () => {
  const dir = join(root, 'inline');
  const before = await snapshot(dir);
  await assert.rejects(synthesizeCorpus({ ...SMALL, outDir: dir, workers: 0 }), (err: unknown) => err instanceof VoxkitError && err.code === 'E_USAGE' && /--force/.test(err.message));
  await synthesizeCorpus({ ...SMALL, speakers: 5, outDir: dir, workers: 0, overwrite: true });
  const replaced = await snapshot(dir);
  assert.equal([...replaced.keys()].filter((k) => k.endsWith('.wav')).length, 15, 'the old wav/ folder was replaced, not merged');
  assert.ok(!replaced.get('corpus.json')!.equals(before.get('corpus.json')!));
});

test('voxkit synth: writes a corpus and prints a summary; bad options exit 2 with every problem on one line', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) };
  const dir = join(root, 'cli');
  const code = await main(['synth', '--out', dir, '--speakers', '4', '--utterances', '2', '--seed', '3', '--engines', 'flite', '--workers', '0', '--trials', '10'], io);
  assert.equal(code, 0, err.join(''));
  assert.match(out.join(''), /speakers +4 \(2 train, 2 held out\)/);
  assert.match(err.join(''), /synth: 8\/8 utterances \(100%\)/);
  assert.ok(existsSync(join(dir, 'corpus.json')));

  err.length = 0;
  const bad = await main(['synth', '--out', join(root, 'bad'), '--speakers', '3', '--utterances', '1', '--languages', 'xx'], io);
  assert.equal(bad, 2);
  const message = err.join('');
  assert.equal(message.trim().split('\n').length, 1, message);
  assert.match(message, /speakers must.*utterances per speaker.*"xx"/);
  assert.ok(!existsSync(join(root, 'bad', 'wav')), 'nothing written for invalid options');
});
