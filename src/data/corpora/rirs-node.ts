/**
 * `voxkit prepare rirs`: the list of room impulse responses training reverberates with. From the
 * RIRS_NOISES archive (`simulated_rirs/{smallroom,mediumroom,largeroom}/RoomNNN/RoomNNN-NNNNN.wav`)
 * voxceleb_trainer extracts only the small and medium rooms; voxkit keeps the same rooms by default
 * and writes their files, relative to the list, to `rirs.txt` (atomically). The WAVs are used
 * where they are (16 kHz already), so nothing is copied.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { VoxkitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write-node.js';
import { DEFAULT_RIR_ROOMS, RIRS_LIST_FILE, findSimulatedRirs, scanSimulatedRirs } from '../augment/noise-sets-node.js';

export interface PrepareRirsOptions {
  /** RIRS_NOISES, its simulated_rirs folder, or the folder holding RIRS_NOISES. */
  root: string;
  /** Where rirs.txt goes; default the RIRS_NOISES folder. */
  out?: string;
  /** Room sizes kept (default smallroom, mediumroom). */
  rooms?: readonly string[];
}

export interface PrepareRirsResult {
  /** The simulated_rirs folder read. */
  simulated: string;
  listFile: string;
  /** Impulse responses listed. */
  kept: number;
  /** Impulse responses found per room size, kept or not. */
  byRoom: Record<string, number>;
  rooms: string[];
}

/** Lists the kept rooms' impulse responses (see the module comment). */
export async function prepareRirs(options: PrepareRirsOptions): Promise<PrepareRirsResult> {
  const simulated = await findSimulatedRirs(options.root);
  if (!simulated) {
    throw new VoxkitError('E_DATA', `${options.root}: no RIRS_NOISES/simulated_rirs/<room>/ folders found (unpack rirs_noises.zip first)`, { file: options.root });
  }
  const rooms = [...(options.rooms ?? DEFAULT_RIR_ROOMS)];
  const { files, byRoom } = await scanSimulatedRirs(simulated, rooms);
  const missing = rooms.filter((room) => !byRoom[room]);
  if (files.length === 0) {
    throw new VoxkitError('E_DATA', `${simulated}: no impulse responses in ${rooms.join(', ')} (found: ${Object.keys(byRoom).join(', ') || 'nothing'})`, { file: simulated });
  }
  const out = resolve(options.out ?? dirname(simulated));
  await mkdir(out, { recursive: true });
  const listFile = join(out, RIRS_LIST_FILE);
  const lines = files.map((file) => relative(out, file).split(sep).join('/'));
  await writeFileAtomic(listFile, lines.map((l) => `${l}\n`).join(''), 'impulse-response list');
  return { simulated, listFile, kept: files.length, byRoom, rooms: rooms.filter((r) => !missing.includes(r)) };
}
