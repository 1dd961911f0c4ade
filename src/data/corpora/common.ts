/** Helpers the corpus readers share: walking a CorpusFileSystem, metadata tables, problem records. */
import { AUDIO_EXTENSIONS, extensionOf } from '../train-list.js';
import type { CorpusFileSystem, CorpusProblem, CorpusProblemKind, CorpusScanResult, CorpusUtterance } from './types.js';

const AUDIO = new Set(AUDIO_EXTENSIONS);

export function isAudioName(name: string): boolean {
  return AUDIO.has(extensionOf(name));
}

export function joinRelative(...parts: string[]): string {
  return parts.filter((part) => part !== '').join('/');
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function stem(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

export function emptyScan(): CorpusScanResult {
  return { utterances: [], problems: [], notes: [], excluded: {} };
}

export function addExcluded(scan: CorpusScanResult, reason: string, count = 1): void {
  if (count > 0) scan.excluded[reason] = (scan.excluded[reason] ?? 0) + count;
}

export function problem(kind: CorpusProblemKind, file: string, message: string, extra: { line?: number; kept?: boolean } = {}): CorpusProblem {
  return { kind, file, message, ...extra };
}

/**
 * Every file below `dir` (relative paths from the root, sorted), hidden ones included so that
 * nothing is skipped unseen. An absent folder gives an empty list.
 */
export async function walkFiles(fs: CorpusFileSystem, dir: string): Promise<string[]> {
  const files: string[] = [];
  const visit = async (folder: string): Promise<void> => {
    const entries = (await fs.list(folder)) ?? [];
    for (const entry of entries) {
      const path = joinRelative(folder, entry.name);
      if (entry.kind === 'dir') await visit(path);
      else files.push(path);
    }
  };
  await visit(dir);
  return files;
}

/** Sub-folder names of `dir` (sorted), or [] when it does not exist. */
export async function subfolders(fs: CorpusFileSystem, dir: string): Promise<string[]> {
  return ((await fs.list(dir)) ?? []).filter((entry) => entry.kind === 'dir').map((entry) => entry.name);
}

/**
 * Folders (breadth first, at most `maxDepth` levels below the root, the root included) for which
 * `accept` holds; the search does not descend into accepted folders.
 */
export async function findFolders(
  fs: CorpusFileSystem,
  accept: (dir: string, children: string[]) => boolean,
  maxDepth: number,
): Promise<string[]> {
  const found: string[] = [];
  let level = [''];
  for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      const children = await subfolders(fs, dir);
      if (accept(dir, children)) found.push(dir);
      else next.push(...children.filter((name) => !name.startsWith('.')).map((name) => joinRelative(dir, name)));
    }
    level = next;
  }
  return found;
}

/** Files named `name` in the root or one folder level below it (first match wins per folder). */
export async function findFileNearRoot(fs: CorpusFileSystem, name: string): Promise<string | undefined> {
  const rootEntries = (await fs.list('')) ?? [];
  if (rootEntries.some((entry) => entry.kind === 'file' && entry.name === name)) return name;
  for (const entry of rootEntries) {
    if (entry.kind !== 'dir' || entry.name.startsWith('.')) continue;
    const inner = (await fs.list(entry.name)) ?? [];
    if (inner.some((child) => child.kind === 'file' && child.name === name)) return joinRelative(entry.name, name);
  }
  return undefined;
}

export interface TableRow {
  /** 1-based line number in the file. */
  line: number;
  fields: Record<string, string>;
}

export interface Table {
  columns: string[];
  rows: TableRow[];
}

/**
 * Reads a delimited table whose first non-empty line is a header; columns are found by name (the
 * header cells trimmed), so releases that add columns still read. Rows with a different number of
 * cells than the header are reported, not guessed at.
 */
export function parseTable(
  text: string,
  options: { file: string; delimiter: string | RegExp; required: readonly string[]; problems: CorpusProblem[]; trimCells?: boolean },
): Table | undefined {
  const { file, delimiter, required, problems, trimCells = true } = options;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIndex = lines.findIndex((line) => line.trim() !== '');
  if (headerIndex < 0) {
    problems.push(problem('malformed-metadata', file, 'the file is empty'));
    return undefined;
  }
  const columns = lines[headerIndex].split(delimiter).map((cell) => cell.trim());
  const missing = required.filter((name) => !columns.some((column) => column.toLowerCase() === name.toLowerCase()));
  if (missing.length > 0) {
    problems.push(
      problem('malformed-metadata', file, `header has no column ${missing.map((m) => `"${m}"`).join(', ')} (found: ${columns.join(', ')})`, { line: headerIndex + 1 }),
    );
    return undefined;
  }
  // Required columns are matched case-insensitively; rows are keyed by the spelling asked for.
  const keyOf = columns.map((column) => required.find((name) => name.toLowerCase() === column.toLowerCase()) ?? column);
  const rows: TableRow[] = [];
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const raw = lines[i];
    if (raw.trim() === '') continue;
    const cells = raw.split(delimiter);
    if (cells.length !== columns.length) {
      problems.push(problem('malformed-metadata', file, `${cells.length} columns, the header has ${columns.length}`, { line: i + 1 }));
      continue;
    }
    const fields: Record<string, string> = {};
    cells.forEach((cell, c) => (fields[keyOf[c]] = trimCells ? cell.trim() : cell));
    rows.push({ line: i + 1, fields });
  }
  return { columns, rows };
}

/** Lower-cased, de-duplicated names from comma lists (`a,b` or repeated options). */
export function normaliseNames(values: readonly string[] | undefined): string[] | undefined {
  if (!values) return undefined;
  const names = values.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
  return [...new Set(names)];
}

/** Keeps the utterances whose speaker has at least `minimum` of them; returns how many were dropped. */
export function dropSmallSpeakers(utterances: CorpusUtterance[], minimum: number): { kept: CorpusUtterance[]; droppedSpeakers: number; droppedUtterances: number } {
  const counts = new Map<string, number>();
  for (const u of utterances) counts.set(u.speaker, (counts.get(u.speaker) ?? 0) + 1);
  const kept = utterances.filter((u) => (counts.get(u.speaker) ?? 0) >= minimum);
  const droppedSpeakers = [...counts.values()].filter((n) => n < minimum).length;
  return { kept, droppedSpeakers, droppedUtterances: utterances.length - kept.length };
}
