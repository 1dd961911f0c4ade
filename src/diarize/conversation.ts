/**
 * Assembles test conversations from single-speaker utterances with exactly known turns, so
 * diarization can be scored without hand labels. Each turn is one utterance (optionally cropped),
 * with its leading and trailing silence trimmed so the reference turn is where the voice is;
 * turns are separated by pauses of faint noise or, when asked, overlap. No Node APIs.
 */
import { VoxkitError } from '../errors.js';
import { Random } from '../core/random.js';
import type { SpeakerTurn } from './rttm.js';

export interface ConversationUtterance {
  samples: Float32Array;
  speaker: string;
  /** For the turn list (e.g. the file path). */
  id?: string;
  /** A family of similar voices (e.g. the synthesizer's base voice), for `distinctGroups`. */
  group?: string;
}

export interface ConversationOptions {
  seed: number;
  /** Number of turns (≥ the number of speakers, so everyone speaks). */
  turns: number;
  /** How many speakers of the pool take part; default all of them. */
  speakers?: number;
  /** Pick participants from different `group`s only (e.g. no two speakers built on the same base voice). */
  distinctGroups?: boolean;
  sampleRateHz: number;
  /** Pause between turns drawn uniformly from [min, max] seconds. Default [0.3, 1.0]. */
  pauseSec?: readonly [number, number];
  /** Chance that a turn starts before the previous one ends instead of after a pause. Default 0. */
  overlapProbability?: number;
  /** Overlap length drawn uniformly from [min, max] seconds (capped to half of either turn). Default [0.3, 1.0]. */
  overlapSec?: readonly [number, number];
  /** Longer utterances are cropped to a random length in [minTurnSec, maxTurnSec]. Default Infinity (no crop). */
  maxTurnSec?: number;
  /** Default 1.5 s. */
  minTurnSec?: number;
  /** Level of the background noise between and under turns, dBFS; -Infinity for digital silence. Default −65. */
  noiseDbfs?: number;
}

export interface ConversationTurn extends SpeakerTurn {
  /** Index of the utterance in the input list. */
  utterance: number;
  id?: string;
}

export interface Conversation {
  samples: Float32Array;
  sampleRateHz: number;
  /** Speakers taking part, in order of first appearance. */
  speakers: string[];
  /** The reference: one turn per utterance placed, in time order. */
  turns: ConversationTurn[];
}

const ENVELOPE_SEC = 0.01;

/**
 * Where the voice starts and ends: the first and last 10 ms frame whose energy rises clearly above
 * the utterance's own noise floor (a third of the way from its 10th to its 95th energy percentile,
 * in dB). Recordings with little dynamic range are kept whole.
 */
export function voicedExtent(samples: Float32Array, sampleRateHz: number): { start: number; end: number } {
  const frame = Math.max(1, Math.round(ENVELOPE_SEC * sampleRateHz));
  const count = Math.floor(samples.length / frame);
  if (count < 3) return { start: 0, end: samples.length };
  const db = new Float64Array(count);
  for (let f = 0; f < count; f++) {
    let e = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) e += samples[i] * samples[i];
    db[f] = 10 * Math.log10(e / frame + 1e-12);
  }
  const sorted = Float64Array.from(db).sort();
  const floor = sorted[Math.floor(0.1 * (count - 1))];
  const loud = sorted[Math.floor(0.95 * (count - 1))];
  if (loud - floor < 6) return { start: 0, end: samples.length };
  const threshold = floor + (loud - floor) / 3;
  let first = 0;
  while (first < count && db[first] < threshold) first++;
  let last = count - 1;
  while (last > first && db[last] < threshold) last--;
  return { start: first * frame, end: Math.min(samples.length, (last + 1) * frame) };
}

function checkRange(name: string, range: readonly [number, number]): void {
  if (!(range[0] >= 0) || !(range[1] >= range[0]) || !Number.isFinite(range[1])) {
    throw new VoxkitError('E_USAGE', `${name} must be [min, max] with 0 ≤ min ≤ max, got [${range.join(', ')}]`);
  }
}

/**
 * Builds one conversation. The first turns give every chosen speaker the floor once (in random
 * order); after that a random other speaker follows each turn. A speaker's utterances are used in a
 * shuffled order and only reused once all have been.
 */
