/**
 * CSTR VCTK. Release 0.92 ships `wav48_silence_trimmed/pNNN/pNNN_NNN_mic1.flac` and `_mic2.flac`
 * (two microphones recording the same sentence: one is used, mic1 unless --mic mic2); earlier
 * releases ship `wav48/pNNN/pNNN_NNN.wav`. `speaker-info.txt` is a white-space table
 * `ID AGE GENDER ACCENTS REGION [COMMENTS]` (IDs `p225` in 0.92, `225` before). VCTK has one
 * recording session per speaker, so its trials cannot be cross-session.
 */
import { VoxkitError } from '../../errors.js';
import { addExcluded, emptyScan, isAudioName, joinRelative, problem, subfolders, walkFiles } from './common.js';
import type { CorpusFileSystem, CorpusOptions, CorpusProblem, CorpusReader, CorpusScanResult } from './types.js';

export interface VctkSpeaker {
  id: string;
  age: number;
  gender: string;
  accent?: string;
}

/** Reads speaker-info.txt; IDs are normalised to the `pNNN` spelling of the audio folders. */
export function parseVctkSpeakerInfo(text: string, file: string, problems: CorpusProblem[]): Map<string, VctkSpeaker> {
  const speakers = new Map<string, VctkSpeaker>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (raw.trim() === '' || /^id$/i.test(fields[0])) return;
    const id = /^\d+$/.test(fields[0]) ? `p${fields[0]}` : fields[0];
    if (fields.length < 3 || !/^[ps]\d+$/.test(id) || !/^\d+$/.test(fields[1]) || !/^[MF]$/i.test(fields[2])) {
      problems.push(problem('malformed-metadata', file, `expected "ID AGE GENDER ACCENTS REGION", got "${raw.trim().slice(0, 100)}"`, { line: index + 1 }));
      return;
    }
    speakers.set(id, { id, age: Number(fields[1]), gender: fields[2].toUpperCase(), ...(fields[3] ? { accent: fields[3] } : {}) });
  });
  return speakers;
}

const FILE_NAME = /^([ps]\d+)_(\d{3})(?:_(mic[12]))?\.[A-Za-z0-9]+$/;

async function scanVctk(fs: CorpusFileSystem, options: CorpusOptions): Promise<CorpusScanResult> {
  const scan = emptyScan();
  const top = await subfolders(fs, '');
  const audioDir = top.includes('wav48_silence_trimmed') ? 'wav48_silence_trimmed' : top.includes('wav48') ? 'wav48' : undefined;
  if (!audioDir) return scan;
  if (audioDir === 'wav48_silence_trimmed' && top.includes('wav48')) scan.notes.push('both wav48_silence_trimmed/ (0.92) and wav48/ are present: reading wav48_silence_trimmed/');
  const twoMics = audioDir === 'wav48_silence_trimmed';
  if (options.mic && !twoMics) throw new VoxkitError('E_USAGE', '--mic applies to VCTK 0.92 (wav48_silence_trimmed/); this corpus has one recording per sentence');
  const mic = options.mic ?? 'mic1';

  const infoText = await fs.readText('speaker-info.txt');
  const info = infoText === undefined ? undefined : parseVctkSpeakerInfo(infoText, 'speaker-info.txt', scan.problems);
  if (!info) scan.problems.push(problem('missing-file', 'speaker-info.txt', 'speaker-info.txt is missing: speakers cannot be checked', { kept: true }));

  const speakersWithAudio = new Set<string>();
  const speakersWithMic = new Set<string>();
  let otherMic = 0;
  for (const path of await walkFiles(fs, audioDir)) {
    const parts = path.split('/');
    const name = parts[parts.length - 1];
    if (!isAudioName(name)) {
      scan.problems.push(problem('non-audio-file', path, 'not an audio file'));
      continue;
    }
    if (parts.length !== 3) {
      scan.problems.push(problem('unexpected-layout', path, `expected ${audioDir}/SPEAKER/SPEAKER_NNN${twoMics ? '_micN' : ''}.${twoMics ? 'flac' : 'wav'}; left out`));
      continue;
    }
    const speaker = parts[1];
    const match = FILE_NAME.exec(name);
    if (!match || match[1] !== speaker || (twoMics && !match[3])) {
      scan.problems.push(problem('inconsistent', path, `file name is not ${speaker}_NNN${twoMics ? '_mic1/_mic2' : ''}; left out`));
      continue;
    }
    speakersWithAudio.add(speaker);
    if (twoMics && match[3] !== mic) {
      otherMic++;
      continue;
    }
    speakersWithMic.add(speaker);
    scan.utterances.push({ speaker, path, language: 'en' });
  }
  addExcluded(scan, `microphone other than ${mic}`, otherMic);
  const withoutMic = [...speakersWithAudio].filter((s) => !speakersWithMic.has(s));
  if (twoMics && withoutMic.length > 0) scan.notes.push(`speakers without ${mic} recordings (not in the lists): ${withoutMic.join(', ')}`);
  if (info) {
    for (const s of [...speakersWithAudio].filter((id) => !info.has(id))) {
      scan.problems.push(problem('inconsistent', joinRelative(audioDir, s), `speaker ${s} is not in speaker-info.txt`, { kept: true }));
    }
    for (const s of [...info.keys()].filter((id) => !speakersWithAudio.has(id))) {
      scan.problems.push(problem('missing-file', 'speaker-info.txt', `speaker ${s} is listed but has no recordings in ${audioDir}/`));
    }
  }
  return scan;
}

export const VCTK: CorpusReader = {
  name: 'vctk',
  description: 'CSTR VCTK: wav48_silence_trimmed/pNNN/pNNN_NNN_mic1.flac (0.92) or wav48/pNNN/pNNN_NNN.wav, speaker-info.txt',
  options: ['mic'],
  scan: scanVctk,
};
