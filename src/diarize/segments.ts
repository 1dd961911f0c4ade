/**
 * From clustered windows to speaker segments: every 10 ms frame of speech takes the label most of
 * the windows covering it carry (ties: the window whose centre is nearest), a sliding majority
 * ("median") filter removes label flicker, runs become segments, same-speaker segments separated by
 * a short pause are merged and segments too short to trust are absorbed into a neighbour.
 * No Node APIs.
 */
import { VoxkitError } from '../errors.js';
import type { SpeechRegion } from './speech-activity.js';
import type { AnalysisWindow } from './windows.js';

export interface LabelledWindow extends AnalysisWindow {
  /** Cluster index ≥ 0. */
  label: number;
  /** How sure the clustering is of this label, 0…1. */
  confidence: number;
}

export interface SegmentSmoothingOptions {
  /** Frame step of the label track. Default 0.01 s. */
  frameSec?: number;
  /** Width of the majority filter over speech frames; 0 disables it. Default 0.5 s. */
  filterSec?: number;
  /** Same-speaker segments separated by at most this pause are joined. Default 0.5 s. */
  mergeGapSec?: number;
  /** Segments shorter than this are absorbed into an adjacent segment (or dropped when isolated). Default 0.5 s. */
  minSegmentSec?: number;
}

export interface ClusterSegment {
  start: number;
  end: number;
  /** Cluster index. */
  label: number;
}

export interface ScoredSegment extends ClusterSegment {
  /** Overlap-weighted mean over the windows overlapping the segment: their confidence when they agree with its label, 0 when they do not. */
  confidence: number;
}

export const DEFAULT_SEGMENT_SMOOTHING: Required<SegmentSmoothingOptions> = { frameSec: 0.01, filterSec: 0.5, mergeGapSec: 0.5, minSegmentSec: 0.5 };

/**
 * Per-frame labels: −1 outside speech, otherwise the majority label of the covering windows.
 *
 * @param durationSec length of the recording
 * @returns [⌈durationSec / frameSec⌉] labels
 */
export function frameLabels(windows: readonly LabelledWindow[], regions: readonly SpeechRegion[], durationSec: number, frameSec = DEFAULT_SEGMENT_SMOOTHING.frameSec): Int32Array {
  if (!(frameSec > 0)) throw new VoxkitError('E_USAGE', `frameSec must be positive, got ${frameSec}`);
  const frames = Math.ceil(durationSec / frameSec - 1e-9);
  const labels = new Int32Array(frames).fill(-1);
  const numLabels = windows.reduce((m, w) => Math.max(m, w.label + 1), 0);
  const votes = new Float64Array(numLabels);
  const byRegion = new Map<number, LabelledWindow[]>();
  for (const w of windows) {
    const list = byRegion.get(w.region) ?? [];
    list.push(w);
    byRegion.set(w.region, list);
  }
  regions.forEach((region, r) => {
    const own = byRegion.get(r) ?? [];
    if (own.length === 0) return;
    const first = Math.max(0, Math.floor(region.start / frameSec + 1e-9));
    const last = Math.min(frames, Math.ceil(region.end / frameSec - 1e-9));
    for (let f = first; f < last; f++) {
      const t = (f + 0.5) * frameSec;
      votes.fill(0);
      let nearest = own[0];
      let nearestDistance = Infinity;
      for (const w of own) {
        const distance = Math.abs((w.start + w.end) / 2 - t);
        if (distance < nearestDistance) {
          nearestDistance = distance;
          nearest = w;
        }
        if (t >= w.start && t < w.end) votes[w.label]++;
      }
      let best = nearest.label;
      for (let l = 0; l < numLabels; l++) if (votes[l] > votes[best]) best = l;
      labels[f] = best;
    }
  });
  return labels;
}

/**
 * Majority filter over speech frames: each speech frame takes the most frequent label among the
 * speech frames within ±width/2 (it keeps its own label on a tie). Non-speech frames stay −1.
 */
export function majorityFilter(labels: Int32Array, widthFrames: number): Int32Array {
  const half = Math.floor(widthFrames / 2);
  if (half <= 0) return labels.slice();
  const numLabels = labels.reduce((m, l) => Math.max(m, l + 1), 0);
  const counts = new Int32Array(numLabels);
  const out = labels.slice();
  const n = labels.length;
  // Sliding counts: add the frame entering on the right, remove the one leaving on the left.
  for (let k = 0; k <= Math.min(n - 1, half); k++) if (labels[k] >= 0) counts[labels[k]]++;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const entering = i + half;
      const leaving = i - half - 1;
      if (entering < n && labels[entering] >= 0) counts[labels[entering]]++;
      if (leaving >= 0 && labels[leaving] >= 0) counts[labels[leaving]]--;
    }
    const own = labels[i];
    if (own < 0) continue;
    let best = own;
    for (let l = 0; l < numLabels; l++) if (counts[l] > counts[best]) best = l;
    out[i] = best;
  }
  return out;
}

