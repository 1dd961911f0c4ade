/**
 * Speech activity detection for diarization: WebRTC VAD decisions per frame (src/audio/vad.ts),
 * then smoothed into regions — short pauses inside speech are bridged, isolated blips dropped, and
 * every region padded a little (hangover) so word onsets and tails are not clipped. No Node APIs.
 */
import { VoxkitError } from '../errors.js';
import { createWebrtcVad, type WebrtcVad, type WebrtcVadMode, type WebrtcVadSampleRate } from '../audio/vad.js';
import { vadFlags } from '../audio/trim-silences.js';

/** A stretch of detected speech, in seconds. */
export interface SpeechRegion {
  start: number;
  end: number;
}

export interface SpeechSmoothingOptions {
  /** Pauses shorter than this inside speech are counted as speech. Default 0.2 s. */
  minSilenceSec?: number;
  /** Speech runs shorter than this (after bridging pauses) are dropped as noise. Default 0.2 s. */
  minSpeechSec?: number;
  /** Seconds added before and after every region (extra hangover; the WebRTC VAD already holds on a little after speech). Default 0. */
  padSec?: number;
}

export interface SpeechActivityOptions extends SpeechSmoothingOptions {
  /** WebRTC VAD aggressiveness 0–3. Default 3 (fewest false alarms; see docs/diarize.md for the measurement). */
  vadMode?: WebrtcVadMode;
  /** VAD frame: 10, 20 or 30 ms. Default 30. */
  frameMs?: 10 | 20 | 30;
  /** A detector to reuse (its rate must match); otherwise one is created and disposed. */
  vad?: WebrtcVad;
}

export const DEFAULT_SPEECH_SMOOTHING: Required<SpeechSmoothingOptions> = { minSilenceSec: 0.2, minSpeechSec: 0.2, padSec: 0 };

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new VoxkitError('E_USAGE', `${name} must be a non-negative number of seconds, got ${value}`);
  return value;
}

/**
 * Turns per-frame speech flags into smoothed regions.
 *
 * @param flags [frames] 1 = speech
 * @param frameSec duration of one flag
 * @param totalSec length of the recording (regions are clipped to it)
 */
export function speechRegionsFromFlags(flags: Uint8Array, frameSec: number, totalSec: number, options: SpeechSmoothingOptions = {}): SpeechRegion[] {
  const minSilenceSec = nonNegative('minSilenceSec', options.minSilenceSec ?? DEFAULT_SPEECH_SMOOTHING.minSilenceSec);
  const minSpeechSec = nonNegative('minSpeechSec', options.minSpeechSec ?? DEFAULT_SPEECH_SMOOTHING.minSpeechSec);
  const padSec = nonNegative('padSec', options.padSec ?? DEFAULT_SPEECH_SMOOTHING.padSec);
  if (!(frameSec > 0)) throw new VoxkitError('E_USAGE', `frameSec must be positive, got ${frameSec}`);

  const runs: Array<[number, number]> = [];
  for (let i = 0; i < flags.length; ) {
    if (!flags[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < flags.length && flags[j]) j++;
    runs.push([i, j]);
    i = j;
  }
  // Bridge pauses first so a word split by a short stop is not dropped as two blips.
  const bridged: Array<[number, number]> = [];
  for (const run of runs) {
    const last = bridged[bridged.length - 1];
    if (last && (run[0] - last[1]) * frameSec < minSilenceSec) last[1] = run[1];
    else bridged.push([run[0], run[1]]);
  }
  const regions: SpeechRegion[] = [];
  for (const [from, to] of bridged) {
    if ((to - from) * frameSec < minSpeechSec) continue;
    const start = Math.max(0, from * frameSec - padSec);
    const end = Math.min(totalSec, to * frameSec + padSec);
    const last = regions[regions.length - 1];
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else if (end > start) regions.push({ start, end });
  }
  return regions;
}

/**
 * Detects speech in a mono waveform.
 *
 * @param sampleRateHz 8000, 16000, 32000 or 48000 (the rates the WebRTC VAD accepts)
 */
export async function detectSpeechRegions(wave: Float32Array, sampleRateHz: number, options: SpeechActivityOptions = {}): Promise<SpeechRegion[]> {
  const frameMs = options.frameMs ?? 30;
  const vad = options.vad ?? (await createWebrtcVad({ mode: options.vadMode ?? 3, sampleRateHz: sampleRateHz as WebrtcVadSampleRate }));
  try {
    if (vad.sampleRateHz !== sampleRateHz) {
      throw new VoxkitError('E_USAGE', `the VAD runs at ${vad.sampleRateHz} Hz but the audio is at ${sampleRateHz} Hz`);
    }
    if (options.vad) vad.reset();
    const flags = vadFlags(wave, vad, { windowMs: frameMs });
    return speechRegionsFromFlags(flags, frameMs / 1000, wave.length / sampleRateHz, options);
  } finally {
    if (!options.vad) vad.dispose();
  }
}

/** Total seconds covered by regions (assumed disjoint). */
export function totalDuration(regions: readonly SpeechRegion[]): number {
  return regions.reduce((sum, r) => sum + (r.end - r.start), 0);
}
