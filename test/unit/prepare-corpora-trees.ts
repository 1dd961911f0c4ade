/**
 * Miniature corpora in their published layouts for the `voxkit prepare` tests: real file names,
 * metadata files as the corpora ship them, tiny WAVs (written by writeWav) whose lengths the tests
 * know, and fake FLAC/MP3/M4A files (a format signature and a few bytes) where only the scan is
 * under test. Each builder can plant the faults a real download has: malformed metadata lines,
 * listed files that are missing, stray non-audio files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeWav } from '../../src/audio/load-node.js';

export const SAMPLE_RATE = 16000;

/** A short tone; `seconds` is exact in samples at 16 kHz. */
export function tone(seconds: number, frequency = 220): Float32Array {
  const samples = new Float32Array(Math.round(seconds * SAMPLE_RATE));
  for (let i = 0; i < samples.length; i++) samples[i] = 0.1 * Math.sin((2 * Math.PI * frequency * i) / SAMPLE_RATE);
  return samples;
}

export async function wav(root: string, path: string, seconds: number): Promise<number> {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  await writeWav(file, tone(seconds), SAMPLE_RATE);
  return Math.round(seconds * SAMPLE_RATE) / SAMPLE_RATE;
}

const SIGNATURES: Record<string, number[]> = {
  flac: [0x66, 0x4c, 0x61, 0x43],
  mp3: [0x49, 0x44, 0x33, 0x04],
  m4a: [0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70, 0x4d, 0x34, 0x41, 0x20],
};

/** A compressed-audio stand-in: the right signature, not decodable. */
export function fakeCompressed(root: string, path: string): void {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  const ext = path.slice(path.lastIndexOf('.') + 1);
  writeFileSync(file, Uint8Array.from([...(SIGNATURES[ext] ?? [1, 2, 3, 4]), ...new Array(60).fill(0)]));
}

