/**
 * Naming diarized speakers after enrolled ones: each cluster's mean embedding is scored against
 * every enrolled speaker (identifyEmbedding), then clusters and enrolled speakers are paired one to
 * one to maximise the total score (two clusters never get the same name), and a pair is kept only
 * when its score reaches the open-set threshold. No Node APIs.
 */
import { identifyEmbedding, type EnrolledSpeaker } from '../speakers/identify.js';
import { maxWeightAssignment } from './assignment.js';
import { renameSpeakers, type DiarizationResult } from './diarize.js';

export interface SpeakerNaming {
  name: string;
  score: number;
}

/** Cluster → enrolled name (and score) for the clusters that matched someone. */
export function matchEnrolledSpeakers(result: DiarizationResult, enrolled: readonly EnrolledSpeaker[], threshold: number): Map<number, SpeakerNaming> {
  const names = new Map<number, SpeakerNaming>();
  if (enrolled.length === 0 || result.speakers.length === 0) return names;
  const order = enrolled.map((s) => s.name);
  const scores = result.speakers.map((speaker) => {
    const { ranked } = identifyEmbedding(enrolled, speaker.centroid, { threshold });
    const byName = new Map(ranked.map((r) => [r.name, r.score]));
    return order.map((name) => byName.get(name)!);
  });
  const pairs = maxWeightAssignment(scores);
  pairs.forEach((column, row) => {
    if (column < 0 || scores[row][column] < threshold) return;
    names.set(result.speakers[row].cluster, { name: order[column], score: scores[row][column] });
  });
  return names;
}

/** `result` with matched clusters renamed after the enrolled speakers (others keep spk1, spk2, …). */
export function nameWithEnrolledSpeakers(result: DiarizationResult, enrolled: readonly EnrolledSpeaker[], threshold: number): DiarizationResult {
  return renameSpeakers(result, matchEnrolledSpeakers(result, enrolled, threshold));
}
