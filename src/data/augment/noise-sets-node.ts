/**
 * The audio files training augmentation draws from: MUSAN chunks (`voxkit prepare musan`, or a
 * `musan_split` tree made by voxceleb_trainer's dataprep.py) and simulated room impulse responses
 * (`voxkit prepare rirs`, or the RIRS_NOISES tree itself). Lists come back sorted by code point,
 * so every thread that reads them indexes the same files.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { VoxkitError } from '../../errors.js';
import { compareCodePoints } from '../train-list.js';
import { EMPTY_NOISE_SETS, NOISE_TYPES, type NoiseSets, type NoiseType } from './augment.js';

/** Folder `voxkit prepare musan` writes (as voxceleb_trainer's dataprep.py names it). */
export const MUSAN_SPLIT_DIR = 'musan_split';
/** The chunk list inside MUSAN_SPLIT_DIR (paths relative to it, one a line). */
export const MUSAN_LIST_FILE = 'list.txt';
/** The impulse-response list `voxkit prepare rirs` writes (paths relative to its folder). */
export const RIRS_LIST_FILE = 'rirs.txt';
/** The simulated rooms voxceleb_trainer extracts: small and medium, not large. */
export const DEFAULT_RIR_ROOMS: readonly string[] = Object.freeze(['smallroom', 'mediumroom']);

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

async function subfolders(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `${path}: cannot list the folder (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, { file: path, cause });
  });
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(compareCodePoints);
}

async function wavFiles(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true });
  return entries.filter((e) => e.isFile() && !e.name.startsWith('.') && e.name.toLowerCase().endsWith('.wav')).map((e) => e.name).sort(compareCodePoints);
}

/** Files of a list file (relative paths resolved against its folder), sorted; blank lines skipped. */
export async function readFileList(listFile: string): Promise<string[]> {
  const text = await readFile(listFile, 'utf8').catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `${listFile}: cannot read the list (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, { file: listFile, cause });
  });
  const base = dirname(listFile);
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => (isAbsolute(line) ? line : join(base, line)))
    .sort(compareCodePoints);
}

/** The `musan_split` folder a --musan path means: the folder itself, or the one holding it. */
export async function resolveMusanSplitDir(path: string): Promise<string> {
  const absolute = resolve(path);
  if (basename(absolute) !== MUSAN_SPLIT_DIR && (await isDirectory(join(absolute, MUSAN_SPLIT_DIR)))) return join(absolute, MUSAN_SPLIT_DIR);
  if (!(await isDirectory(absolute))) throw new VoxkitError('E_IO', `${path}: no such folder (expected the musan_split folder written by voxkit prepare musan)`, { file: path });
  return absolute;
}

/**
 * The MUSAN chunks by category. Reads `list.txt` when `voxkit prepare musan` wrote one; otherwise
 * scans `<type>/<source>/<recording>/<chunk>.wav` (the layout dataprep.py's split_musan writes).
 */
export async function readMusanSet(path: string): Promise<Record<NoiseType, string[]>> {
  const dir = await resolveMusanSplitDir(path);
  const byType: Record<NoiseType, string[]> = { music: [], speech: [], noise: [] };
  const typeOf = (file: string): NoiseType | undefined => {
    const relative = file.slice(dir.length + 1).split(/[\\/]/);
    return (NOISE_TYPES as readonly string[]).includes(relative[0]) ? (relative[0] as NoiseType) : undefined;
  };
  const listFile = join(dir, MUSAN_LIST_FILE);
  if (await isFile(listFile)) {
    for (const file of await readFileList(listFile)) {
      const type = typeOf(file);
      if (type) byType[type].push(file);
    }
  } else {
    for (const type of NOISE_TYPES) {
      const typeDir = join(dir, type);
      if (!(await isDirectory(typeDir))) continue;
      for (const source of await subfolders(typeDir)) {
        for (const recording of await subfolders(join(typeDir, source))) {
          const folder = join(typeDir, source, recording);
          for (const name of await wavFiles(folder)) byType[type].push(join(folder, name));
        }
      }
    }
  }
  for (const type of NOISE_TYPES) byType[type].sort(compareCodePoints);
  if (NOISE_TYPES.every((t) => byType[t].length === 0)) {
    throw new VoxkitError('E_DATA', `${dir}: no MUSAN chunks (expected music/, speech/ and noise/ as written by voxkit prepare musan)`, { file: dir });
  }
  return byType;
}

/** The simulated_rirs folder under a path, if it is one or holds one (RIRS_NOISES or its parent). */
export async function findSimulatedRirs(path: string): Promise<string | undefined> {
  const absolute = resolve(path);
  for (const candidate of [absolute, join(absolute, 'simulated_rirs'), join(absolute, 'RIRS_NOISES', 'simulated_rirs')]) {
    if (!(await isDirectory(candidate))) continue;
    const rooms = await subfolders(candidate);
    if (rooms.some((r) => /room$/i.test(r))) return candidate;
  }
  return undefined;
}

/** Impulse responses of the kept rooms: `<room>/<RoomNNN>/*.wav` under simulated_rirs, sorted. */
export async function scanSimulatedRirs(simulatedDir: string, rooms: readonly string[] = DEFAULT_RIR_ROOMS): Promise<{ files: string[]; byRoom: Record<string, number> }> {
  const files: string[] = [];
  const byRoom: Record<string, number> = {};
  for (const room of await subfolders(simulatedDir)) {
    let count = 0;
    const roomDir = join(simulatedDir, room);
    for (const sub of await subfolders(roomDir)) {
      const names = await wavFiles(join(roomDir, sub));
      count += names.length;
      if (rooms.includes(room)) for (const name of names) files.push(join(roomDir, sub, name));
    }
    byRoom[room] = count;
  }
  return { files: files.sort(compareCodePoints), byRoom };
}

/**
 * The impulse responses a --rirs path means: a list file, a folder holding `rirs.txt` (written by
 * voxkit prepare rirs), or an RIRS_NOISES / simulated_rirs tree (small and medium rooms).
 */
export async function readRirSet(path: string): Promise<string[]> {
  const absolute = resolve(path);
  let files: string[] | undefined;
  if (await isFile(absolute)) files = await readFileList(absolute);
  else if (await isFile(join(absolute, RIRS_LIST_FILE))) files = await readFileList(join(absolute, RIRS_LIST_FILE));
  else {
    const simulated = await findSimulatedRirs(absolute);
    if (simulated) files = (await scanSimulatedRirs(simulated)).files;
  }
  if (files === undefined) {
    throw new VoxkitError('E_IO', `${path}: neither a list of impulse responses nor an RIRS_NOISES folder (run voxkit prepare rirs --root <RIRS_NOISES>)`, { file: path });
  }
  if (files.length === 0) throw new VoxkitError('E_DATA', `${path}: no impulse responses listed`, { file: path });
  return files;
}

/** Where augmentation audio comes from (the config's augment.musan / augment.rirs). */
export interface NoiseSources {
  readonly musan?: string;
  readonly rirs?: string;
}

/** The file lists of both sources (empty lists for a source not given). */
export async function readNoiseSets(sources: NoiseSources): Promise<NoiseSets> {
  const musan = sources.musan ? await readMusanSet(sources.musan) : undefined;
  const rirs = sources.rirs ? await readRirSet(sources.rirs) : [];
  return { ...EMPTY_NOISE_SETS, ...(musan ?? {}), rirs };
}
