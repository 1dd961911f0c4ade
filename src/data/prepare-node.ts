/**
 * `voxkit prepare`: reads a corpus in its published layout, checks it, and writes what training and
 * evaluation read: train_list.txt (voxceleb_trainer format), val_list.txt (held-out speakers),
 * test_list.txt (the corpus's test speakers), trials/*.txt (official lists checked against the
 * recordings, or generated, balanced and across sessions), summary.json and problems.txt. Every
 * path in these files is relative to the corpus root (`--train-path`/`--test-path` ROOT).
 * Problems are never skipped silently: each one is written to problems.txt and counted in the
 * summary, and `strict` makes any of them fatal.
 */
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { VoxkitError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write-node.js';
import { formatTrialList, generateTrials, type LabelledUtterance } from '../eval/trials.js';
import { buildDataset, compareCodePoints, extensionOf, formatTrainList, splitBySpeaker, type Utterance } from './train-list.js';
import { addExcluded, dropSmallSpeakers } from './corpora/common.js';
import { getCorpusReader } from './corpora/registry.js';
import { ffprobeAvailable, mapLimited, nodeCorpusFileSystem, probeDuration, readWavHeaderFile } from './corpora/scan-node.js';
import type { CorpusOptionName, CorpusOptions, CorpusProblem, CorpusProblemKind, CorpusUtterance } from './corpora/types.js';
import { VOXCELEB1_TRIAL_LISTS } from './corpora/voxceleb.js';
import { COMPRESSED_AUDIO_EXTENSIONS, convertAudioFiles } from './convert-node.js';

export interface PrepareCorpusOptions extends CorpusOptions {
  /** Corpus name (voxceleb1, voxceleb2, librispeech, vctk, commonvoice, vocalset, mailabs, folder). */
  dataset: string;
  /** The corpus root, as unpacked from its archives. */
  root: string;
  /** Output folder (default `<root>/voxkit`). */
  out?: string;
  /** Held-out validation speakers: a count (≥ 1), a fraction (0 < x < 1) or 0 (default 0.05). */
  valSpeakers?: number;
  /** Seed of the validation split and of generated trials (default 0). */
  seed?: number;
  /** Trials per generated list (default 2000; fewer when the speakers cannot supply them). */
  trials?: number;
  /** Leave out recordings shorter than this many seconds (when their length is known). */
  minDuration?: number;
  /** Leave out speakers with fewer recordings than this (default 1). */
  minUtterances?: number;
  /** Ask ffprobe for the length of compressed files (WAV lengths always come from their headers). */
  durations?: boolean;
  /** Any problem is fatal (problems.txt is still written; no list is). */
  strict?: boolean;
  /**
   * Convert compressed recordings to 16 kHz mono WAV next to the originals (as voxceleb_trainer's
   * dataprep does), so the lists name WAV files; already converted files are skipped.
   */
  convert?: boolean;
  /** Parallel ffprobe / ffmpeg processes (default 4 for ffprobe, one per core for ffmpeg). */
  workers?: number;
  /** Called as the work advances (for a command line's progress lines). */
  onProgress?: (event: PrepareProgress) => void;
}

export interface PrepareProgress {
  phase: 'scan' | 'convert' | 'check' | 'write';
  done?: number;
  total?: number;
}

export interface SplitCounts {
  speakers: number;
  utterances: number;
}

export interface LanguageSummary {
  language: string;
  speakers: number;
  utterances: number;
  /** Total hours, or null when some recordings' lengths are unknown. */
  hours: number | null;
}

export interface TrialListSummary {
  file: string;
  source: 'official' | 'generated';
  trials: number;
  targetTrials: number;
  speakers: number;
}

export interface PrepareSummary {
  dataset: string;
  /** Absolute corpus root: the folder every path in the lists is relative to. */
  root: string;
  out: string;
  speakers: number;
  utterances: number;
  hours: number | null;
  /** Recordings whose length is unknown (compressed audio without --durations). */
  unknownDurations: number;
  languages: LanguageSummary[];
  split: { train: SplitCounts; validation: SplitCounts; test: SplitCounts };
  trials: TrialListSummary[];
  excluded: Record<string, number>;
  problems: { total: number; byKind: Partial<Record<CorpusProblemKind, number>> };
  notes: string[];
  files: string[];
}

export interface PrepareResult {
  summary: PrepareSummary;
  problems: CorpusProblem[];
  /** The summary as a printable table. */
  table: string;
}

const OPTION_FLAGS: Record<CorpusOptionName, string> = {
  subsets: '--subset',
  nationalities: '--nationality',
  languages: '--language',
  tsv: '--tsv',
  singers: '--singers',
  techniques: '--techniques',
  mic: '--mic',
};

const DEFAULT_VAL_SPEAKERS = 0.05;
const DEFAULT_TRIALS = 2000;
const GENERATED_LISTS = ['val_trials.txt', 'test_trials.txt'];

/** Scans, checks and writes the lists of one corpus; see the module comment for the outputs. */
export async function prepareCorpus(options: PrepareCorpusOptions): Promise<PrepareResult> {
  const reader = getCorpusReader(options.dataset);
  for (const key of Object.keys(OPTION_FLAGS) as CorpusOptionName[]) {
    if (options[key] !== undefined && !reader.options.includes(key)) {
      throw new VoxkitError('E_USAGE', `${OPTION_FLAGS[key]} does not apply to ${reader.name}${reader.options.length ? ` (its options: ${reader.options.map((k) => OPTION_FLAGS[k]).join(', ')})` : ''}`);
    }
  }
  const root = resolve(options.root);
  const out = resolve(options.out ?? join(root, 'voxkit'));
  const rootStat = await stat(root).catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `${root}: cannot read the corpus root (${(cause as NodeJS.ErrnoException)?.code ?? cause})`, { file: root, cause });
  });
  if (!rootStat.isDirectory()) throw new VoxkitError('E_USAGE', `${root}: the corpus root is not a folder`, { file: root });
  if (options.durations && !ffprobeAvailable()) throw new VoxkitError('E_USAGE', '--durations needs ffprobe (part of ffmpeg) on the PATH');
  const trialCount = options.trials ?? DEFAULT_TRIALS;
  if (!Number.isInteger(trialCount) || trialCount < 1) throw new VoxkitError('E_USAGE', `trials must be a positive integer, got ${trialCount}`);
  const progress = options.onProgress ?? (() => undefined);

  progress({ phase: 'scan' });
  // The output folder may lie inside the root (the default): it is not part of the corpus.
  const scan = await reader.scan(nodeCorpusFileSystem(root, { hide: [out] }), options);
  const problems = scan.problems;
  const notes = [...scan.notes];
  if (scan.utterances.length === 0) {
    const shown = problems.slice(0, 5).map((p) => `\n  - ${formatProblem(p)}`).join('');
    throw new VoxkitError('E_DATA', `${root}: no recordings found for ${reader.name} (expected ${reader.description})${shown}`, { file: root });
  }

  const { kept: unique, duplicates } = preferWav(scan.utterances);
  if (duplicates > 0) notes.push(`${duplicates} recordings exist both compressed and as WAV: the lists use the WAV`);
  let candidates = unique;
  if (options.convert) candidates = await convertCompressed(root, candidates, problems, options, progress);
  const checked = await checkAudio(root, candidates, problems, options, progress);
  let utterances = checked;
  if (options.minDuration !== undefined) {
    const min = options.minDuration;
    const before = utterances.length;
    const unknown = utterances.filter((u) => u.durationSec === undefined).length;
    utterances = utterances.filter((u) => u.durationSec === undefined || u.durationSec >= min);
    addExcluded(scan, `shorter than ${min} s`, before - utterances.length);
    if (unknown > 0) notes.push(`${unknown} recordings of unknown length kept despite --min-duration (use --durations to measure compressed audio)`);
  }
  const minUtterances = options.minUtterances ?? 1;
  if (minUtterances > 1) {
    const { kept, droppedSpeakers, droppedUtterances } = dropSmallSpeakers(utterances, minUtterances);
    utterances = kept;
    addExcluded(scan, `speakers with fewer than ${minUtterances} recordings (${droppedSpeakers} speakers)`, droppedUtterances);
  }

  await mkdir(out, { recursive: true }).catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `${out}: cannot create the output folder (${(cause as NodeJS.ErrnoException)?.code ?? cause})`, { file: out, cause });
  });
  const problemsFile = join(out, 'problems.txt');
  await writeFileAtomic(problemsFile, formatProblems(problems), 'problem list');
  if (options.strict && problems.length > 0) {
    throw new VoxkitError('E_DATA', `${problems.length} problem${problems.length === 1 ? '' : 's'} in the corpus (--strict): ${formatProblem(problems[0])}${problems.length > 1 ? ` … (all in ${problemsFile})` : ''}`, {
      file: root,
      details: { problems: problems.length, problemsFile },
    });
  }

  // The corpus's own test speakers never train.
  const testSpeakers = new Set(scan.testSpeakers ?? []);
  const trainable = utterances.filter((u) => !testSpeakers.has(u.speaker));
  const test = utterances.filter((u) => testSpeakers.has(u.speaker));
  if (new Set(trainable.map((u) => u.speaker)).size < 2) {
    throw new VoxkitError('E_DATA', `${root}: fewer than two training speakers remain after checks and filters (${trainable.length} recordings)`, { file: root });
  }
  const split = splitBySpeaker(buildDataset(trainable.map(toTrainUtterance)), {
    valSpeakers: options.valSpeakers ?? DEFAULT_VAL_SPEAKERS,
    seed: options.seed ?? 0,
  });

  progress({ phase: 'write' });
  const files: string[] = [];
  const write = async (name: string, text: string, what: string) => {
    const path = join(out, name);
    await writeFileAtomic(path, text, what);
    files.push(name);
  };
  await write('train_list.txt', formatTrainList(split.train.utterances), 'train list');
  if (split.validation.utterances.length > 0) await write('val_list.txt', formatTrainList(split.validation.utterances), 'validation list');
  if (test.length > 0) await write('test_list.txt', formatTrainList(test.map(toTrainUtterance)), 'test list');

  await mkdir(join(out, 'trials'), { recursive: true });
  const trialSummaries: TrialListSummary[] = [];
  for (const list of scan.officialTrialLists ?? []) {
    await write(`trials/${list.name}`, list.text, 'trial list');
    trialSummaries.push({ file: `trials/${list.name}`, source: 'official', trials: list.trials, targetTrials: list.targetTrials, speakers: list.speakers.length });
    if (!list.definesTestSpeakers) {
      const shared = list.speakers.filter((s) => split.train.speakers.includes(s)).length;
      if (shared > 0) notes.push(`${list.name} uses ${shared} speakers that are also in train_list.txt (it is meant for models trained on VoxCeleb2)`);
    }
  }
  const valUtterances = byPath(split.validation.utterances.map((u) => ({ speaker: u.speaker, path: u.relativePath, ...(u.session ? { session: u.session } : {}) })));
  const generated: Array<[string, LabelledUtterance[], string]> = [['val_trials.txt', valUtterances, 'validation speakers']];
  if (test.length > 0 && !(scan.officialTrialLists ?? []).some((l) => l.definesTestSpeakers)) {
    generated.push(['test_trials.txt', byPath(test.map((u) => ({ speaker: u.speaker, path: u.path, ...(u.session ? { session: u.session } : {}) }))), 'test speakers']);
  }
  for (const [name, labelled, who] of generated) {
    if (labelled.length === 0) continue;
    const summary = await writeGeneratedTrials(name, labelled, who, trialCount, options.seed ?? 0, notes, write);
    if (summary) trialSummaries.push(summary);
  }
  await removeStaleOutputs(out, files);

  const summary: PrepareSummary = {
    dataset: reader.name,
    root,
    out,
    speakers: new Set(utterances.map((u) => u.speaker)).size,
    utterances: utterances.length,
    hours: totalHours(utterances),
    unknownDurations: utterances.filter((u) => u.durationSec === undefined).length,
    languages: languageRows(utterances),
    split: {
      train: { speakers: split.train.speakers.length, utterances: split.train.utterances.length },
      validation: { speakers: split.validation.speakers.length, utterances: split.validation.utterances.length },
      test: { speakers: new Set(test.map((u) => u.speaker)).size, utterances: test.length },
    },
    trials: trialSummaries,
    excluded: scan.excluded,
    problems: { total: problems.length, byKind: countKinds(problems) },
    notes,
    files: [...files, 'summary.json', 'problems.txt'],
  };
  await writeFileAtomic(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`, 'summary');
  return { summary, problems, table: formatSummaryTable(summary) };
}

function toTrainUtterance(u: CorpusUtterance): Utterance {
  return { speaker: u.speaker, relativePath: u.path, path: u.path, ...(u.session === undefined ? {} : { session: u.session }) };
}

function withExtension(path: string, extension: string): string {
  return path.replace(/\.[^./]+$/, `.${extension}`);
}

/** One entry per recording when a tree holds both `x.flac` and its converted `x.wav`: the WAV. */
function preferWav(utterances: readonly CorpusUtterance[]): { kept: CorpusUtterance[]; duplicates: number } {
  const byStem = new Map<string, CorpusUtterance>();
  let duplicates = 0;
  for (const u of utterances) {
    const key = withExtension(u.path, '');
    const previous = byStem.get(key);
    if (previous) {
      duplicates++;
      if (extensionOf(previous.path) === 'wav' || extensionOf(u.path) !== 'wav') continue;
    }
    byStem.set(key, u);
  }
  return { kept: duplicates === 0 ? [...utterances] : utterances.filter((u) => byStem.get(withExtension(u.path, '')) === u), duplicates };
}

const COMPRESSED = new Set<string>(COMPRESSED_AUDIO_EXTENSIONS);

/** Converts compressed recordings to WAV beside them; a failed conversion is a problem and leaves the list. */
async function convertCompressed(
  root: string,
  utterances: CorpusUtterance[],
  problems: CorpusProblem[],
  options: PrepareCorpusOptions,
  progress: (event: PrepareProgress) => void,
): Promise<CorpusUtterance[]> {
  const compressed = utterances.filter((u) => COMPRESSED.has(extensionOf(u.path)));
  if (compressed.length === 0) return utterances;
  const step = Math.max(1, Math.floor(compressed.length / 20));
  const result = await convertAudioFiles(
    compressed.map((u) => ({ input: join(root, u.path), output: join(root, withExtension(u.path, 'wav')) })),
    {
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      onProgress: (p) => {
        if (p.done % step === 0 || p.done === p.total) progress({ phase: 'convert', done: p.done, total: p.total });
      },
    },
  );
  const failed = new Set(result.failed.map((f) => f.input));
  for (const f of result.failed) problems.push({ kind: 'unreadable-audio', file: f.input.slice(root.length + 1), message: `conversion to WAV failed: ${f.error}; left out` });
  return utterances.filter((u) => !failed.has(join(root, u.path)));
}

function byPath<T extends { path: string }>(items: T[]): T[] {
  return items.sort((a, b) => compareCodePoints(a.path, b.path));
}

/**
 * Reads every WAV header (length, and proof the file is a usable WAV) and checks the other files
 * are not empty (or asks ffprobe with `durations`); failures become problems and leave the list.
 */
async function checkAudio(
  root: string,
  utterances: CorpusUtterance[],
  problems: CorpusProblem[],
  options: PrepareCorpusOptions,
  progress: (event: PrepareProgress) => void,
): Promise<CorpusUtterance[]> {
  const total = utterances.length;
  let done = 0;
  const step = Math.max(1, Math.floor(total / 10));
  const report = () => {
    done++;
    if (done % step === 0 || done === total) progress({ phase: 'check', done, total });
  };
  // Header reads are light; ffprobe processes are not.
  const limit = options.durations ? Math.max(1, options.workers ?? 4) : 16;
  const verdicts = await mapLimited(utterances, limit, async (u) => {
    const file = join(root, u.path);
    try {
      if (/\s/.test(u.path) || /\s/.test(u.speaker)) {
        problems.push({ kind: 'unexpected-layout', file: u.path, message: `white space in the ${/\s/.test(u.speaker) ? 'speaker name' : 'path'}: a train list cannot hold it; left out` });
        return undefined;
      }
      if (extensionOf(u.path) === 'wav') {
        const header = await readWavHeaderFile(file);
        return { ...u, durationSec: header.durationSec };
      }
      // A WAV converted beside a compressed original (by --convert or voxkit convert) replaces it.
      const converted = withExtension(u.path, 'wav');
      const header = await readWavHeaderFile(join(root, converted)).catch((cause: unknown) => {
        if ((cause as NodeJS.ErrnoException)?.code !== 'ENOENT') {
          problems.push({ kind: 'unreadable-audio', file: converted, message: `${(cause as Error).message}; the original is used`, kept: true });
        }
        return undefined;
      });
      if (header) return { ...u, path: converted, durationSec: header.durationSec };
      const size = (await stat(file)).size;
      if (size === 0) throw new Error('empty file (0 bytes)');
      if (options.durations && u.durationSec === undefined) return { ...u, durationSec: await probeDuration(file) };
      return u;
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException)?.code;
      const reason = code === 'ENOENT' ? 'file vanished during the scan' : code ? `cannot read (${code})` : (cause as Error).message;
      problems.push({ kind: 'unreadable-audio', file: u.path, message: `${reason}; left out` });
      return undefined;
    } finally {
      report();
    }
  });
  return verdicts.filter((u): u is CorpusUtterance => u !== undefined);
}

/** Most target and non-target trials the recordings allow (targets across sessions when known). */
export function trialCapacity(utterances: readonly LabelledUtterance[]): { targets: number; nonTargets: number } {
  const bySpeaker = new Map<string, Map<string, number>>();
  utterances.forEach((u, index) => {
    const sessions = bySpeaker.get(u.speaker) ?? new Map<string, number>();
    const key = u.session === undefined ? `#${index}` : `s:${u.session}`;
    sessions.set(key, (sessions.get(key) ?? 0) + 1);
    bySpeaker.set(u.speaker, sessions);
  });
  let targets = 0;
  let sumSquares = 0;
  for (const sessions of bySpeaker.values()) {
    const sizes = [...sessions.values()];
    const n = sizes.reduce((a, b) => a + b, 0);
    targets += (n * n - sizes.reduce((a, s) => a + s * s, 0)) / 2;
    sumSquares += n * n;
  }
  const total = utterances.length;
  return { targets, nonTargets: (total * total - sumSquares) / 2 };
}

