/**
 * SV2TTS encoder preprocessing, as Real-Time-Voice-Cloning's `encoder_preprocess.py` lays it out:
 * each utterance goes through `preprocess_wav` (resample to 16 kHz, normalise the volume to
 * −30 dBFS increase-only, trim long silences with the WebRTC VAD) and `wav_to_mel_spectrogram`
 * (40-band linear mel, [frames, 40] float32); utterances with fewer than 160 frames (1.6 s, RTVC
 * `partials_n_frames`) or nothing left after trimming are dropped.
 *
 * Output, per speaker: `<out>/<dataset>_<speaker>/<name>.npy` where name is the utterance's path
 * inside the speaker folder with `/` → `_` and the audio extension → `.npy`, and `_sources.txt`
 * with `name.npy,source path` lines — what RTVC's `SpeakerVerificationDataset` reads. voxkit adds
 * `train_list.txt` (`speaker path.npy` lines relative to `<out>`) so `voxkit train --model RTVC`
 * trains on the frames, and `Log_<dataset>.txt` with the duration statistics.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { VoxkitError } from '../errors.js';
import type { PadMode } from '../features/framing.js';
import { writeFileAtomic } from '../io/atomic-write-node.js';
import { encodeNpy } from '../io/npy.js';
import { FeatureJobPool } from './feature-jobs-node.js';
import { extensionOf } from './train-list.js';

/** RTVC params_data.partials_n_frames: shorter utterances are dropped. */
export const SV2TTS_MIN_FRAMES = 160;
export const SV2TTS_SOURCES_FILE = '_sources.txt';

export interface Sv2ttsUtterance {
  speaker: string;
  /** Audio file. */
  path: string;
  /** Path inside the corpus, starting with the speaker folder when it has one (`id10001/x/00001.wav`). */
  relativePath?: string;
}

export interface Sv2ttsOptions {
  utterances: readonly Sv2ttsUtterance[];
  /** Output folder (RTVC: `<datasets_root>/SV2TTS/encoder`). */
  out: string;
  /** Prefix of the speaker folders (`<dataset>_<speaker>`), e.g. VoxCeleb1. */
  dataset: string;
  /** Keep utterances already listed in a speaker's `_sources.txt` (an interrupted run continues). */
  skipExisting?: boolean;
  /** Worker threads (0 = this thread); default 2. */
  workers?: number;
  /** STFT end padding of the mel: 'constant' (RTVC's librosa 0.9.2, default) or 'reflect'. */
  padMode?: PadMode;
  /** Drop utterances with fewer mel frames; default 160. */
  minFrames?: number;
  ffmpegPath?: string;
  onProgress?: (event: { done: number; total: number }) => void;
}

export interface Sv2ttsResult {
  out: string;
  speakers: number;
  /** Utterances preprocessed and written by this run. */
  written: number;
  /** Utterances kept from an earlier run (skipExisting). */
  skipped: number;
  /** Dropped: shorter than minFrames after preprocessing. */
  tooShort: number;
  /** Dropped: nothing left after trimming silences. */
  silent: number;
  /** Files that could not be read or decoded (the rest is still written). */
  failed: Array<{ file: string; message: string }>;
  /** Utterances listed in the output (train_list.txt). */
  utterances: number;
  trainList: string;
}

/** The `.npy` name RTVC gives an utterance: its path inside the speaker folder, `/` → `_`. */
export function sv2ttsFrameName(utterance: Sv2ttsUtterance): string {
  const relativePath = (utterance.relativePath ?? utterance.path.split(/[\\/]/).pop() ?? utterance.path).replace(/\\/g, '/');
  const parts = relativePath.split('/').filter((p) => p !== '' && p !== '.');
  const inside = parts.length > 1 && parts[0] === utterance.speaker ? parts.slice(1) : parts;
  const joined = inside.join('_');
  const extension = extensionOf(joined);
  return `${extension ? joined.slice(0, -(extension.length + 1)) : joined}.npy`;
}

/** Speaker folder names are used as file names: keep them to one path component. */
function speakerFolder(dataset: string, speaker: string): string {
  const name = `${dataset}_${speaker}`.replace(/[\\/]/g, '_');
  if (name === '.' || name === '..') throw new VoxkitError('E_DATA', `speaker "${speaker}" cannot name a folder`);
  return name;
}

function sourcesNames(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .map((line) => line.split(',')[0].trim())
      .filter(Boolean),
  );
}

function stats(values: number[]): string {
  if (values.length === 0) return '\t\tno utterances';
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return `\t\tmin ${sorted[0].toFixed(3)}, max ${sorted[sorted.length - 1].toFixed(3)}\n\t\tmean ${mean.toFixed(3)}, median ${median.toFixed(3)}`;
}

/**
 * Preprocesses `utterances` into RTVC's SV2TTS encoder layout. Parallel over files (worker
 * threads); results are written in input order, each `.npy` atomically before its `_sources.txt`
 * line, so an interrupted run continued with `skipExisting` redoes at most the files in flight.
 */
