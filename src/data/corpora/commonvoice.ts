/**
 * Mozilla Common Voice as its archives unpack: `cv-corpus-<version>/<lang>/` with `clips/*.mp3`
 * and tab-separated lists (`validated.tsv`, `train.tsv`, `dev.tsv`, `test.tsv`, `other.tsv`,
 * `invalidated.tsv`) whose header names the columns (`client_id path sentence up_votes down_votes
 * age gender accents …`; releases add columns, so they are read by name). The speaker is the
 * `client_id` (one contributor account, the same across languages); there are no sessions.
 * Releases since 2023 also ship `clip_durations.tsv` (`clip`, `duration[ms]`), used for hours.
 */
import { VoxkitError } from '../../errors.js';
import { addExcluded, emptyScan, findFolders, isAudioName, joinRelative, normaliseNames, parseTable, problem, stem } from './common.js';
import type { CorpusFileSystem, CorpusOptions, CorpusProblem, CorpusReader, CorpusScanResult, CorpusUtterance } from './types.js';

export const COMMON_VOICE_TSVS: readonly string[] = Object.freeze(['validated', 'train', 'dev', 'test', 'other', 'invalidated']);

export interface CommonVoiceRow {
  clientId: string;
  /** Clip file name inside clips/. */
  path: string;
  line: number;
}

/** Reads a Common Voice TSV (`client_id` and `path` columns by name); bad rows become problems. */
export function parseCommonVoiceTsv(text: string, file: string, problems: CorpusProblem[]): CommonVoiceRow[] {
  // Cells are not trimmed or unquoted: sentences may hold quotes, and the format has no quoting.
  const table = parseTable(text, { file, delimiter: '\t', required: ['client_id', 'path'], problems, trimCells: false });
  if (!table) return [];
  const rows: CommonVoiceRow[] = [];
  for (const row of table.rows) {
    const clientId = row.fields.client_id.trim();
    const path = row.fields.path.trim();
    if (clientId === '' || path === '' || path.includes('/')) {
      problems.push(problem('malformed-metadata', file, clientId === '' ? 'empty client_id' : `clip path "${path}" is not a file name in clips/`, { line: row.line }));
      continue;
    }
    rows.push({ clientId, path, line: row.line });
  }
  return rows;
}

/** Reads clip_durations.tsv (`clip`, `duration[ms]`) into seconds per clip. */
export function parseClipDurations(text: string, file: string, problems: CorpusProblem[]): Map<string, number> {
  const durations = new Map<string, number>();
  const table = parseTable(text, { file, delimiter: '\t', required: ['clip', 'duration[ms]'], problems });
  for (const row of table?.rows ?? []) {
    const ms = Number(row.fields['duration[ms]']);
    if (!Number.isFinite(ms) || ms < 0 || row.fields['duration[ms]'] === '') {
      problems.push(problem('malformed-metadata', file, `duration "${row.fields['duration[ms]']}" is not a number of milliseconds`, { line: row.line }));
      continue;
    }
    durations.set(row.fields.clip, ms / 1000);
  }
  return durations;
}

function isLanguageFolder(children: readonly string[]): boolean {
  return children.includes('clips');
}