async function writeGeneratedTrials(
  name: string,
  labelled: LabelledUtterance[],
  who: string,
  requested: number,
  seed: number,
  notes: string[],
  write: (name: string, text: string, what: string) => Promise<void>,
): Promise<TrialListSummary | undefined> {
  const capacity = trialCapacity(labelled);
  const count = Math.min(requested, 2 * Math.min(capacity.targets, capacity.nonTargets));
  if (count < 2) {
    notes.push(`no ${name}: the ${who} allow ${capacity.targets} same-speaker pairs${labelled.some((u) => u.session !== undefined) ? ' across sessions' : ''} and ${capacity.nonTargets} different-speaker pairs`);
    return undefined;
  }
  if (count < requested) notes.push(`${name}: ${count} balanced trials (${requested} asked for) — all the ${who} allow`);
  const trials = generateTrials(labelled, { count, seed, targetFraction: 0.5, crossSessionTargets: true });
  await write(`trials/${name}`, formatTrialList(trials), 'trial list');
  return {
    file: `trials/${name}`,
    source: 'generated',
    trials: trials.length,
    targetTrials: trials.filter((t) => t.label === 1).length,
    speakers: new Set(labelled.map((u) => u.speaker)).size,
  };
}

/** Lists a previous run wrote that this run did not (a stale val list would mislead training). */
async function removeStaleOutputs(out: string, written: string[]): Promise<void> {
  const ours = ['train_list.txt', 'val_list.txt', 'test_list.txt', ...[...Object.keys(VOXCELEB1_TRIAL_LISTS), ...GENERATED_LISTS].map((n) => `trials/${n}`)];
  const existing = new Set([...(await readdir(out).catch(() => [])), ...(await readdir(join(out, 'trials')).catch(() => [])).map((n) => `trials/${n}`)]);
  for (const name of ours) if (existing.has(name) && !written.includes(name)) await unlink(join(out, name)).catch(() => undefined);
}

