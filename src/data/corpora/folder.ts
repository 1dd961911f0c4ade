/**
 * Any corpus arranged one folder per speaker: `<speaker>/[<session>/…]/<file>`. The session is the
 * second folder level when a file lies deeper (as in VoxCeleb's `idNNNNN/VIDEO/NNNNN.wav`).
 */
import { emptyScan, isAudioName, problem, walkFiles } from './common.js';
import type { CorpusFileSystem, CorpusReader, CorpusScanResult } from './types.js';

async function scanFolder(fs: CorpusFileSystem): Promise<CorpusScanResult> {
  const scan = emptyScan();
  for (const entry of (await fs.list('')) ?? []) {
    if (entry.kind === 'file') {
      // Lists and notes beside the speaker folders are expected; audio there has no speaker.
      if (isAudioName(entry.name)) scan.problems.push(problem('unexpected-layout', entry.name, 'an audio file outside any speaker folder; left out'));
      continue;
    }
    if (entry.name.startsWith('.')) continue;
    for (const path of await walkFiles(fs, entry.name)) {
      if (!isAudioName(path)) {
        scan.problems.push(problem('non-audio-file', path, 'not an audio file'));
        continue;
      }
      const parts = path.split('/');
      scan.utterances.push({ speaker: entry.name, path, ...(parts.length >= 3 ? { session: parts[1] } : {}) });
    }
  }
  return scan;
}

export const FOLDER: CorpusReader = {
  name: 'folder',
  description: 'one folder per speaker: <speaker>/[<session>/]<file> (the session is the second level when present)',
  options: [],
  scan: scanFolder,
};