/** Runs of equal non-negative labels as segments. */
export function labelRuns(labels: Int32Array, frameSec: number, durationSec = Infinity): ClusterSegment[] {
  const segments: ClusterSegment[] = [];
  for (let i = 0; i < labels.length; ) {
    const label = labels[i];
    let j = i + 1;
    while (j < labels.length && labels[j] === label) j++;
    if (label >= 0) segments.push({ start: i * frameSec, end: Math.min(durationSec, j * frameSec), label });
    i = j;
  }
  return segments;
}

/**
 * Joins same-label neighbours across short pauses, then absorbs segments shorter than
 * `minSegmentSec` into the longer touching neighbour (within `mergeGapSec`), shortest first;
 * short segments with no neighbour that close are dropped.
 */
export function smoothSegments(segments: readonly ClusterSegment[], options: SegmentSmoothingOptions = {}): ClusterSegment[] {
  const mergeGapSec = options.mergeGapSec ?? DEFAULT_SEGMENT_SMOOTHING.mergeGapSec;
  const minSegmentSec = options.minSegmentSec ?? DEFAULT_SEGMENT_SMOOTHING.minSegmentSec;
  let list = mergeSameLabel(
    [...segments].sort((a, b) => a.start - b.start).map((s) => ({ ...s })),
    mergeGapSec,
  );
  for (;;) {
    let shortest = -1;
    for (let i = 0; i < list.length; i++) {
      const d = list[i].end - list[i].start;
      if (d < minSegmentSec && (shortest < 0 || d < list[shortest].end - list[shortest].start)) shortest = i;
    }
    if (shortest < 0) break;
    const s = list[shortest];
    const prev = shortest > 0 && s.start - list[shortest - 1].end <= mergeGapSec ? list[shortest - 1] : undefined;
    const next = shortest + 1 < list.length && list[shortest + 1].start - s.end <= mergeGapSec ? list[shortest + 1] : undefined;
    const target = prev && next ? (prev.end - prev.start >= next.end - next.start ? prev : next) : (prev ?? next);
    if (target) {
      // The absorbing neighbour takes over the short segment's time up to its own edge.
      if (target === prev) prev.end = s.end;
      else next!.start = s.start;
    }
    list.splice(shortest, 1);
    list = mergeSameLabel(list, mergeGapSec);
  }
  return list;
}

function mergeSameLabel(sorted: ClusterSegment[], mergeGapSec: number): ClusterSegment[] {
  const out: ClusterSegment[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && last.label === s.label && s.start - last.end <= mergeGapSec) last.end = Math.max(last.end, s.end);
    else out.push(s);
  }
  return out;
}

/** Adds each segment's confidence from the windows that overlap it. */
export function scoreSegments(segments: readonly ClusterSegment[], windows: readonly LabelledWindow[]): ScoredSegment[] {
  return segments.map((s) => {
    let weighted = 0;
    let weight = 0;
    for (const w of windows) {
      const overlap = Math.min(s.end, w.end) - Math.max(s.start, w.start);
      if (overlap <= 0) continue;
      weight += overlap;
      if (w.label === s.label) weighted += overlap * w.confidence;
    }
    return { ...s, confidence: weight > 0 ? weighted / weight : 0 };
  });
}

/** The whole chain: windows → frame labels → majority filter → runs → merged, scored segments. */
export function windowsToSegments(
  windows: readonly LabelledWindow[],
  regions: readonly SpeechRegion[],
  durationSec: number,
  options: SegmentSmoothingOptions = {},
): ScoredSegment[] {
  const frameSec = options.frameSec ?? DEFAULT_SEGMENT_SMOOTHING.frameSec;
  const filterSec = options.filterSec ?? DEFAULT_SEGMENT_SMOOTHING.filterSec;
  if (!(filterSec >= 0)) throw new VoxkitError('E_USAGE', `filterSec must be ≥ 0, got ${filterSec}`);
  const labels = majorityFilter(frameLabels(windows, regions, durationSec, frameSec), Math.round(filterSec / frameSec));
  const segments = smoothSegments(labelRuns(labels, frameSec, durationSec), options);
  return scoreSegments(segments, windows);
}
