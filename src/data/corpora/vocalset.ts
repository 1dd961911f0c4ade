/**
 * VocalSet (Wilkins et al., ISMIR 2018): `FULL/<singer>/<context>/<technique>/<file>.wav` in the
 * 1.1 archive, `data_by_singer/…` with the same levels in 1.2; singers `female1`–`female9` and
 * `male1`–`male11`, contexts `arpeggios`, `scales`, `long_tones`, `excerpts`, techniques such as
 * `belt`, `breathy`, `vibrato`, `straight`, `vocal_fry`; file names start with the short singer
 * code (`f1_arpeggios_belt_c_a.wav`, `m3_long_forte_e.wav`, `f3_caro_straight.wav`). A singer's
 * session is the context and technique, so target trials pair different singing.
 */
import { VoxkitError } from '../../errors.js';
import { addExcluded, emptyScan, findFolders, isAudioName, joinRelative, normaliseNames, problem, walkFiles } from './common.js';
import type { CorpusFileSystem, CorpusOptions, CorpusReader, CorpusScanResult } from './types.js';

const SINGER = /^(female|male)(\d+)$/;

/** `female3` for `f3`, `male11` for `m11`; other names as given (lower case). */
export function vocalsetSingerName(name: string): string {
  const short = /^([fm])(\d+)$/i.exec(name.trim());
  if (short) return `${short[1].toLowerCase() === 'f' ? 'female' : 'male'}${Number(short[2])}`;
  return name.trim().toLowerCase();
}

/** The file-name prefix of a singer: `f3` for `female3`. */
export function vocalsetShortCode(singer: string): string {
  const match = SINGER.exec(singer);
  return match ? `${match[1] === 'female' ? 'f' : 'm'}${match[2]}` : singer;
}

async function scanVocalSet(fs: CorpusFileSystem, options: CorpusOptions): Promise<CorpusScanResult> {
  const scan = emptyScan();
  const roots = await findFolders(fs, (_dir, children) => children.some((c) => SINGER.test(c)), 3);
  if (roots.length === 0) return scan;
  const preferred = roots.find((r) => /(^|\/)FULL$/.test(r)) ?? roots.find((r) => /(^|\/)data_by_singer$/.test(r)) ?? roots[0];
  if (roots.length > 1) scan.notes.push(`singer folders found in ${roots.map((r) => `${r || '.'}/`).join(', ')}: reading ${preferred || '.'}/ only`);

  const singersPresent: string[] = [];
  for (const entry of (await fs.list(preferred)) ?? []) {
    if (entry.kind === 'dir' && SINGER.test(entry.name)) singersPresent.push(entry.name);
    else if (preferred !== '') scan.problems.push(problem(entry.kind === 'dir' ? 'unexpected-layout' : 'non-audio-file', joinRelative(preferred, entry.name), 'not a singer folder (femaleN / maleN)'));
  }
  const singers = normaliseNames(options.singers)?.map(vocalsetSingerName);
  if (singers) {
    const unknown = singers.filter((s) => !singersPresent.includes(s));
    if (unknown.length > 0) throw new VoxkitError('E_USAGE', `--singers ${unknown.join(', ')}: not in the corpus (found: ${singersPresent.join(', ')})`);
  }
  const techniques = normaliseNames(options.techniques)?.map((t) => t.toLowerCase());
  const techniquesPresent = new Set<string>();
  let otherTechnique = 0;
  let otherSinger = 0;

  for (const singer of singersPresent) {
    const singerDir = joinRelative(preferred, singer);
    const files = await walkFiles(fs, singerDir);
    if (singers && !singers.includes(singer)) {
      otherSinger += files.filter(isAudioName).length;
      continue;
    }
    for (const path of files) {
      const below = path.slice(singerDir.length + 1).split('/');
      const name = below[below.length - 1];
      if (!isAudioName(name)) {
        scan.problems.push(problem('non-audio-file', path, 'not an audio file'));
        continue;
      }
      if (below.length !== 3) {
        scan.problems.push(problem('unexpected-layout', path, `expected ${singer}/CONTEXT/TECHNIQUE/${vocalsetShortCode(singer)}_….wav; left out`));
        continue;
      }
      const [context, technique] = below;
      techniquesPresent.add(technique.toLowerCase());
      if (techniques && !techniques.includes(technique.toLowerCase())) {
        otherTechnique++;
        continue;
      }
      if (!name.toLowerCase().startsWith(`${vocalsetShortCode(singer)}_`)) {
        scan.problems.push(problem('inconsistent', path, `file name does not start with ${vocalsetShortCode(singer)}_ (singer taken from the folder)`, { kept: true }));
      }
      scan.utterances.push({ speaker: singer, path, session: `${context}/${technique}` });
    }
  }
  if (techniques) {
    const unknown = techniques.filter((t) => !techniquesPresent.has(t));
    if (unknown.length > 0) throw new VoxkitError('E_USAGE', `--techniques ${unknown.join(', ')}: not in the corpus (found: ${[...techniquesPresent].sort().join(', ')})`);
  }
  addExcluded(scan, 'singer not selected', otherSinger);
  addExcluded(scan, 'technique not selected', otherTechnique);
  return scan;
}

export const VOCALSET: CorpusReader = {
  name: 'vocalset',
  description: 'VocalSet: FULL/<singer>/<context>/<technique>/*.wav (or data_by_singer/); speaker = singer, session = context/technique',
  options: ['singers', 'techniques'],
  scan: scanVocalSet,
};
