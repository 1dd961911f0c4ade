/**
 * The M-AILABS Speech Dataset: `<locale>/by_book/<female|male>/<speaker>/<book>/wavs/*.wav` with
 * the book's `metadata.csv` (LJSpeech convention: `file id|text|normalised text`, no header) and
 * `metadata_mls.json` (keyed by the wav file). Books under `by_book/mix/<book>/` are read by
 * several people with no speaker label, so they are left out (counted in the summary). The
 * session is the book; the language is the locale folder (`en_US`, `de_DE`, …).
 */
import { VoxkitError } from '../../errors.js';
import { addExcluded, emptyScan, findFolders, isAudioName, joinRelative, normaliseNames, problem, stem, walkFiles } from './common.js';
import type { CorpusFileSystem, CorpusOptions, CorpusProblem, CorpusReader, CorpusScanResult } from './types.js';

/** File ids (wav names without `.wav`) of a book's metadata.csv, with their line numbers. */
export function parseMailabsMetadataCsv(text: string, file: string, problems: CorpusProblem[]): Map<string, number> {
  const ids = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    if (raw.trim() === '') return;
    const fields = raw.split('|');
    const id = stem(fields[0].trim());
    if (fields.length < 2 || id === '') {
      problems.push(problem('malformed-metadata', file, `expected "file id|text|normalised text", got "${raw.slice(0, 100)}"`, { line: index + 1 }));
      return;
    }
    ids.set(id, index + 1);
  });
  return ids;
}

/** File ids of a book's metadata_mls.json (an object keyed by the wav file names). */
export function parseMailabsMetadataJson(text: string, file: string, problems: CorpusProblem[]): Map<string, number> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    problems.push(problem('malformed-metadata', file, `not valid JSON (${(cause as Error).message})`));
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(problem('malformed-metadata', file, 'expected an object keyed by wav file'));
    return undefined;
  }
  return new Map(Object.keys(parsed).map((key) => [stem(key.slice(key.lastIndexOf('/') + 1)), 0]));
}

const METADATA_FILE = /\.(csv|json|txt)$/i;

async function scanBook(fs: CorpusFileSystem, bookDir: string, speaker: string, book: string, language: string, scan: CorpusScanResult): Promise<void> {
  const csvFile = joinRelative(bookDir, 'metadata.csv');
  const jsonFile = joinRelative(bookDir, 'metadata_mls.json');
  const csvText = await fs.readText(csvFile);
  let listed: Map<string, number> | undefined;
  let listFile = csvFile;
  if (csvText !== undefined) listed = parseMailabsMetadataCsv(csvText, csvFile, scan.problems);
  else {
    const jsonText = await fs.readText(jsonFile);
    listFile = jsonFile;
    if (jsonText !== undefined) listed = parseMailabsMetadataJson(jsonText, jsonFile, scan.problems);
    else scan.problems.push(problem('missing-file', csvFile, 'the book has neither metadata.csv nor metadata_mls.json', { kept: true }));
  }
  for (const entry of (await fs.list(bookDir)) ?? []) {
    if (entry.name === 'wavs' && entry.kind === 'dir') continue;
    if (entry.kind === 'file' && METADATA_FILE.test(entry.name)) continue;
    scan.problems.push(problem('unexpected-layout', joinRelative(bookDir, entry.name), 'expected only wavs/ and metadata files in a book folder; not read'));
  }
  const seen = new Set<string>();
  for (const path of await walkFiles(fs, joinRelative(bookDir, 'wavs'))) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (!isAudioName(name)) {
      scan.problems.push(problem('non-audio-file', path, 'not an audio file'));
      continue;
    }
    const id = stem(name);
    seen.add(id);
    if (listed && !listed.has(id)) scan.problems.push(problem('inconsistent', path, `not in ${listFile.slice(listFile.lastIndexOf('/') + 1)}`, { kept: true }));
    scan.utterances.push({ speaker, path, session: book, language });
  }
  for (const [id, line] of listed ?? []) {
    if (!seen.has(id)) scan.problems.push(problem('missing-file', listFile, `wavs/${id}.wav is listed but not on disk`, line > 0 ? { line } : {}));
  }
}

async function scanMailabs(fs: CorpusFileSystem, options: CorpusOptions): Promise<CorpusScanResult> {
  const scan = emptyScan();
  const localeDirs = await findFolders(fs, (_dir, children) => children.includes('by_book'), 2);
  const localeOf = (dir: string) => (dir === '' ? 'unknown' : dir.slice(dir.lastIndexOf('/') + 1));
  const available = localeDirs.map(localeOf);
  const requested = normaliseNames(options.languages);
  if (requested) {
    const unknown = requested.filter((l) => !available.includes(l));
    if (unknown.length > 0) throw new VoxkitError('E_USAGE', `--language ${unknown.join(', ')}: not in the corpus (found: ${available.join(', ') || 'no <locale>/by_book folders'})`);
  }
  for (const dir of localeDirs) {
    const language = localeOf(dir);
    if (requested && !requested.includes(language)) {
      scan.notes.push(`language ${language} present but not selected`);
      continue;
    }
    const byBook = joinRelative(dir, 'by_book');
    for (const group of (await fs.list(byBook)) ?? []) {
      const groupDir = joinRelative(byBook, group.name);
      if (group.kind !== 'dir' || !['female', 'male', 'mix'].includes(group.name)) {
        scan.problems.push(problem('unexpected-layout', groupDir, 'expected female/, male/ or mix/ under by_book/; not read'));
        continue;
      }
      if (group.name === 'mix') {
        const files = (await walkFiles(fs, groupDir)).filter(isAudioName);
        addExcluded(scan, 'M-AILABS mix/ books (several readers, no speaker label)', files.length);
        continue;
      }
      for (const speakerEntry of (await fs.list(groupDir)) ?? []) {
        const speakerDir = joinRelative(groupDir, speakerEntry.name);
        if (speakerEntry.kind !== 'dir') {
          scan.problems.push(problem(isAudioName(speakerEntry.name) ? 'unexpected-layout' : 'non-audio-file', speakerDir, 'expected a speaker folder; not read'));
          continue;
        }
        for (const bookEntry of (await fs.list(speakerDir)) ?? []) {
          const bookDir = joinRelative(speakerDir, bookEntry.name);
          if (bookEntry.kind !== 'dir') {
            scan.problems.push(problem('unexpected-layout', bookDir, 'expected a book folder; not read'));
            continue;
          }
          await scanBook(fs, bookDir, speakerEntry.name, bookEntry.name, language, scan);
        }
      }
    }
  }
  return scan;
}

export const MAILABS: CorpusReader = {
  name: 'mailabs',
  description: 'M-AILABS: <locale>/by_book/<female|male>/<speaker>/<book>/wavs/*.wav + metadata.csv; mix/ books left out',
  options: ['languages'],
  scan: scanMailabs,
};
