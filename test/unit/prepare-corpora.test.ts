/**
 * `voxkit prepare` on miniature corpora in their published layouts (built by
 * prepare-corpora-trees.ts in a temp folder): the lists, the speaker-disjoint splits, trial balance
 * and sessions, summary counts, filters, and the faults real downloads have (malformed metadata,
 * listed files missing, stray non-audio files, unreadable audio), which must be reported.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { prepareCorpus, type PrepareCorpusOptions, type PrepareResult } from '../../src/data/prepare-node.js';
import { parseLibriSpeechSpeakers } from '../../src/data/corpora/librispeech.js';
import { parseVoxcelebMeta } from '../../src/data/corpora/voxceleb.js';
import { readWavHeader } from '../../src/data/corpora/wav-header.js';
import { encodeWav } from '../../src/audio/wav.js';
import type { CorpusProblem } from '../../src/data/corpora/types.js';
import * as trees from './prepare-corpora-trees.js';

let base: string;
let counter = 0;
const fresh = (name: string) => join(base, `${name}-${counter++}`);

before(() => {
  base = mkdtempSync(join(tmpdir(), 'voxkit-prepare-'));
});
after(() => rmSync(base, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

function prepare(dataset: string, root: string, options: Partial<PrepareCorpusOptions> = {}): Promise<PrepareResult> {
  return prepareCorpus({ dataset, root, valSpeakers: 2, trials: 40, seed: 3, ...options });
}

interface ListEntry {
  speaker: string;
  path: string;
}

function readList(file: string): ListEntry[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const [speaker, path, extra] = line.split(' ');
      assert.equal(extra, undefined, `one space per line: ${line}`);
      return { speaker, path };
    });
}

function speakersOf(list: ListEntry[]): Set<string> {
  return new Set(list.map((e) => e.speaker));
}

/** Checks the lists of a prepared corpus: files exist, train and validation share no speaker. */
function checkLists(root: string, result: PrepareResult): { train: ListEntry[]; val: ListEntry[] } {
  const out = result.summary.out;
  const train = readList(join(out, 'train_list.txt'));
  const val = existsSync(join(out, 'val_list.txt')) ? readList(join(out, 'val_list.txt')) : [];
  for (const entry of [...train, ...val]) assert.ok(existsSync(join(root, entry.path)), `${entry.path} exists`);
  const shared = [...speakersOf(train)].filter((s) => speakersOf(val).has(s));
  assert.deepEqual(shared, [], 'no speaker in both train and validation lists');
  assert.equal(train.length, result.summary.split.train.utterances);
  assert.equal(speakersOf(train).size, result.summary.split.train.speakers);
  assert.equal(val.length, result.summary.split.validation.utterances);
  assert.equal(speakersOf(val).size, result.summary.split.validation.speakers);
  return { train, val };
}

/**
 * Checks a generated trial list: half target, distinct pairs, labels agree with the speakers of
 * `list`, and (when `sessionOf` is given) target pairs come from different sessions.
 */
function checkTrials(file: string, list: ListEntry[], sessionOf?: (path: string) => string): { trials: number; targets: number } {
  const speakerOf = new Map(list.map((e) => [e.path, e.speaker]));
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const pairs = new Set<string>();
  let targets = 0;
  for (const line of lines) {
    const [label, a, b] = line.split(' ');
    assert.ok(speakerOf.has(a) && speakerOf.has(b), `trial paths come from the list: ${line}`);
    const same = speakerOf.get(a) === speakerOf.get(b);
    assert.equal(label, same ? '1' : '0', `label of ${line}`);
    if (same) {
      targets++;
      if (sessionOf) assert.notEqual(sessionOf(a), sessionOf(b), `target pair across sessions: ${line}`);
    }
    const key = [a, b].sort().join(' ');
    assert.ok(!pairs.has(key), `pair listed once: ${line}`);
    pairs.add(key);
  }
  assert.equal(targets * 2, lines.length, 'balanced: half the trials are target trials');
  return { trials: lines.length, targets };
}

function problemsOf(result: PrepareResult, kind: CorpusProblem['kind']): CorpusProblem[] {
  return result.problems.filter((p) => p.kind === kind);
}

/** Each problem is a line of problems.txt and counted in summary.json. */
function checkProblemReport(result: PrepareResult): string {
  const textFile = readFileSync(join(result.summary.out, 'problems.txt'), 'utf8');
  for (const p of result.problems) assert.ok(textFile.includes(`${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}`), `problems.txt lists ${p.file}`);
  const summary = JSON.parse(readFileSync(join(result.summary.out, 'summary.json'), 'utf8'));
  assert.equal(summary.problems.total, result.problems.length);
  return textFile;
}

