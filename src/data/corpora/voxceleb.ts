/**
 * VoxCeleb1 and VoxCeleb2 as the archives unpack: `wav/idNNNNN/<YouTube id>/NNNNN.wav` (VoxCeleb1
 * dev and test) and `aac/idNNNNN/<YouTube id>/NNNNN.m4a` (VoxCeleb2, or `.wav` after conversion),
 * found wherever they sit within three folder levels of the root (dev/, test/, vox1_dev_wav/, …).
 * The session is the YouTube video. `vox1_meta.csv` (tab-separated: VoxCeleb1 ID, VGGFace1 ID,
 * Gender, Nationality, Set) gives the nationality filter and the test speakers; `vox2_meta.csv`
 * (VoxCeleb2 ID, VGGFace2 ID, Gender, Set) has no nationality. VoxCeleb1's official trial lists
 * (veri_test.txt, veri_test2.txt, list_test_hard[2].txt, list_test_all[2].txt) are checked against
 * the recordings and rewritten with paths relative to the root.
 */
import { VoxkitError } from '../../errors.js';
import {
  addExcluded,
  emptyScan,
  findFileNearRoot,
  findFolders,
  isAudioName,
  joinRelative,
  normaliseNames,
  parseTable,
  problem,
  stem,
  walkFiles,
} from './common.js';
import type { CorpusFileSystem, CorpusOptions, CorpusProblem, CorpusReader, CorpusScanResult, CorpusUtterance, OfficialTrialList } from './types.js';

/** The nationalities Real-Time-Voice-Cloning keeps from VoxCeleb1 as mostly English-speaking. */
export const ANGLOPHONE_NATIONALITIES: readonly string[] = Object.freeze(['australia', 'canada', 'ireland', 'uk', 'usa']);

/** VoxCeleb1's official trial lists; the -O lists define the 40 test speakers, E and H reuse dev speakers. */
export const VOXCELEB1_TRIAL_LISTS: Readonly<Record<string, { definesTestSpeakers: boolean }>> = Object.freeze({
  'veri_test.txt': { definesTestSpeakers: true },
  'veri_test2.txt': { definesTestSpeakers: true },
  'list_test_hard.txt': { definesTestSpeakers: false },
  'list_test_hard2.txt': { definesTestSpeakers: false },
  'list_test_all.txt': { definesTestSpeakers: false },
  'list_test_all2.txt': { definesTestSpeakers: false },
});

const SPEAKER_ID = /^id\d{5}$/;

export interface VoxcelebSpeakerMeta {
  gender?: string;
  nationality?: string;
  /** `dev` or `test`. */
  set?: string;
}

/**
 * Reads vox1_meta.csv / vox2_meta.csv by column name. The files ship tab-separated (VoxCeleb1) or
 * comma-separated with padded cells (VoxCeleb2); the header says which.
 */
export function parseVoxcelebMeta(text: string, file: string, problems: CorpusProblem[]): Map<string, VoxcelebSpeakerMeta> | undefined {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = firstLine.includes('\t') ? '\t' : ',';
  const idColumn = firstLine.split(delimiter).map((c) => c.trim()).find((c) => /^voxceleb[12] id$/i.test(c));
  if (!idColumn) {
    problems.push(problem('malformed-metadata', file, `header has no "VoxCeleb1 ID" / "VoxCeleb2 ID" column (found: ${firstLine.trim()})`, { line: 1 }));
    return undefined;
  }
  const table = parseTable(text, { file, delimiter, required: [idColumn], problems });
  if (!table) return undefined;
  const column = (name: string) => table.columns.find((c) => c.toLowerCase() === name);
  const [gender, nationality, set] = [column('gender'), column('nationality'), column('set')];
  const meta = new Map<string, VoxcelebSpeakerMeta>();
  for (const row of table.rows) {
    const id = row.fields[idColumn];
    if (!SPEAKER_ID.test(id)) {
      problems.push(problem('malformed-metadata', file, `"${id}" is not a VoxCeleb speaker id (idNNNNN)`, { line: row.line }));
      continue;
    }
    meta.set(id, {
      ...(gender ? { gender: row.fields[gender] } : {}),
      ...(nationality ? { nationality: row.fields[nationality] } : {}),
      ...(set ? { set: row.fields[set].toLowerCase() } : {}),
    });
  }
  return meta;
}