export function text(root: string, path: string, content: string): void {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

export interface BuiltCorpus {
  root: string;
  /** Total seconds of the WAVs the tree holds (those the lists should contain). */
  seconds: number;
}

/**
 * VoxCeleb1 as vox1_dev_wav.zip and vox1_test_wav.zip unpack (each into wav/), with vox1_meta.csv
 * (tab-separated) and veri_test2.txt. Dev speakers id10001–id10006, test speakers id10270–id10271;
 * two videos × two clips each. Faults: a malformed meta row, a .txt file among the recordings.
 */
export async function buildVoxceleb1(root: string): Promise<BuiltCorpus & { dev: string[]; test: string[] }> {
  const dev = ['id10001', 'id10002', 'id10003', 'id10004', 'id10005', 'id10006'];
  const test = ['id10270', 'id10271'];
  const nationality: Record<string, string> = { id10001: 'USA', id10002: 'UK', id10003: 'India', id10004: 'Canada', id10005: 'Germany', id10006: 'Ireland', id10270: 'USA', id10271: 'Australia' };
  let seconds = 0;
  for (const [tree, speakers] of [['vox1_dev_wav/wav', dev], ['vox1_test_wav/wav', test]] as const) {
    for (const [s, speaker] of speakers.entries()) {
      for (const video of [`vid${s}A_x9Q`, `vid${s}B-k2Z`]) {
        for (const clip of ['00001', '00002']) seconds += await wav(root, `${tree}/${speaker}/${video}/${clip}.wav`, 0.25 + 0.05 * s);
      }
    }
  }
  text(root, 'vox1_dev_wav/wav/id10001/vid0A_x9Q/00001.txt', 'Identity  : \tid10001\nReference : \tvid0A_x9Q\n');
  const meta = ['VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet'];
  for (const id of [...dev, ...test]) meta.push(`${id}\tName_${id}\tm\t${nationality[id]}\t${test.includes(id) ? 'test' : 'dev'}`);
  meta.splice(3, 0, 'id1000X\tbroken row\tm');
  text(root, 'vox1_meta.csv', `${meta.join('\n')}\n`);
  const trials = [
    `1 id10270/vid0A_x9Q/00001.wav id10270/vid0B-k2Z/00002.wav`,
    `0 id10270/vid0A_x9Q/00001.wav id10271/vid1A_x9Q/00001.wav`,
    `1 id10271/vid1A_x9Q/00002.wav id10271/vid1B-k2Z/00001.wav`,
    `0 id10271/vid1B-k2Z/00002.wav id10270/vid0B-k2Z/00001.wav`,
  ];
  text(root, 'veri_test2.txt', `${trials.join('\n')}\n`);
  return { root, seconds, dev, test };
}

/** VoxCeleb2 dev as vox2_dev_aac unpacks (aac/…/NNNNN.m4a), with vox2_meta.csv (comma-separated, padded). */
export function buildVoxceleb2(root: string): BuiltCorpus & { speakers: string[] } {
  const speakers = ['id00012', 'id00015', 'id00017', 'id00018', 'id00019'];
  for (const [s, speaker] of speakers.entries()) {
    for (const video of [`v${s}aaaa`, `v${s}bbbb`]) for (const clip of ['00001', '00002', '00003']) fakeCompressed(root, `dev/aac/${speaker}/${video}/${clip}.m4a`);
  }
  const meta = ['VoxCeleb2 ID ,VGGFace2 ID ,Gender ,Set '];
  for (const id of speakers) meta.push(`${id} ,n0${id.slice(2)} ,f ,dev `);
  text(root, 'vox2_meta.csv', `${meta.join('\n')}\n`);
  return { root, seconds: 0, speakers };
}

/**
 * LibriSpeech as the OpenSLR tarballs unpack (LibriSpeech/<subset>/…), FLAC stand-ins. Faults: a
 * malformed SPEAKERS.TXT line, a transcript line whose file is missing, a FLAC absent from its
 * transcript, a stray file in a chapter.
 */
export function buildLibriSpeech(root: string): BuiltCorpus & { trainSpeakers: string[]; devSpeakers: string[] } {
  const base = 'LibriSpeech';
  const trainSpeakers = ['19', '26', '27', '32', '39', '40'];
  const devSpeakers = ['84', '174'];
  const speakersTxt = [
    '; Some speakers of the LibriSpeech corpus',
    ';ID  |SEX| SUBSET           |MINUTES| NAME',
    '19   | F | train-clean-100  | 25.19 | Kara Shallenberg',
    '26   | M | train-clean-100  | 25.08 | Denny Sayers',
    '27   | M | train-clean-100  | 20.14 | Sean McKinley',
    '32   | F | train-clean-100  | 24.01 | Betsie Bush',
    '39   | F | train-clean-100  | 25.05 | Sherry Crowther',
    '40   | F | train-clean-100  | 25.03 | Vicki Barbour',
    '60   | M | train-clean-100  | 20.18 | |CBW|Simon',
    '84   | F | dev-clean        | 8.02 | Christie Nowak',
    '174  | M | dev-clean        | 8.04 | Peter Eastman',
    'this line is not a speaker row',
  ];
  text(root, `${base}/SPEAKERS.TXT`, `${speakersTxt.join('\n')}\n`);
  for (const [subset, speakers] of [['train-clean-100', trainSpeakers], ['dev-clean', devSpeakers]] as const) {
    for (const [s, speaker] of speakers.entries()) {
      for (const chapter of [`${198 + s}`, `${227 + s}`]) {
        const dir = `${base}/${subset}/${speaker}/${chapter}`;
        const lines: string[] = [];
        for (const utt of ['0000', '0001', '0002']) {
          const id = `${speaker}-${chapter}-${utt}`;
          fakeCompressed(root, `${dir}/${id}.flac`);
          lines.push(`${id} NORTHANGER ABBEY CHAPTER ${utt}`);
        }
        text(root, `${dir}/${speaker}-${chapter}.trans.txt`, `${lines.join('\n')}\n`);
      }
    }
  }
  // Faults in speaker 19's first chapter.
  text(root, `${base}/train-clean-100/19/198/19-198.trans.txt`, '19-198-0000 A\n19-198-0001 B\n19-198-0002 C\n19-198-0099 LISTED BUT MISSING\n');
  fakeCompressed(root, `${base}/train-clean-100/19/198/19-198-0100.flac`);
  text(root, `${base}/train-clean-100/19/198/notes.md`, 'stray');
  return { root, seconds: 0, trainSpeakers, devSpeakers };
}

/**
 * VCTK 0.92 (wav48_silence_trimmed, mic1 and mic2 FLACs) with speaker-info.txt. p280 has no mic2
 * recordings (as in the real corpus); p999 is listed but has no audio; a log file sits in the tree.
 */
export function buildVctk092(root: string): BuiltCorpus & { speakers: string[] } {
  const speakers = ['p225', 'p226', 'p227', 'p228', 'p280'];
  const info = ['ID  AGE  GENDER  ACCENTS  REGION COMMENTS ', 'p225  23  F    English    Southern  England', 'p226  22  M    English    Surrey', 'p227  38  M    English    Cumbria', 'p228  22  F    English    Southern  England', 'p280  25  F    France    Paris (mic2 files unavailable)', 'p999  30  M    Scottish  Fife', 'p300 x'];
  text(root, 'speaker-info.txt', `${info.join('\n')}\n`);
  for (const speaker of speakers) {
    for (const n of ['001', '002', '003']) {
      fakeCompressed(root, `wav48_silence_trimmed/${speaker}/${speaker}_${n}_mic1.flac`);
      if (speaker !== 'p280') fakeCompressed(root, `wav48_silence_trimmed/${speaker}/${speaker}_${n}_mic2.flac`);
    }
  }
  text(root, 'wav48_silence_trimmed/log.txt', 'trimmed with a VAD');
  return { root, seconds: 0, speakers };
}

/** VCTK before 0.92: wav48/pNNN/pNNN_NNN.wav and IDs without the p in speaker-info.txt. */
export async function buildVctkOld(root: string): Promise<BuiltCorpus> {
  text(root, 'speaker-info.txt', 'ID  AGE  GENDER  ACCENTS  REGION\n225  23  F    English    Southern  England\n226  22  M    English    Surrey\n227  38  M    English    Cumbria\n');
  let seconds = 0;
  for (const speaker of ['p225', 'p226', 'p227']) for (const n of ['001', '002']) seconds += await wav(root, `wav48/${speaker}/${speaker}_${n}.wav`, 0.3);
  return { root, seconds };
}

/**
 * Common Voice as cv-corpus-*.tar.gz unpacks: two languages, validated.tsv with a newer release's
 * extra columns, clip_durations.tsv, MP3 stand-ins. Client `shared` records in both languages.
 * Faults: a row with a missing cell, a listed clip absent from clips/, a text file in clips/.
 */
export function buildCommonVoice(root: string): BuiltCorpus & { perSpeaker: Record<string, Record<string, number>>; durationMs: number } {
  const base = 'cv-corpus-15.0-2023-09-08';
  const header = 'client_id\tpath\tsentence_id\tsentence\tsentence_domain\tup_votes\tdown_votes\tage\tgender\taccents\tvariant\tlocale\tsegment';
  const perSpeaker: Record<string, Record<string, number>> = {
    en: { a1b2c3: 4, d4e5f6: 3, shared: 2, lonely: 1 },
    de: { '9f8e7d': 3, '6c5b4a': 3, shared: 2 },
  };
  const durationMs = 2340;
  let clipNumber = 1000;
  for (const [language, speakers] of Object.entries(perSpeaker)) {
    const rows = [header];
    const durations = ['clip\tduration[ms]'];
    for (const [client, count] of Object.entries(speakers)) {
      for (let i = 0; i < count; i++) {
        const clip = `common_voice_${language}_${clipNumber++}.mp3`;
        fakeCompressed(root, `${base}/${language}/clips/${clip}`);
        rows.push(`${client}\t${clip}\tsid${clipNumber}\t"Quoted" sentence, with commas.\t\t2\t0\ttwenties\tfemale_feminine\t\t\t${language}\t`);
        durations.push(`${clip}\t${durationMs}`);
      }
    }
    if (language === 'en') {
      rows.push(`a1b2c3\tcommon_voice_en_999999.mp3\tsid\tmissing clip\t\t2\t0\t\t\t\t\ten\t`);
      rows.push(`a1b2c3\tcommon_voice_en_1000.mp3\ttoo few cells`);
      text(root, `${base}/${language}/clips/README.txt`, 'not audio');
      fakeCompressed(root, `${base}/${language}/clips/common_voice_en_5555.mp3`); // only in other.tsv
      text(root, `${base}/${language}/other.tsv`, `${header}\nzzz\tcommon_voice_en_5555.mp3\ts\tx\t\t0\t0\t\t\t\t\ten\t\n`);
    }
    text(root, `${base}/${language}/validated.tsv`, `${rows.join('\n')}\n`);
    text(root, `${base}/${language}/clip_durations.tsv`, `${durations.join('\n')}\n`);
  }
  return { root, seconds: 0, perSpeaker, durationMs };
}

/** VocalSet 1.1 (FULL/<singer>/<context>/<technique>/f1_….wav) with a macOS .DS_Store. */
export async function buildVocalSet(root: string): Promise<BuiltCorpus & { singers: string[] }> {
  const singers = ['female1', 'female2', 'male1', 'male2', 'male3'];
  const takes: Array<[string, string, string]> = [
    ['arpeggios', 'belt', 'arpeggios_belt_a'],
    ['arpeggios', 'breathy', 'arpeggios_breathy_a'],
    ['long_tones', 'forte', 'long_forte_a'],
    ['excerpts', 'straight', 'caro_straight'],
  ];
  let seconds = 0;
  for (const singer of singers) {
    const code = `${singer.startsWith('female') ? 'f' : 'm'}${singer.replace(/\D/g, '')}`;
    for (const [context, technique, name] of takes) seconds += await wav(root, `VocalSet/FULL/${singer}/${context}/${technique}/${code}_${name}.wav`, 0.3);
  }
  text(root, 'VocalSet/FULL/female1/.DS_Store', 'Bud1');
  return { root, seconds, singers };
}

/**
 * M-AILABS en_US and de_DE (by_book/<gender>/<speaker>/<book>/wavs + metadata.csv), a mix/ book,
 * a listed wav that is missing, and a book with only a malformed metadata_mls.json.
 */
export async function buildMailabs(root: string): Promise<BuiltCorpus & { speakers: string[] }> {
  const books: Array<[string, string, string, string]> = [
    ['en_US', 'female', 'judy_bieber', 'the_sea_fairies'],
    ['en_US', 'female', 'judy_bieber', 'ozma_of_oz'],
    ['en_US', 'male', 'elliot_miller', 'pink_fairy_book'],
    ['en_US', 'male', 'elliot_miller', 'poisoned_pen'],
    ['de_DE', 'female', 'eva_k', 'grune_haus'],
    ['de_DE', 'male', 'karlsson', 'kleinzaches'],
  ];
  let seconds = 0;
  for (const [locale, gender, speaker, book] of books) {
    const dir = `${locale}/by_book/${gender}/${speaker}/${book}`;
    const lines: string[] = [];
    for (const n of ['000001', '000002', '000003']) {
      seconds += await wav(root, `${dir}/wavs/${book}_01_f${n}.wav`, 0.2);
      lines.push(`${book}_01_f${n}|Text ${n}.|text ${n}.`);
    }
    if (book === 'ozma_of_oz') lines.push('ozma_of_oz_01_f000099|Listed but missing.|listed but missing.');
    text(root, `${dir}/metadata.csv`, `${lines.join('\n')}\n`);
  }
  await wav(root, 'en_US/by_book/mix/sherlock/wavs/sherlock_01_f000001.wav', 0.2);
  text(root, 'en_US/by_book/mix/sherlock/metadata.csv', 'sherlock_01_f000001|A.|a.\n');
  // A book with only a broken metadata_mls.json: its wav stays (kept), the JSON is reported.
  seconds += await wav(root, 'de_DE/by_book/male/karlsson/der_tod/wavs/der_tod_01_f000001.wav', 0.2);
  text(root, 'de_DE/by_book/male/karlsson/der_tod/metadata_mls.json', '{"wavs/der_tod_01_f000001.wav": {"original": "x", ');
  return { root, seconds, speakers: ['judy_bieber', 'elliot_miller', 'eva_k', 'karlsson'] };
}

/** A folder per speaker with session sub-folders, plus an unreadable .wav and stray files. */
export async function buildFolderTree(root: string): Promise<BuiltCorpus & { speakers: string[] }> {
  const speakers = ['alice', 'bob', 'carol', 'dave'];
  let seconds = 0;
  for (const speaker of speakers) for (const session of ['s1', 's2']) for (const n of ['a', 'b']) seconds += await wav(root, `${speaker}/${session}/${n}.wav`, 0.2);
  text(root, 'bob/s1/c.wav', 'this is not a wav file at all');
  text(root, 'carol/notes.pdf', '%PDF-1.4');
  await wav(root, 'orphan.wav', 0.2);
  text(root, 'README.txt', 'my corpus');
  return { root, seconds, speakers };
}