export function assembleConversation(utterances: readonly ConversationUtterance[], options: ConversationOptions): Conversation {
  const rng = new Random(options.seed);
  const sr = options.sampleRateHz;
  const pauseSec = options.pauseSec ?? [0.3, 1.0];
  const overlapSec = options.overlapSec ?? [0.3, 1.0];
  const overlapProbability = options.overlapProbability ?? 0;
  const maxTurnSec = options.maxTurnSec ?? Infinity;
  const minTurnSec = options.minTurnSec ?? 1.5;
  const noiseDbfs = options.noiseDbfs ?? -65;
  checkRange('pauseSec', pauseSec);
  checkRange('overlapSec', overlapSec);
  if (!(sr > 0)) throw new VoxkitError('E_USAGE', `sampleRateHz must be positive, got ${sr}`);
  if (!(overlapProbability >= 0 && overlapProbability <= 1)) throw new VoxkitError('E_USAGE', `overlapProbability must be in [0, 1], got ${overlapProbability}`);
  if (!(maxTurnSec >= minTurnSec) || !(minTurnSec > 0)) throw new VoxkitError('E_USAGE', `need 0 < minTurnSec ≤ maxTurnSec, got ${minTurnSec} and ${maxTurnSec}`);

  const bySpeaker = new Map<string, number[]>();
  utterances.forEach((u, i) => {
    const list = bySpeaker.get(u.speaker) ?? [];
    list.push(i);
    bySpeaker.set(u.speaker, list);
  });
  const pool = [...bySpeaker.keys()].sort();
  const speakerCount = options.speakers ?? pool.length;
  if (!Number.isInteger(speakerCount) || speakerCount < 1 || speakerCount > pool.length) {
    throw new VoxkitError('E_USAGE', `cannot pick ${speakerCount} speakers from ${pool.length}`);
  }
  if (!Number.isInteger(options.turns) || options.turns < speakerCount) {
    throw new VoxkitError('E_USAGE', `need at least one turn per speaker (${speakerCount}), got ${options.turns} turns`);
  }
  let chosen = rng.shuffle([...pool]);
  if (options.distinctGroups) {
    const groupOf = new Map(utterances.map((u) => [u.speaker, u.group ?? u.speaker]));
    const seen = new Set<string>();
    chosen = chosen.filter((speaker) => !seen.has(groupOf.get(speaker)!) && seen.add(groupOf.get(speaker)!));
    if (chosen.length < speakerCount) throw new VoxkitError('E_USAGE', `only ${chosen.length} distinct voice groups for ${speakerCount} speakers`);
  }
  chosen = chosen.slice(0, speakerCount);

  const order: string[] = rng.shuffle([...chosen]);
  while (order.length < options.turns) {
    const previous = order[order.length - 1];
    const others = chosen.length > 1 ? chosen.filter((s) => s !== previous) : chosen;
    order.push(others[rng.int(others.length)]);
  }

  const queues = new Map<string, number[]>();
  const nextUtterance = (speaker: string): number => {
    let queue = queues.get(speaker);
    if (!queue || queue.length === 0) {
      queue = rng.shuffle([...bySpeaker.get(speaker)!]);
      queues.set(speaker, queue);
    }
    return queue.pop()!;
  };

  const uniform = (range: readonly [number, number]) => range[0] + (range[1] - range[0]) * rng.uniform();
  const pieces: Array<{ samples: Float32Array; at: number; turn: ConversationTurn }> = [];
  let cursor = 0;
  let previousLength = 0;
  for (const speaker of order) {
    const index = nextUtterance(speaker);
    let samples = utterances[index].samples;
    let extent = voicedExtent(samples, sr);
    samples = samples.subarray(extent.start, extent.end);
    if (samples.length > maxTurnSec * sr) {
      const length = Math.round(uniform([minTurnSec, maxTurnSec]) * sr);
      const offset = rng.int(samples.length - length + 1);
      samples = samples.subarray(offset, offset + length);
      // A crop may begin or end in a pause between words.
      extent = voicedExtent(samples, sr);
      samples = samples.subarray(extent.start, extent.end);
    }
    if (samples.length === 0) continue;
    let at: number;
    if (pieces.length === 0) at = Math.round(uniform(pauseSec) * sr);
    else if (rng.uniform() < overlapProbability) {
      const overlap = Math.round(Math.min(uniform(overlapSec) * sr, previousLength / 2, samples.length / 2));
      at = cursor - overlap;
    } else at = cursor + Math.round(uniform(pauseSec) * sr);
    const turn: ConversationTurn = { start: at / sr, end: (at + samples.length) / sr, speaker, utterance: index, id: utterances[index].id };
    pieces.push({ samples, at, turn });
    cursor = Math.max(cursor, at + samples.length);
    previousLength = samples.length;
  }
  const total = cursor + Math.round(uniform(pauseSec) * sr);
  const out = new Float32Array(total);
  if (Number.isFinite(noiseDbfs)) {
    const amplitude = 10 ** (noiseDbfs / 20);
    for (let i = 0; i < total; i++) out[i] = amplitude * rng.normal();
  }
  for (const { samples, at } of pieces) for (let i = 0; i < samples.length; i++) out[at + i] += samples[i];
  const speakers: string[] = [];
  for (const { turn } of pieces) if (!speakers.includes(turn.speaker)) speakers.push(turn.speaker);
  return { samples: out, sampleRateHz: sr, speakers, turns: pieces.map((p) => p.turn) };
}
