/**
 * Diarization error rate, as NIST md-eval and pyannote.metrics define it:
 *
 *   DER = (missed speech + false alarm + speaker confusion) / total reference speech
 *
 * Time is cut into elementary intervals at every boundary. In an interval with N_ref reference
 * and N_hyp hypothesis speakers, of which N_correct are mapped pairs: missed = max(0, N_ref − N_hyp),
 * false alarm = max(0, N_hyp − N_ref), confusion = min(N_ref, N_hyp) − N_correct (each × its
 * duration). Hypothesis labels are arbitrary, so they are first mapped one-to-one onto reference
 * speakers to maximise the overlapping time (Hungarian algorithm). Overlapped speech counts once
 * per speaker. No Node APIs.
 */
import { VoxkitError } from '../errors.js';
import { maxWeightAssignment } from './assignment.js';
import type { SpeakerTurn } from './rttm.js';

export interface DerOptions {
  /**
   * Seconds around each reference turn boundary left out of scoring on both sides (NIST's "forgiveness
   * collar"; 0.25 s is customary for human references). Default 0: synthetic references are exact.
   */
  collar?: number;
}

export interface DerResult {
  /** (missed + falseAlarm + confusion) / referenceSpeech; 0 when both are empty, Infinity when only the reference is empty. */
  der: number;
  /** Seconds of reference speech scored (after the collar). */
  referenceSpeech: number;
  missedSpeech: number;
  falseAlarm: number;
  confusion: number;
  /** Hypothesis speaker → reference speaker it was mapped to (unmapped hypothesis speakers are absent). */
  mapping: Map<string, string>;
}

interface Interval {
  start: number;
  end: number;
}

/** Each speaker's turns as a sorted union of intervals. */
function turnsBySpeaker(turns: readonly SpeakerTurn[], what: string): Map<string, Interval[]> {
  const bySpeaker = new Map<string, Interval[]>();
  for (const t of turns) {
    if (!Number.isFinite(t.start) || !Number.isFinite(t.end) || t.end < t.start) {
      throw new VoxkitError('E_DATA', `${what} turn of ${t.speaker} has a bad time range [${t.start}, ${t.end}]`);
    }
    if (t.end === t.start) continue;
    const list = bySpeaker.get(t.speaker) ?? [];
    list.push({ start: t.start, end: t.end });
    bySpeaker.set(t.speaker, list);
  }
  for (const [speaker, list] of bySpeaker) bySpeaker.set(speaker, union(list));
  return bySpeaker;
}

function union(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.start <= last.end) last.end = Math.max(last.end, iv.end);
    else out.push({ ...iv });
  }
  return out;
}

/** Index of the first boundary ≥ t (boundaries sorted ascending). */
function lowerBound(boundaries: Float64Array, t: number): number {
  let lo = 0;
  let hi = boundaries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (boundaries[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Scores a hypothesis against a reference (both one recording's turns).
 */
export function diarizationErrorRate(reference: readonly SpeakerTurn[], hypothesis: readonly SpeakerTurn[], options: DerOptions = {}): DerResult {
  const collar = options.collar ?? 0;
  if (!(collar >= 0) || !Number.isFinite(collar)) throw new VoxkitError('E_USAGE', `collar must be a non-negative number of seconds, got ${collar}`);
  const ref = turnsBySpeaker(reference, 'reference');
  const hyp = turnsBySpeaker(hypothesis, 'hypothesis');
  const refNames = [...ref.keys()];
  const hypNames = [...hyp.keys()];

  const noScore: Interval[] = [];
  if (collar > 0) {
    for (const list of ref.values()) {
      for (const iv of list) {
        noScore.push({ start: iv.start - collar, end: iv.start + collar }, { start: iv.end - collar, end: iv.end + collar });
      }
    }
  }
  const noScoreUnion = union(noScore);

  const points: number[] = [];
  for (const map of [ref, hyp]) for (const list of map.values()) for (const iv of list) points.push(iv.start, iv.end);
  for (const iv of noScoreUnion) points.push(iv.start, iv.end);
  const boundaries = Float64Array.from(new Set(points)).sort();
  const intervals = Math.max(0, boundaries.length - 1);

  // Which speakers are active in each elementary interval (bit sets would cap the speaker count).
  const activity = (map: Map<string, Interval[]>, names: string[]) => {
    const active: number[][] = Array.from({ length: intervals }, () => []);
    names.forEach((name, s) => {
      for (const iv of map.get(name)!) {
        for (let k = lowerBound(boundaries, iv.start); k < intervals && boundaries[k] < iv.end; k++) active[k].push(s);
      }
    });
    return active;
  };
  const refActive = activity(ref, refNames);
  const hypActive = activity(hyp, hypNames);
  const scored = new Uint8Array(intervals).fill(1);
  for (const iv of noScoreUnion) {
    for (let k = lowerBound(boundaries, iv.start); k < intervals && boundaries[k] < iv.end; k++) scored[k] = 0;
  }

  const overlap = refNames.map(() => new Array<number>(hypNames.length).fill(0));
  for (let k = 0; k < intervals; k++) {
    if (!scored[k]) continue;
    const d = boundaries[k + 1] - boundaries[k];
    for (const r of refActive[k]) for (const h of hypActive[k]) overlap[r][h] += d;
  }
  const refToHyp = maxWeightAssignment(overlap);
  const mapping = new Map<string, string>();
  refToHyp.forEach((h, r) => {
    if (h >= 0) mapping.set(hypNames[h], refNames[r]);
  });

  let referenceSpeech = 0;
  let missedSpeech = 0;
  let falseAlarm = 0;
  let confusion = 0;
  for (let k = 0; k < intervals; k++) {
    if (!scored[k]) continue;
    const d = boundaries[k + 1] - boundaries[k];
    const nRef = refActive[k].length;
    const nHyp = hypActive[k].length;
    let nCorrect = 0;
    for (const r of refActive[k]) if (refToHyp[r] >= 0 && hypActive[k].includes(refToHyp[r])) nCorrect++;
    referenceSpeech += d * nRef;
    missedSpeech += d * Math.max(0, nRef - nHyp);
    falseAlarm += d * Math.max(0, nHyp - nRef);
    confusion += d * (Math.min(nRef, nHyp) - nCorrect);
  }
  const errors = missedSpeech + falseAlarm + confusion;
  const der = referenceSpeech > 0 ? errors / referenceSpeech : errors > 0 ? Infinity : 0;
  return { der, referenceSpeech, missedSpeech, falseAlarm, confusion, mapping };
}
