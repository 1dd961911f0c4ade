/**
 * Finds and loads the speech engines installed in node_modules: Flite (a regular dependency) and
 * eSpeak NG (optional; GPL-3.0). Engines are loaded once per thread and cached.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { VoxkitError } from '../../errors.js';
import type { EngineName, SpeechEngine } from './engine.js';
import { ESPEAK_PACKAGE, loadEspeakEngine } from './espeak.js';
import { createFliteEngine, FLITE_PACKAGE } from './flite.js';

export const ENGINE_NAMES: readonly EngineName[] = ['flite', 'espeak'];

const require = createRequire(import.meta.url);
const cache = new Map<EngineName, Promise<SpeechEngine | undefined>>();

/** The package folder and version, or undefined when it is not installed. */
function findPackage(packageName: string): { dir: string; version: string } | undefined {
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${packageName}/package.json`);
  } catch {
    return undefined;
  }
  const { version } = require(manifestPath) as { version?: string };
  return { dir: dirname(manifestPath), version: version ?? 'unknown' };
}

async function loadFlite(): Promise<SpeechEngine | undefined> {
  const found = findPackage(FLITE_PACKAGE);
  if (!found) return undefined;
  const wasmPath = join(found.dir, 'flite.wasm');
  const bytes = await readFile(wasmPath).catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `${wasmPath}: cannot read Flite's WebAssembly binary (${(cause as NodeJS.ErrnoException)?.code ?? cause})`, { file: wasmPath, cause });
  });
  const module = await WebAssembly.compile(bytes);
  return createFliteEngine(module, found.version);
}

async function loadEspeak(): Promise<SpeechEngine | undefined> {
  const found = findPackage(ESPEAK_PACKAGE);
  if (!found) return undefined;
  // Read once: every synthesis starts a fresh eSpeak instance, which would otherwise read it again.
  const dataPath = join(found.dir, 'espeak-ng.data');
  const data = await readFile(dataPath).catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `${dataPath}: cannot read eSpeak NG's data file (${(cause as NodeJS.ErrnoException)?.code ?? cause})`, { file: dataPath, cause });
  });
  // The runtime accepts only a whole ArrayBuffer; a small file read can sit inside a shared pool.
  const dataPackage = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? (data.buffer as ArrayBuffer) : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  return loadEspeakEngine(found.version, dataPackage);
}

/** One engine if its package is installed (cached per thread). */
export function loadEngine(name: EngineName): Promise<SpeechEngine | undefined> {
  let pending = cache.get(name);
  if (!pending) {
    pending = name === 'flite' ? loadFlite() : loadEspeak();
    cache.set(name, pending);
  }
  return pending;
}

/**
 * Loads the requested engines (default: every installed one).
 *
 * @throws VoxkitError E_CONFIG when a requested engine is not installed or none is available
 */
export async function loadSpeechEngines(names?: readonly EngineName[]): Promise<SpeechEngine[]> {
  const wanted = names ?? ENGINE_NAMES;
  for (const name of wanted) {
    if (!ENGINE_NAMES.includes(name)) throw new VoxkitError('E_CONFIG', `unknown speech engine "${name}"; valid: ${ENGINE_NAMES.join(', ')}`);
  }
  const loaded = await Promise.all(wanted.map(async (name) => [name, await loadEngine(name)] as const));
  const missing = loaded.filter(([, engine]) => !engine).map(([name]) => name);
  if (names && missing.length) {
    const hints = missing.map((n) => (n === 'espeak' ? `espeak needs the optional package ${ESPEAK_PACKAGE} (GPL-3.0): npm install ${ESPEAK_PACKAGE}` : `flite needs ${FLITE_PACKAGE}: npm install`));
    throw new VoxkitError('E_CONFIG', `speech engine(s) not installed: ${hints.join('; ')}`);
  }
  const engines = loaded.flatMap(([, engine]) => (engine ? [engine] : []));
  if (engines.length === 0) throw new VoxkitError('E_CONFIG', `no speech engine installed; run npm install (${FLITE_PACKAGE} is a dependency of voxkit)`);
  return engines;
}