function totalHours(utterances: readonly CorpusUtterance[]): number | null {
  let seconds = 0;
  for (const u of utterances) {
    if (u.durationSec === undefined) return null;
    seconds += u.durationSec;
  }
  return seconds / 3600;
}

function languageRows(utterances: readonly CorpusUtterance[]): LanguageSummary[] {
  const groups = new Map<string, CorpusUtterance[]>();
  for (const u of utterances) {
    const key = u.language ?? '-';
    const list = groups.get(key) ?? [];
    list.push(u);
    groups.set(key, list);
  }
  return [...groups.keys()].sort(compareCodePoints).map((language) => {
    const list = groups.get(language)!;
    return { language, speakers: new Set(list.map((u) => u.speaker)).size, utterances: list.length, hours: totalHours(list) };
  });
}

function countKinds(problems: readonly CorpusProblem[]): Partial<Record<CorpusProblemKind, number>> {
  const counts: Partial<Record<CorpusProblemKind, number>> = {};
  for (const p of problems) counts[p.kind] = (counts[p.kind] ?? 0) + 1;
  return counts;
}

export function formatProblem(p: CorpusProblem): string {
  return `[${p.kind}] ${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}${p.kept ? ' (kept)' : ''}`;
}

function formatProblems(problems: readonly CorpusProblem[]): string {
  const sorted = [...problems].sort((a, b) => compareCodePoints(a.file, b.file) || (a.line ?? 0) - (b.line ?? 0));
  const header = `# voxkit prepare: ${problems.length} problem${problems.length === 1 ? '' : 's'} ([kind] file[:line]: message; "(kept)" = the recording stays in the lists)\n`;
  return header + sorted.map((p) => `${formatProblem(p)}\n`).join('');
}