/** `idNNNNN/VIDEO/NNNNN` of a recording path: the key official lists and duplicate trees share. */
function recordingKey(path: string): string {
  const parts = path.split('/');
  return stem(parts.slice(-3).join('/'));
}

/**
 * Checks an official trial list against the recordings and rewrites its paths relative to the
 * root. Returns undefined (with problems) when a line is malformed or a listed file is absent.
 */
export function checkOfficialTrialList(
  name: string,
  source: string,
  text: string,
  pathByKey: ReadonlyMap<string, string>,
  problems: CorpusProblem[],
): OfficialTrialList | undefined {
  const lines: string[] = [];
  const missing = new Set<string>();
  const speakers = new Set<string>();
  let malformed = 0;
  let targets = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (raw.trim() === '') return;
    if (fields.length !== 3 || (fields[0] !== '0' && fields[0] !== '1') || fields.slice(1).some((p) => p.split('/').length < 3)) {
      malformed++;
      if (malformed <= 10) problems.push(problem('malformed-metadata', source, `expected "label idNNNNN/VIDEO/NNNNN.wav idNNNNN/VIDEO/NNNNN.wav", got "${raw.trim().slice(0, 120)}"`, { line: index + 1 }));
      return;
    }
    const rewritten = fields.slice(1).map((path) => {
      const found = pathByKey.get(recordingKey(path));
      if (found === undefined) missing.add(path);
      speakers.add(path.split('/').slice(-3)[0]);
      return found ?? path;
    });
    if (fields[0] === '1') targets++;
    lines.push(`${fields[0]} ${rewritten[0]} ${rewritten[1]}\n`);
  });
  if (malformed > 10) problems.push(problem('malformed-metadata', source, `… ${malformed - 10} more malformed lines`));
  if (missing.size > 0) {
    const sample = [...missing].slice(0, 3).join(', ');
    problems.push(problem('missing-file', source, `${missing.size} recording${missing.size === 1 ? '' : 's'} the list uses are not in the corpus (${sample}${missing.size > 3 ? ', …' : ''}); the list is not written`));
  }
  if (malformed > 0 || missing.size > 0 || lines.length === 0) {
    if (lines.length === 0 && malformed === 0) problems.push(problem('malformed-metadata', source, 'the trial list is empty'));
    return undefined;
  }
  return {
    name,
    source,
    text: lines.join(''),
    trials: lines.length,
    targetTrials: targets,
    speakers: [...speakers].sort(),
    definesTestSpeakers: VOXCELEB1_TRIAL_LISTS[name]?.definesTestSpeakers ?? false,
  };
}