export async function preprocessSv2tts(options: Sv2ttsOptions): Promise<Sv2ttsResult> {
  const out = resolve(options.out);
  const minFrames = options.minFrames ?? SV2TTS_MIN_FRAMES;
  const padMode = options.padMode ?? 'constant';
  await mkdir(out, { recursive: true }).catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `${out}: cannot create the output folder (${(cause as NodeJS.ErrnoException).code ?? cause})`, { file: out, cause });
  });

  // Per speaker: its folder, the names already done, and what is left to do.
  const bySpeaker = new Map<string, { folder: string; existing: Set<string>; names: Set<string> }>();
  const todo: Array<{ utterance: Sv2ttsUtterance; folder: string; name: string }> = [];
  let skipped = 0;
  for (const utterance of options.utterances) {
    let speaker = bySpeaker.get(utterance.speaker);
    if (!speaker) {
      const folder = speakerFolder(options.dataset, utterance.speaker);
      const dir = join(out, folder);
      await mkdir(dir, { recursive: true });
      const sourcesPath = join(dir, SV2TTS_SOURCES_FILE);
      let existing = new Set<string>();
      if (options.skipExisting) existing = sourcesNames(await readFile(sourcesPath, 'utf8').catch(() => ''));
      else await writeFile(sourcesPath, '');
      speaker = { folder, existing, names: new Set() };
      bySpeaker.set(utterance.speaker, speaker);
    }
    const name = sv2ttsFrameName(utterance);
    if (speaker.names.has(name)) {
      throw new VoxkitError('E_DATA', `${utterance.path}: two recordings of speaker ${utterance.speaker} map to the same frames file ${name}`, { file: utterance.path });
    }
    speaker.names.add(name);
    if (speaker.existing.has(name)) skipped++;
    else todo.push({ utterance, folder: speaker.folder, name });
  }

  const pool = new FeatureJobPool(options.workers ?? 2);
  let written = 0;
  let tooShort = 0;
  let silent = 0;
  const failed: Sv2ttsResult['failed'] = [];
  const durations: number[] = [];
  try {
    const inFlight: Array<Promise<Awaited<ReturnType<FeatureJobPool['run']>>>> = [];
    let next = 0;
    const refill = (): void => {
      while (next < todo.length && inFlight.length < pool.capacity) {
        const { utterance } = todo[next++];
        const pending = pool.run({ task: 'sv2tts', file: utterance.path, padMode, ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}) });
        pending.catch(() => undefined);
        inFlight.push(pending);
      }
    };
    refill();
    for (let i = 0; i < todo.length; i++) {
      const { utterance, folder, name } = todo[i];
      const pending = inFlight.shift() as Promise<Awaited<ReturnType<FeatureJobPool['run']>>>;
      refill();
      let output: Awaited<typeof pending>;
      try {
        output = await pending;
      } catch (error) {
        failed.push({ file: utterance.path, message: error instanceof Error ? error.message : String(error) });
        options.onProgress?.({ done: skipped + i + 1, total: skipped + todo.length });
        continue;
      }
      if (output.rows === 0) silent++;
      else if (output.rows < minFrames) tooShort++;
      else {
        await writeFileAtomic(join(out, folder, name), encodeNpy(output.data, [output.rows, output.cols]), 'frames file');
        // RTVC writes the path as given; absolute keeps the sources file meaningful from anywhere.
        await appendFile(join(out, folder, SV2TTS_SOURCES_FILE), `${name},${resolve(utterance.path)}\n`);
        written++;
        durations.push(output.seconds ?? 0);
      }
      options.onProgress?.({ done: skipped + i + 1, total: skipped + todo.length });
    }
  } finally {
    await pool.close();
  }

  // train_list.txt covers every speaker folder of this dataset, earlier runs included.
  const lines: string[] = [];
  for (const { folder } of [...bySpeaker.values()].sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0))) {
    const names = [...sourcesNames(await readFile(join(out, folder, SV2TTS_SOURCES_FILE), 'utf8').catch(() => ''))].sort();
    for (const name of names) lines.push(`${folder} ${folder}/${name}`);
  }
  const trainList = join(out, 'train_list.txt');
  await writeFileAtomic(trainList, lines.length ? `${lines.join('\n')}\n` : '', 'train list');
  const log = [
    `Preprocessed ${options.dataset} on ${new Date().toISOString()} (voxkit SV2TTS encoder preprocessing)`,
    '-----',
    'Parameter values:',
    '\tsampling_rate: 16000',
    '\taudio_norm_target_dBFS: -30',
    '\tvad_window_length: 30',
    '\tvad_moving_average_width: 8',
    '\tvad_max_silence_length: 6',
    '\tmel_window_length: 25',
    '\tmel_window_step: 10',
    '\tmel_n_channels: 40',
    `\tpartials_n_frames: ${minFrames}`,
    `\tmel_pad_mode: ${padMode}`,
    '-----',
    'Statistics (utterances written by this run):',
    '\tduration:',
    stats(durations),
    `\twritten ${written}, kept ${skipped}, too short ${tooShort}, silent ${silent}, failed ${failed.length}`,
    '-----',
    '',
  ].join('\n');
  await writeFileAtomic(join(out, `Log_${options.dataset.replace(/[\\/]/g, '_')}.txt`), log, 'log');
  return { out, speakers: bySpeaker.size, written, skipped, tooShort, silent, failed, utterances: lines.length, trainList };
}
