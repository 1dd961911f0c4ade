/**
 * LibriSpeech as the OpenSLR archives unpack: `LibriSpeech/<subset>/<speaker>/<chapter>/` holding
 * `<speaker>-<chapter>-<NNNN>.flac` and the transcript `<speaker>-<chapter>.trans.txt`, with
 * `SPEAKERS.TXT` (`;` comments, then `ID | SEX | SUBSET | MINUTES | NAME`) at the top. The session
 * is the chapter; every transcript line must have its file and every file its transcript line.
 */
import { VoxkitError } from '../../errors.js';
import { emptyScan, isAudioName, joinRelative, normaliseNames, problem, subfolders } from './common.js';
import type { CorpusFileSystem, CorpusOptions, CorpusProblem, CorpusReader, CorpusScanResult } from './types.js';

export const LIBRISPEECH_SUBSETS: readonly string[] = Object.freeze([
  'train-clean-100',
  'train-clean-360',
  'train-other-500',
  'dev-clean',
  'dev-other',
  'test-clean',
  'test-other',
]);

const SUBSET_NAME = /^(train|dev|test)-(clean|other)(-\d+)?$/;

export interface LibriSpeechSpeaker {
  id: string;
  sex: string;
  subset: string;
  minutes: number;
  name: string;
}

/**
 * Reads SPEAKERS.TXT. The name is the last field and may itself contain `|` (speaker 60 is
 * "|CBW|Simon"), so only the first four separators split.
 */
export function parseLibriSpeechSpeakers(text: string, file: string, problems: CorpusProblem[]): Map<string, LibriSpeechSpeaker> {
  const speakers = new Map<string, LibriSpeechSpeaker>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) return;
    const fields = line.split('|');
    const [id, sex, subset, minutes] = fields.slice(0, 4).map((f) => f.trim());
    const name = fields.slice(4).join('|').trim();
    if (fields.length < 5 || !/^\d+$/.test(id) || !/^[MF]$/i.test(sex) || !Number.isFinite(Number(minutes)) || minutes === '') {
      problems.push(problem('malformed-metadata', file, `expected "ID | SEX | SUBSET | MINUTES | NAME", got "${line.slice(0, 100)}"`, { line: index + 1 }));
      return;
    }
    speakers.set(id, { id, sex: sex.toUpperCase(), subset, minutes: Number(minutes), name });
  });
  return speakers;
}

/** Utterance ids of a `<speaker>-<chapter>.trans.txt` (`ID TEXT` lines), with their line numbers. */
export function parseLibriSpeechTranscript(text: string, file: string, speaker: string, chapter: string, problems: CorpusProblem[]): Map<string, number> {
  const ids = new Map<string, number>();
  const expected = new RegExp(`^${speaker}-${chapter}-\\d+$`);
  text.split(/\r?\n/).forEach((raw, index) => {
    if (raw.trim() === '') return;
    const id = raw.trim().split(/\s+/, 1)[0];
    if (!expected.test(id)) {
      problems.push(problem('malformed-metadata', file, `utterance id "${id}" is not ${speaker}-${chapter}-NNNN`, { line: index + 1 }));
      return;
    }
    if (ids.has(id)) problems.push(problem('malformed-metadata', file, `utterance ${id} is listed twice (first on line ${ids.get(id)})`, { line: index + 1 }));
    else ids.set(id, index + 1);
  });
  return ids;
}

