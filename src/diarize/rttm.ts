/**
 * RTTM (NIST Rich Transcription Time Marked), the file format diarization tools exchange: one
 * `SPEAKER <file> <channel> <start> <duration> <NA> <NA> <speaker> <NA> <NA>` line per turn,
 * times in seconds. No Node APIs.
 */
import { VoxkitError } from '../errors.js';

/** A stretch of time attributed to one speaker (seconds). */
export interface SpeakerTurn {
  start: number;
  end: number;
  speaker: string;
}

export interface RttmRecord extends SpeakerTurn {
  /** The recording the turn belongs to (RTTM's file id). */
  file: string;
  channel: number;
}

/** RTTM fields are separated by whitespace, so names with spaces would shift every later column. */
export function rttmToken(name: string): string {
  const token = name.trim().replace(/\s+/g, '_');
  return token === '' ? '<NA>' : token;
}

/** Milliseconds are finer than any diarization boundary and keep the files readable. */
const seconds = (x: number) => x.toFixed(3);

/**
 * Formats turns as RTTM lines, in time order.
 *
 * @param file the recording's id (typically its file name without extension)
 */
export function formatRttm(file: string, turns: readonly SpeakerTurn[], channel = 1): string {
  const id = rttmToken(file);
  return [...turns]
    .sort((a, b) => a.start - b.start || a.end - b.end)
    .map((t) => `SPEAKER ${id} ${channel} ${seconds(t.start)} ${seconds(t.end - t.start)} <NA> <NA> ${rttmToken(t.speaker)} <NA> <NA>\n`)
    .join('');
}

/**
 * Reads the SPEAKER lines of an RTTM file; other line types (SPKR-INFO, LEXEME, …), comments
 * (`;;`, `#`) and blank lines are skipped.
 *
 * @param source used in error messages
 * @throws VoxkitError E_DATA on a SPEAKER line with missing or non-numeric times
 */
export function parseRttm(text: string, source?: string): RttmRecord[] {
  const records: RttmRecord[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    if (fields[0] !== 'SPEAKER') continue;
    const where = `${source ? `${source}: ` : ''}line ${i + 1}`;
    if (fields.length < 8) throw new VoxkitError('E_DATA', `${where}: an RTTM SPEAKER line needs at least 8 fields, got ${fields.length}`, { file: source });
    const start = Number(fields[3]);
    const duration = Number(fields[4]);
    if (!Number.isFinite(start) || !Number.isFinite(duration) || duration < 0) {
      throw new VoxkitError('E_DATA', `${where}: bad start/duration "${fields[3]} ${fields[4]}"`, { file: source });
    }
    const channel = Number(fields[2]);
    records.push({ file: fields[1], channel: Number.isFinite(channel) ? channel : 1, start, end: start + duration, speaker: fields[7] });
  }
  return records;
}

/** Splits records by file id, keeping their order. */
export function groupRttmByFile(records: readonly RttmRecord[]): Map<string, RttmRecord[]> {
  const byFile = new Map<string, RttmRecord[]>();
  for (const r of records) {
    const list = byFile.get(r.file);
    if (list) list.push(r);
    else byFile.set(r.file, [r]);
  }
  return byFile;
}