async function scanCommonVoice(fs: CorpusFileSystem, options: CorpusOptions): Promise<CorpusScanResult> {
  const scan = emptyScan();
  // The root may be a language folder, a cv-corpus-* folder, or the folder the archive was unpacked in.
  const languageDirs = await findFolders(fs, (_dir, children) => isLanguageFolder(children), 2);
  const languageOf = (dir: string) => (dir === '' ? 'unknown' : dir.slice(dir.lastIndexOf('/') + 1));
  const available = languageDirs.map(languageOf);
  const requested = normaliseNames(options.languages);
  if (requested) {
    const unknown = requested.filter((l) => !available.includes(l));
    if (unknown.length > 0) throw new VoxkitError('E_USAGE', `--language ${unknown.join(', ')}: not in the corpus (found: ${available.join(', ') || 'no language folders with clips/'})`);
  }
  const tsvNames = normaliseNames(options.tsv) ?? ['validated'];
  const unknownTsv = tsvNames.filter((name) => !COMMON_VOICE_TSVS.includes(name));
  if (unknownTsv.length > 0) throw new VoxkitError('E_USAGE', `--tsv ${unknownTsv.join(', ')}: expected ${COMMON_VOICE_TSVS.join(', ')}`);

  for (const dir of languageDirs) {
    const language = languageOf(dir);
    if (requested && !requested.includes(language)) {
      scan.notes.push(`language ${language} present but not selected`);
      continue;
    }
    const clipsDir = joinRelative(dir, 'clips');
    const clips = new Set<string>();
    for (const entry of (await fs.list(clipsDir)) ?? []) {
      const where = joinRelative(clipsDir, entry.name);
      if (entry.kind === 'dir') scan.problems.push(problem('unexpected-layout', where, 'a folder inside clips/; not read'));
      else if (!isAudioName(entry.name)) scan.problems.push(problem('non-audio-file', where, 'not an audio file'));
      else clips.add(entry.name);
    }
    const durationsFile = joinRelative(dir, 'clip_durations.tsv');
    const durationsText = await fs.readText(durationsFile);
    const durations = durationsText === undefined ? undefined : parseClipDurations(durationsText, durationsFile, scan.problems);

    const seen = new Map<string, string>();
    let listedMissing = 0;
    for (const tsv of tsvNames) {
      const file = joinRelative(dir, `${tsv}.tsv`);
      const text = await fs.readText(file);
      if (text === undefined) {
        scan.problems.push(problem('missing-file', file, `${tsv}.tsv is missing for language ${language}`));
        continue;
      }
      const seenInFile = new Set<string>();
      for (const row of parseCommonVoiceTsv(text, file, scan.problems)) {
        if (seenInFile.has(row.path)) {
          scan.problems.push(problem('malformed-metadata', file, `clip ${row.path} is listed twice`, { line: row.line }));
          continue;
        }
        seenInFile.add(row.path);
        const earlier = seen.get(row.path);
        if (earlier !== undefined) {
          // validated.tsv and train/dev/test.tsv overlap by design; a clip with two speakers does not.
          if (earlier !== row.clientId) scan.problems.push(problem('malformed-metadata', file, `clip ${row.path} has client_id ${row.clientId} here and ${earlier} in another list; first kept`, { line: row.line }));
          continue;
        }
        seen.set(row.path, row.clientId);
        if (!clips.has(row.path)) {
          listedMissing++;
          if (listedMissing <= 50) scan.problems.push(problem('missing-file', file, `clips/${row.path} is listed but not on disk`, { line: row.line }));
          continue;
        }
        const utterance: CorpusUtterance = { speaker: row.clientId, path: joinRelative(clipsDir, row.path), language };
        const seconds = durations?.get(row.path);
        if (seconds !== undefined) utterance.durationSec = seconds;
        scan.utterances.push(utterance);
      }
    }
    if (listedMissing > 50) scan.problems.push(problem('missing-file', joinRelative(dir, 'clips'), `… and ${listedMissing - 50} more listed clips not on disk`));
    // A clip converted to WAV beside its MP3 is the same clip.
    const listedStems = new Set([...seen.keys()].map(stem));
    addExcluded(scan, `clips of ${language} in no selected list (${tsvNames.join(', ')}.tsv)`, [...clips].filter((c) => !seen.has(c) && !listedStems.has(stem(c))).length);
  }
  return scan;
}

export const COMMON_VOICE: CorpusReader = {
  name: 'commonvoice',
  description: 'Mozilla Common Voice: cv-corpus-*/<lang>/{validated,train,dev,test,…}.tsv and clips/*.mp3; speaker = client_id',
  options: ['languages', 'tsv'],
  scan: scanCommonVoice,
};