async function scanLibriSpeech(fs: CorpusFileSystem, options: CorpusOptions): Promise<CorpusScanResult> {
  const scan = emptyScan();
  // Accept the folder the archives were unpacked in as well as LibriSpeech/ itself.
  let base = '';
  const top = await subfolders(fs, '');
  if (!top.some((name) => SUBSET_NAME.test(name)) && top.includes('LibriSpeech')) base = 'LibriSpeech';
  const folders = await subfolders(fs, base);
  const available = folders.filter((name) => SUBSET_NAME.test(name));
  for (const name of folders.filter((n) => !SUBSET_NAME.test(n) && !n.startsWith('.'))) {
    scan.problems.push(problem('unexpected-layout', joinRelative(base, name), 'not a LibriSpeech subset folder (train-clean-100, dev-clean, …); not read'));
  }
  const requested = normaliseNames(options.subsets);
  if (requested) {
    const unknown = requested.filter((s) => !available.includes(s));
    if (unknown.length > 0) {
      throw new VoxkitError('E_USAGE', `--subset ${unknown.join(', ')}: not in the corpus (found: ${available.join(', ') || 'no subset folders'})`);
    }
    for (const name of available.filter((s) => !requested.includes(s))) scan.notes.push(`subset ${name} present but not selected`);
  }
  const subsets = requested ?? available;

  const speakersFile = joinRelative(base, 'SPEAKERS.TXT');
  const speakersText = await fs.readText(speakersFile);
  const table = speakersText === undefined ? undefined : parseLibriSpeechSpeakers(speakersText, speakersFile, scan.problems);
  if (speakersText === undefined) scan.problems.push(problem('missing-file', speakersFile, 'SPEAKERS.TXT is missing: speakers cannot be checked', { kept: true }));

  for (const subset of subsets) {
    const subsetDir = joinRelative(base, subset);
    for (const entry of (await fs.list(subsetDir)) ?? []) {
      const speakerDir = joinRelative(subsetDir, entry.name);
      if (entry.kind !== 'dir' || !/^\d+$/.test(entry.name)) {
        scan.problems.push(problem(entry.kind === 'dir' ? 'unexpected-layout' : 'non-audio-file', speakerDir, 'not a numeric speaker folder'));
        continue;
      }
      const speaker = entry.name;
      const known = table?.get(speaker);
      if (table && !known) scan.problems.push(problem('inconsistent', speakerDir, `speaker ${speaker} is not in ${speakersFile}`, { kept: true }));
      else if (known && known.subset !== subset) {
        scan.problems.push(problem('inconsistent', speakerDir, `${speakersFile} puts speaker ${speaker} in ${known.subset}, not ${subset}`, { kept: true }));
      }
      for (const chapterEntry of (await fs.list(speakerDir)) ?? []) {
        const chapterDir = joinRelative(speakerDir, chapterEntry.name);
        if (chapterEntry.kind !== 'dir' || !/^\d+$/.test(chapterEntry.name)) {
          scan.problems.push(problem(chapterEntry.kind === 'dir' ? 'unexpected-layout' : 'non-audio-file', chapterDir, 'not a numeric chapter folder'));
          continue;
        }
        const chapter = chapterEntry.name;
        const transcriptName = `${speaker}-${chapter}.trans.txt`;
        const transcriptFile = joinRelative(chapterDir, transcriptName);
        const transcriptText = await fs.readText(transcriptFile);
        const listed = transcriptText === undefined ? undefined : parseLibriSpeechTranscript(transcriptText, transcriptFile, speaker, chapter, scan.problems);
        if (!listed) scan.problems.push(problem('missing-file', transcriptFile, 'the chapter has no transcript', { kept: true }));
        const seen = new Set<string>();
        for (const file of (await fs.list(chapterDir)) ?? []) {
          const path = joinRelative(chapterDir, file.name);
          if (file.name === transcriptName) continue;
          if (file.kind === 'dir') {
            scan.problems.push(problem('unexpected-layout', path, 'a folder inside a chapter folder; not read'));
            continue;
          }
          if (!isAudioName(file.name)) {
            scan.problems.push(problem('non-audio-file', path, 'not an audio file'));
            continue;
          }
          const id = file.name.replace(/\.[^.]+$/, '');
          if (!id.startsWith(`${speaker}-${chapter}-`)) {
            scan.problems.push(problem('inconsistent', path, `file name does not start with ${speaker}-${chapter}- (speaker taken from the folder)`, { kept: true }));
          } else if (listed && !listed.has(id)) {
            scan.problems.push(problem('inconsistent', path, `not in ${transcriptName}`, { kept: true }));
          }
          seen.add(id);
          scan.utterances.push({ speaker, path, session: chapter, language: 'en' });
        }
        for (const [id, line] of listed ?? []) {
          if (!seen.has(id)) scan.problems.push(problem('missing-file', transcriptFile, `${id}.flac is listed but not on disk`, { line }));
        }
      }
    }
  }
  return scan;
}

export const LIBRISPEECH: CorpusReader = {
  name: 'librispeech',
  description: 'LibriSpeech: <subset>/<speaker>/<chapter>/<speaker>-<chapter>-NNNN.flac, *.trans.txt, SPEAKERS.TXT',
  options: ['subsets'],
  scan: scanLibriSpeech,
};