async function scanVoxceleb(version: 1 | 2, fs: CorpusFileSystem, options: CorpusOptions): Promise<CorpusScanResult> {
  const scan = emptyScan();
  const nationalities = normaliseNames(options.nationalities)?.map((n) => n.toLowerCase());
  if (nationalities && version === 2) {
    throw new VoxkitError('E_USAGE', '--nationality applies to voxceleb1 only: vox2_meta.csv has no nationality column');
  }
  const speakerRoots = await findFolders(fs, (_dir, children) => children.some((child) => SPEAKER_ID.test(child)), 3);

  // A recording may sit in two trees (aac/ and a converted wav/): one entry per recording, WAV first.
  const byKey = new Map<string, CorpusUtterance>();
  let duplicates = 0;
  for (const speakerRoot of speakerRoots) {
    // The corpus root also holds metadata and trial lists; a dedicated speaker tree holds only speakers.
    if (speakerRoot !== '') {
      for (const entry of (await fs.list(speakerRoot)) ?? []) {
        if (entry.kind === 'dir' && SPEAKER_ID.test(entry.name)) continue;
        scan.problems.push(problem('unexpected-layout', joinRelative(speakerRoot, entry.name), `not an idNNNNN speaker folder (in the speaker tree ${speakerRoot}/)`));
      }
    }
    for (const speaker of (await fs.list(speakerRoot)) ?? []) {
      if (speaker.kind !== 'dir' || !SPEAKER_ID.test(speaker.name)) continue;
      const speakerDir = joinRelative(speakerRoot, speaker.name);
      for (const path of await walkFiles(fs, speakerDir)) {
        const below = path.slice(speakerDir.length + 1).split('/');
        if (!isAudioName(path)) {
          scan.problems.push(problem('non-audio-file', path, 'not an audio file'));
          continue;
        }
        if (below.length !== 2) {
          scan.problems.push(problem('unexpected-layout', path, `expected ${speaker.name}/VIDEO/NNNNN.${version === 1 ? 'wav' : 'm4a'}; the recording is left out`));
          continue;
        }
        const utterance: CorpusUtterance = { speaker: speaker.name, path, session: below[0] };
        const key = recordingKey(path);
        const previous = byKey.get(key);
        if (previous) {
          duplicates++;
          if (/\.wav$/i.test(previous.path) || !/\.wav$/i.test(path)) continue;
        }
        byKey.set(key, utterance);
      }
    }
  }
  if (duplicates > 0) scan.notes.push(`${duplicates} recordings exist twice (e.g. .m4a and converted .wav): the lists use one copy each, the WAV when there is one`);
  let utterances = [...byKey.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const pathByKey = new Map(utterances.map((u) => [recordingKey(u.path), u.path]));

  const metaName = `vox${version}_meta.csv`;
  const metaFile = await findFileNearRoot(fs, metaName);
  let meta: Map<string, VoxcelebSpeakerMeta> | undefined;
  if (metaFile) {
    meta = parseVoxcelebMeta((await fs.readText(metaFile)) ?? '', metaFile, scan.problems);
  } else if (nationalities) {
    throw new VoxkitError('E_DATA', `--nationality needs ${metaName} (from the VoxCeleb site) in the corpus root or one folder below it`);
  }
  const testSpeakers = new Set<string>();
  if (meta) {
    const speakers = [...new Set(utterances.map((u) => u.speaker))];
    const unknown = speakers.filter((s) => !meta!.has(s));
    for (const s of unknown.slice(0, 20)) {
      scan.problems.push(problem('inconsistent', metaFile!, `speaker ${s} has recordings but no row${nationalities ? '; left out by the nationality filter' : ''}`, { kept: !nationalities }));
    }
    if (unknown.length > 20) scan.problems.push(problem('inconsistent', metaFile!, `… and ${unknown.length - 20} more speakers without a row`, { kept: !nationalities }));
    for (const [id, info] of meta) if (info.set === 'test') testSpeakers.add(id);
    if (nationalities) {
      if (![...meta.values()].some((info) => info.nationality !== undefined)) {
        throw new VoxkitError('E_DATA', `${metaFile}: no Nationality column, so --nationality cannot be applied`, { file: metaFile });
      }
      const wanted = new Set(nationalities.includes('anglophone') ? [...nationalities.filter((n) => n !== 'anglophone'), ...ANGLOPHONE_NATIONALITIES] : nationalities);
      const before = utterances.length;
      const keptSpeakers = new Set(speakers.filter((s) => wanted.has(meta!.get(s)?.nationality?.toLowerCase() ?? '')));
      utterances = utterances.filter((u) => keptSpeakers.has(u.speaker));
      addExcluded(scan, `nationality not in ${[...wanted].join(', ')}`, before - utterances.length);
      scan.notes.push(`nationality filter: ${keptSpeakers.size} of ${speakers.length} speakers kept`);
    }
  }

  if (version === 1) {
    const lists: OfficialTrialList[] = [];
    for (const name of Object.keys(VOXCELEB1_TRIAL_LISTS)) {
      const source = await findFileNearRoot(fs, name);
      if (!source) continue;
      const list = checkOfficialTrialList(name, source, (await fs.readText(source)) ?? '', pathByKey, scan.problems);
      if (!list) continue;
      lists.push(list);
      if (list.definesTestSpeakers) for (const s of list.speakers) testSpeakers.add(s);
    }
    if (lists.length > 0) scan.officialTrialLists = lists;
  }
  scan.utterances = utterances;
  if (testSpeakers.size > 0) scan.testSpeakers = [...testSpeakers].sort();
  return scan;
}

export const VOXCELEB1: CorpusReader = {
  name: 'voxceleb1',
  description: 'VoxCeleb1 dev/test: wav/idNNNNN/VIDEO/NNNNN.wav, vox1_meta.csv, official trial lists',
  options: ['nationalities'],
  scan: (fs, options) => scanVoxceleb(1, fs, options),
};

export const VOXCELEB2: CorpusReader = {
  name: 'voxceleb2',
  description: 'VoxCeleb2 dev/test: aac/idNNNNN/VIDEO/NNNNN.m4a (or converted .wav), vox2_meta.csv',
  // Accepted so that the reader can say why it cannot apply: vox2_meta.csv has no nationality.
  options: ['nationalities'],
  scan: (fs, options) => scanVoxceleb(2, fs, options),
};