const parentFolder = (path: string) => path.split('/').slice(-2, -1)[0];

describe('voxceleb1', () => {
  test('dev and test trees, meta test speakers, official list rewritten, problems reported', async () => {
    const root = fresh('vox1');
    const built = await trees.buildVoxceleb1(root);
    const result = await prepare('voxceleb1', root);
    const { summary } = result;
    assert.equal(summary.speakers, 8);
    assert.equal(summary.utterances, 32);
    assert.ok(Math.abs((summary.hours ?? NaN) - built.seconds / 3600) < 1e-9, 'hours from the WAV headers');
    assert.equal(summary.unknownDurations, 0);
    const { train, val } = checkLists(root, result);
    assert.deepEqual([...speakersOf([...train, ...val])].sort(), built.dev, 'train + validation = the dev speakers');
    assert.deepEqual([...speakersOf(readList(join(summary.out, 'test_list.txt')))].sort(), built.test);
    assert.ok(train.every((e) => e.path.startsWith(`vox1_dev_wav/wav/${e.speaker}/`)));

    const official = readFileSync(join(root, 'veri_test2.txt'), 'utf8').trim().split('\n');
    const written = readFileSync(join(summary.out, 'trials/veri_test2.txt'), 'utf8').trim().split('\n');
    assert.deepEqual(written, official.map((line) => line.replace(/ id/g, ' vox1_test_wav/wav/id')), 'paths relative to the root');
    assert.ok(!existsSync(join(summary.out, 'trials/test_trials.txt')), 'no generated test list when the official one defines the test speakers');
    const generated = checkTrials(join(summary.out, 'trials/val_trials.txt'), val, parentFolder);
    assert.deepEqual(summary.trials.map((t) => [t.file, t.source, t.trials]), [
      ['trials/veri_test2.txt', 'official', 4],
      ['trials/val_trials.txt', 'generated', generated.trials],
    ]);

    const report = checkProblemReport(result);
    assert.match(report, /\[malformed-metadata\] vox1_meta\.csv:4:/);
    assert.deepEqual(problemsOf(result, 'non-audio-file').map((p) => p.file), ['vox1_dev_wav/wav/id10001/vid0A_x9Q/00001.txt']);
    assert.equal(result.problems.length, 2);
  });

  test('--nationality anglophone keeps RTVC\'s English-speaking nationalities from vox1_meta.csv', async () => {
    const root = fresh('vox1-nat');
    await trees.buildVoxceleb1(root);
    const result = await prepare('voxceleb1', root, { nationalities: ['anglophone'], valSpeakers: 0 });
    const { train } = checkLists(root, result);
    assert.deepEqual([...speakersOf(train)].sort(), ['id10001', 'id10002', 'id10004', 'id10006']);
    assert.equal(Object.values(result.summary.excluded).reduce((a, b) => a + b, 0), 8, 'India and Germany: 2 speakers × 4 clips');
    const custom = await prepare('voxceleb1', root, { nationalities: ['usa,India'], valSpeakers: 0, out: join(root, 'out-custom') });
    assert.deepEqual([...speakersOf(checkLists(root, custom).train)].sort(), ['id10001', 'id10003']);
  });

  test('an official list naming absent recordings is reported and not written', async () => {
    const root = fresh('vox1-missing');
    await trees.buildVoxceleb1(root);
    trees.text(root, 'meta/veri_test.txt', '1 id10270/vid0A_x9Q/00001.wav id10270/gone/00009.wav\n0 id10270/vid0A_x9Q/00001.wav id10271/vid1A_x9Q/00001.wav\n');
    const result = await prepare('voxceleb1', root);
    const missing = problemsOf(result, 'missing-file');
    assert.equal(missing.length, 1);
    assert.equal(missing[0].file, 'meta/veri_test.txt');
    assert.match(missing[0].message, /id10270\/gone\/00009\.wav/);
    assert.ok(!existsSync(join(result.summary.out, 'trials/veri_test.txt')));
    assert.ok(existsSync(join(result.summary.out, 'trials/veri_test2.txt')));
  });

  test('--strict: exit 2 with one line, problems.txt written, no lists', async () => {
    const root = fresh('vox1-strict');
    await trees.buildVoxceleb1(root);
    const out = join(root, 'strict-out');
    const { code, stdout, stderr } = await run(['prepare', 'voxceleb1', '--root', root, '--out', out, '--strict']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(stderr.trim().split('\n').filter((l) => l.startsWith('voxkit:')).length, 1);
    assert.match(stderr, /2 problems in the corpus \(--strict\)/);
    assert.ok(existsSync(join(out, 'problems.txt')));
    assert.ok(!existsSync(join(out, 'train_list.txt')));
  });

  test('vox1_meta.csv is read by column name; bad ids are reported', () => {
    const problems: CorpusProblem[] = [];
    const meta = parseVoxcelebMeta('Set\tVoxCeleb1 ID\tNationality\ndev\tid10001\tUSA\ntest\tbogus\tUK\n', 'vox1_meta.csv', problems);
    assert.deepEqual(meta?.get('id10001'), { nationality: 'USA', set: 'dev' });
    assert.equal(problems.length, 1);
    assert.equal(problems[0].line, 3);
  });
});

describe('voxceleb2', () => {
  test('m4a tree: unknown durations, sessions are videos, converted WAVs preferred, no nationality', async () => {
    const root = fresh('vox2');
    const built = trees.buildVoxceleb2(root);
    const seconds = await trees.wav(root, 'dev/aac/id00012/v0aaaa/00001.wav', 0.5);
    const result = await prepare('voxceleb2', root);
    assert.equal(result.summary.utterances, 30);
    assert.equal(result.summary.speakers, built.speakers.length);
    assert.equal(result.summary.hours, null);
    assert.equal(result.summary.unknownDurations, 29);
    assert.ok(result.summary.notes.some((n) => /exist twice/.test(n)));
    const { train, val } = checkLists(root, result);
    const all = [...train, ...val];
    assert.ok(all.some((e) => e.path === 'dev/aac/id00012/v0aaaa/00001.wav'));
    assert.ok(!all.some((e) => e.path === 'dev/aac/id00012/v0aaaa/00001.m4a'));
    assert.ok(seconds > 0);
    checkTrials(join(result.summary.out, 'trials/val_trials.txt'), val, parentFolder);
    assert.equal(result.problems.length, 0);
    await assert.rejects(prepare('voxceleb2', root, { nationalities: ['usa'] }), (err: Error & { code?: string }) => err.code === 'E_USAGE' && /vox2_meta\.csv has no nationality/.test(err.message));
  });
});

describe('librispeech', () => {
  test('subsets, chapters as sessions, SPEAKERS.TXT and transcripts checked', async () => {
    const root = fresh('libri');
    const built = trees.buildLibriSpeech(root);
    const result = await prepare('librispeech', root);
    assert.equal(result.summary.utterances, 6 * 6 + 1 + 2 * 6, 'every FLAC, the one missing from its transcript included');
    assert.equal(result.summary.speakers, built.trainSpeakers.length + built.devSpeakers.length);
    assert.deepEqual(result.summary.languages.map((l) => l.language), ['en']);
    const { val } = checkLists(root, result);
    checkTrials(join(result.summary.out, 'trials/val_trials.txt'), val, parentFolder);
    checkProblemReport(result);
    assert.deepEqual(
      result.problems.map((p) => `${p.kind} ${p.file}${p.line ? `:${p.line}` : ''}`).sort(),
      [
        'inconsistent LibriSpeech/train-clean-100/19/198/19-198-0100.flac',
        'malformed-metadata LibriSpeech/SPEAKERS.TXT:12',
        'missing-file LibriSpeech/train-clean-100/19/198/19-198.trans.txt:4',
        'non-audio-file LibriSpeech/train-clean-100/19/198/notes.md',
      ],
    );
    assert.equal(result.problems.find((p) => p.kind === 'inconsistent')?.kept, true);

    const subset = await prepare('librispeech', join(root, 'LibriSpeech'), { subsets: ['train-clean-100'] });
    assert.equal(subset.summary.utterances, 37);
    assert.deepEqual([...speakersOf(checkLists(join(root, 'LibriSpeech'), subset).train)].every((s) => built.trainSpeakers.includes(s)), true);
    await assert.rejects(prepare('librispeech', root, { subsets: ['train-clean-999'] }), /--subset train-clean-999: not in the corpus/);
    await assert.rejects(prepare('vctk', root, { subsets: ['train-clean-100'] }), /--subset does not apply to vctk/);
  });

  test('SPEAKERS.TXT names may contain the separator', () => {
    const problems: CorpusProblem[] = [];
    const table = parseLibriSpeechSpeakers(';ID |SEX| SUBSET |MINUTES| NAME\n60   | M | train-clean-100  | 20.18 | |CBW|Simon\n', 'SPEAKERS.TXT', problems);
    assert.deepEqual(problems, []);
    assert.deepEqual(table.get('60'), { id: '60', sex: 'M', subset: 'train-clean-100', minutes: 20.18, name: '|CBW|Simon' });
  });
});

describe('vctk', () => {
  test('0.92: mic1 by default, --mic mic2, speaker-info.txt checked', async () => {
    const root = fresh('vctk');
    const built = trees.buildVctk092(root);
    const mic1 = await prepare('vctk', root);
    assert.equal(mic1.summary.utterances, built.speakers.length * 3);
    assert.equal(mic1.summary.excluded['microphone other than mic1'], 12);
    const { train, val } = checkLists(root, mic1);
    assert.ok([...train, ...val].every((e) => e.path.endsWith('_mic1.flac')));
    checkTrials(join(mic1.summary.out, 'trials/val_trials.txt'), val);
    assert.deepEqual(mic1.problems.map((p) => `${p.kind} ${p.file}`).sort(), [
      'malformed-metadata speaker-info.txt',
      'missing-file speaker-info.txt',
      'non-audio-file wav48_silence_trimmed/log.txt',
    ]);
    assert.match(problemsOf(mic1, 'missing-file')[0].message, /p999/);

    const mic2 = await prepare('vctk', root, { mic: 'mic2', valSpeakers: 1 });
    assert.equal(mic2.summary.utterances, 12);
    assert.equal(mic2.summary.speakers, 4);
    assert.ok(mic2.summary.notes.some((n) => /without mic2 recordings.*p280/.test(n)));
  });

  test('before 0.92: wav48 WAVs give hours; --mic is refused', async () => {
    const root = fresh('vctk-old');
    const built = await trees.buildVctkOld(root);
    const result = await prepare('vctk', root, { valSpeakers: 1 });
    assert.equal(result.summary.utterances, 6);
    assert.ok(Math.abs((result.summary.hours ?? NaN) - built.seconds / 3600) < 1e-9);
    assert.equal(result.problems.length, 0, 'IDs without the p match the folders');
    await assert.rejects(prepare('vctk', root, { mic: 'mic2' }), /--mic applies to VCTK 0\.92/);
  });
});

describe('commonvoice', () => {
  test('languages, client_id speakers, clip_durations hours, malformed rows and missing clips', async () => {
    const root = fresh('cv');
    const built = trees.buildCommonVoice(root);
    const result = await prepare('commonvoice', root);
    const expected = Object.fromEntries(Object.entries(built.perSpeaker).map(([lang, s]) => [lang, Object.values(s).reduce((a, b) => a + b, 0)]));
    assert.deepEqual(
      result.summary.languages.map((l) => [l.language, l.speakers, l.utterances]),
      Object.entries(built.perSpeaker).map(([lang, s]) => [lang, Object.keys(s).length, expected[lang]]).sort(),
    );
    assert.equal(result.summary.speakers, 6, 'the client recording in both languages is one speaker');
    const hoursEn = result.summary.languages.find((l) => l.language === 'en')?.hours ?? NaN;
    assert.ok(Math.abs(hoursEn - (expected.en * built.durationMs) / 1000 / 3600) < 1e-12);
    checkLists(root, result);
    checkProblemReport(result);
    assert.deepEqual(result.problems.map((p) => p.kind).sort(), ['malformed-metadata', 'missing-file', 'non-audio-file']);
    assert.match(problemsOf(result, 'missing-file')[0].message, /common_voice_en_999999\.mp3/);
    assert.match(problemsOf(result, 'non-audio-file')[0].file, /clips\/README\.txt$/);
    assert.equal(result.summary.excluded['clips of en in no selected list (validated.tsv)'], 1, 'a clip only other.tsv lists');
  });

  test('--language and --min-utterances', async () => {
    const root = fresh('cv-filter');
    trees.buildCommonVoice(root);
    const de = await prepare('commonvoice', join(root, 'cv-corpus-15.0-2023-09-08'), { languages: ['de'], valSpeakers: 1 });
    assert.equal(de.summary.utterances, 8);
    assert.deepEqual(de.summary.languages.map((l) => l.language), ['de']);
    const en = await prepare('commonvoice', root, { languages: ['en'], minUtterances: 3, valSpeakers: 0, out: join(root, 'en-min3') });
    const { train, val } = checkLists(root, en);
    assert.deepEqual([...speakersOf(train)].sort(), ['a1b2c3', 'd4e5f6']);
    assert.equal(val.length, 0);
    assert.ok(!existsSync(join(en.summary.out, 'val_list.txt')));
    assert.equal(Object.entries(en.summary.excluded).find(([k]) => k.startsWith('speakers with fewer than 3'))?.[1], 3);
    await assert.rejects(prepare('commonvoice', root, { languages: ['xx'] }), /--language xx: not in the corpus \(found: de, en\)/);
  });
});

describe('vocalset', () => {
  test('singers, context/technique sessions, singer and technique filters', async () => {
    const root = fresh('vocalset');
    const built = await trees.buildVocalSet(root);
    const result = await prepare('vocalset', root);
    assert.equal(result.summary.speakers, 5);
    assert.equal(result.summary.utterances, 20);
    assert.ok(Math.abs((result.summary.hours ?? NaN) - built.seconds / 3600) < 1e-9);
    const { val } = checkLists(root, result);
    const technique = (path: string) => path.split('/').slice(-3, -1).join('/');
    checkTrials(join(result.summary.out, 'trials/val_trials.txt'), val, technique);
    assert.deepEqual(result.problems.map((p) => `${p.kind} ${p.file}`), ['non-audio-file VocalSet/FULL/female1/.DS_Store']);

    const picked = await prepare('vocalset', root, { singers: ['f1', 'male2'], techniques: ['belt', 'forte'], valSpeakers: 0, out: join(root, 'picked') });
    const { train } = checkLists(root, picked);
    assert.deepEqual([...speakersOf(train)].sort(), ['female1', 'male2']);
    assert.ok(train.every((e) => /\/(belt|forte)\//.test(e.path)));
    assert.equal(picked.summary.excluded['singer not selected'], 12);
    assert.equal(picked.summary.excluded['technique not selected'], 4);
    await assert.rejects(prepare('vocalset', root, { techniques: ['yodel'] }), /--techniques yodel: not in the corpus/);
  });
});

describe('mailabs', () => {
  test('locales, books as sessions, mix/ excluded, metadata checked', async () => {
    const root = fresh('mailabs');
    const built = await trees.buildMailabs(root);
    const result = await prepare('mailabs', root);
    assert.deepEqual(result.summary.languages.map((l) => [l.language, l.speakers, l.utterances]), [['de_DE', 2, 7], ['en_US', 2, 12]]);
    assert.ok(Math.abs((result.summary.hours ?? NaN) - built.seconds / 3600) < 1e-9);
    assert.equal(result.summary.excluded['M-AILABS mix/ books (several readers, no speaker label)'], 1);
    const { train, val } = checkLists(root, result);
    assert.deepEqual([...speakersOf([...train, ...val])].sort(), [...built.speakers].sort());
    assert.ok(![...train, ...val].some((e) => e.path.includes('/mix/')));
    const book = (path: string) => path.split('/').slice(-3)[0];
    checkTrials(join(result.summary.out, 'trials/val_trials.txt'), val, book);
    checkProblemReport(result);
    assert.deepEqual(result.problems.map((p) => `${p.kind} ${p.file}${p.line ? `:${p.line}` : ''}`).sort(), [
      'malformed-metadata de_DE/by_book/male/karlsson/der_tod/metadata_mls.json',
      'missing-file en_US/by_book/female/judy_bieber/ozma_of_oz/metadata.csv:4',
    ]);
    const de = await prepare('mailabs', join(root, 'de_DE'), { valSpeakers: 0 });
    assert.equal(de.summary.utterances, 7);
  });
});

describe('folder', () => {
  test('speaker folders with sessions; unreadable audio, stray and orphan files reported', async () => {
    const root = fresh('folder');
    const built = await trees.buildFolderTree(root);
    const result = await prepare('folder', root);
    assert.equal(result.summary.utterances, 16);
    assert.ok(Math.abs((result.summary.hours ?? NaN) - built.seconds / 3600) < 1e-9);
    const { val } = checkLists(root, result);
    checkTrials(join(result.summary.out, 'trials/val_trials.txt'), val, (p) => p.split('/')[1]);
    assert.deepEqual(result.problems.map((p) => `${p.kind} ${p.file}`).sort(), [
      'non-audio-file carol/notes.pdf',
      'unexpected-layout orphan.wav',
      'unreadable-audio bob/s1/c.wav',
    ]);
  });

  test('a rerun without validation removes the stale validation list and trials', async () => {
    const root = fresh('folder-rerun');
    await trees.buildFolderTree(root);
    const first = await prepare('folder', root);
    assert.ok(existsSync(join(first.summary.out, 'val_list.txt')));
    const second = await prepare('folder', root, { valSpeakers: 0 });
    assert.ok(!existsSync(join(second.summary.out, 'val_list.txt')));
    assert.ok(!existsSync(join(second.summary.out, 'trials/val_trials.txt')));
    assert.equal(readList(join(second.summary.out, 'train_list.txt')).length, 16);
    assert.deepEqual(second.problems, first.problems, 'the output folder inside the root is not read as part of the corpus');
  });

  test('the CLI prints the summary table and the training command; unknown datasets exit 2', async () => {
    const root = fresh('folder-cli');
    await trees.buildFolderTree(root);
    const ok = await run(['prepare', 'folder', '--root', root, '--val-speakers', '1', '--trials', '8']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^total\s+4\s+16\s+/m);
    assert.match(ok.stdout, /problems {4}3 \(/);
    assert.match(ok.stdout, /voxkit train --train-list .*train_list\.txt --train-path /);
    const json = await run(['prepare', 'folder', '--root', root, '--val-speakers', '0.25', '--json']);
    assert.equal(JSON.parse(json.stdout).split.validation.speakers, 1);
    const bad = await run(['prepare', 'timit', '--root', root]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown dataset "timit"; valid names: voxceleb1, voxceleb2, librispeech/);
    const missing = await run(['prepare', 'folder', '--root', join(root, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the corpus root \(ENOENT\)/);
  });
});

describe('--convert', () => {
  const ffmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
  test('compressed recordings become 16 kHz WAVs beside them and the lists name the WAVs', { skip: ffmpeg ? false : 'ffmpeg is not installed' }, async () => {
    const root = fresh('convert');
    for (const speaker of ['ann', 'ben', 'cat']) {
      for (const n of ['1', '2']) {
        const source = join(root, `${speaker}/${n}.source.wav`);
        await trees.wav(root, `${speaker}/${n}.source.wav`, 0.5);
        const made = spawnSync('ffmpeg', ['-v', 'error', '-i', source, '-ar', '22050', join(root, `${speaker}/${n}.flac`)]);
        assert.equal(made.status, 0, String(made.stderr));
        rmSync(source);
      }
    }
    const before = await prepare('folder', root, { valSpeakers: 1 });
    assert.equal(before.summary.hours, null);
    const result = await prepare('folder', root, { valSpeakers: 1, convert: true, workers: 2 });
    const { train, val } = checkLists(root, result);
    assert.ok([...train, ...val].every((e) => e.path.endsWith('.wav')));
    assert.equal(result.summary.utterances, 6);
    assert.ok(Math.abs((result.summary.hours ?? NaN) - (6 * 0.5) / 3600) < 1e-3 / 3600, 'lengths of the converted WAVs');
    assert.deepEqual(result.problems, []);
  });
});

describe('WAV header lengths', () => {
  test('equal the decoded length, with chunks before the data and for streamed sizes', async () => {
    const samples = trees.tone(0.3);
    const plain = encodeWav(samples, 16000);
    // Insert a LIST chunk between "fmt " and "data", as tagging tools do.
    const list = new Uint8Array([0x4c, 0x49, 0x53, 0x54, 5, 0, 0, 0, 1, 2, 3, 4, 5, 0]);
    const tagged = new Uint8Array(plain.length + list.length);
    tagged.set(plain.subarray(0, 36));
    tagged.set(list, 36);
    tagged.set(plain.subarray(36), 36 + list.length);
    const streamed = tagged.slice();
    new DataView(streamed.buffer).setUint32(36 + list.length + 4, 0xffffffff, true);
    for (const bytes of [plain, tagged, streamed]) {
      const info = await readWavHeader(async (position, length) => bytes.subarray(position, position + length), bytes.length);
      assert.equal(info.frames, samples.length);
      assert.equal(info.sampleRateHz, 16000);
    }
    await assert.rejects(readWavHeader(async () => new Uint8Array([0x66, 0x4c, 0x61, 0x43, 0, 0, 0, 0, 0, 0, 0, 0]), 12), /not a WAV file/);
  });
});
