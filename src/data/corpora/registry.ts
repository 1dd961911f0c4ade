/**
 * The corpora `voxkit prepare` reads, by name. Each reader turns a corpus tree into utterances and
 * problems through the CorpusFileSystem interface, so this module and the readers run anywhere.
 */
import { UnknownComponentError } from '../../errors.js';
import { COMMON_VOICE } from './commonvoice.js';
import { FOLDER } from './folder.js';
import { LIBRISPEECH } from './librispeech.js';
import { MAILABS } from './mailabs.js';
import type { CorpusReader } from './types.js';
import { VCTK } from './vctk.js';
import { VOCALSET } from './vocalset.js';
import { VOXCELEB1, VOXCELEB2 } from './voxceleb.js';

export const CORPUS_REGISTRY: Readonly<Record<string, CorpusReader>> = Object.freeze({
  voxceleb1: VOXCELEB1,
  voxceleb2: VOXCELEB2,
  librispeech: LIBRISPEECH,
  vctk: VCTK,
  commonvoice: COMMON_VOICE,
  vocalset: VOCALSET,
  mailabs: MAILABS,
  folder: FOLDER,
});

export const CORPUS_NAMES: readonly string[] = Object.freeze(Object.keys(CORPUS_REGISTRY));

/** The reader of a corpus name (case-insensitive; `common-voice`, `m-ailabs` and `vox1`/`vox2` accepted). */
export function getCorpusReader(name: string): CorpusReader {
  const key = name.toLowerCase().replace(/[-_]/g, '');
  const aliases: Record<string, string> = { vox1: 'voxceleb1', vox2: 'voxceleb2', cv: 'commonvoice', mailabs: 'mailabs' };
  const reader = CORPUS_REGISTRY[aliases[key] ?? key];
  if (!reader) throw new UnknownComponentError('corpus', name, CORPUS_NAMES);
  return reader;
}