function formatHours(hours: number | null): string {
  if (hours === null) return 'n/a';
  return hours > 0 && hours < 0.01 ? hours.toFixed(4) : hours.toFixed(2);
}

/** The summary as the table `voxkit prepare` prints. */
export function formatSummaryTable(summary: PrepareSummary): string {
  const rows = [['language', 'speakers', 'utterances', 'hours'], ...summary.languages.map((l) => [l.language, String(l.speakers), String(l.utterances), formatHours(l.hours)])];
  rows.push(['total', String(summary.speakers), String(summary.utterances), formatHours(summary.hours)]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  lines.splice(lines.length - 1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const { train, validation, test } = summary.split;
  const out: string[] = [`${summary.dataset}: ${summary.root}`, ...lines, ''];
  out.push(`split       train ${train.speakers} speakers / ${train.utterances} recordings, validation ${validation.speakers} / ${validation.utterances}, test ${test.speakers} / ${test.utterances}`);
  if (summary.unknownDurations > 0) out.push(`durations   unknown for ${summary.unknownDurations} compressed recordings (--durations asks ffprobe)`);
  for (const t of summary.trials) out.push(`trials      ${t.file}: ${t.trials} trials (${t.targetTrials} target, ${t.speakers} speakers, ${t.source})`);
  for (const [reason, count] of Object.entries(summary.excluded)) out.push(`excluded    ${count} recordings: ${reason}`);
  for (const note of summary.notes) out.push(`note        ${note}`);
  const kinds = Object.entries(summary.problems.byKind).map(([k, n]) => `${n} ${k}`).join(', ');
  out.push(`problems    ${summary.problems.total}${summary.problems.total > 0 ? ` (${kinds}), listed in problems.txt` : ''}`);
  out.push(`written     ${summary.out}/: ${summary.files.join(', ')}`);
  return `${out.join('\n')}\n`;
}
