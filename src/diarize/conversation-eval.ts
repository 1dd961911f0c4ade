/**
 * Scoring diarization on assembled conversations (conversation.ts): the measurement behind the
 * diarization test and bench/diarization.ts. No Node APIs.
 */
import { Random } from '../core/random.js';
import type { SpeakerEncoder } from '../models/encoder.js';
import type { EmbeddingStrategy } from '../models/registry.js';
import { assembleConversation, type Conversation, type ConversationOptions, type ConversationUtterance } from './conversation.js';
import { diarizationErrorRate } from './der.js';
import { diarizeWaveform, type DiarizeOptions } from './diarize.js';

export interface ConversationSetOptions extends Omit<ConversationOptions, 'seed' | 'turns' | 'speakers'> {
  seed: number;
  /** Conversations per speaker count. */
  perCount: number;
  /** Default [2, 3, 4]. */
  speakerCounts?: readonly number[];
  /** Turns drawn uniformly from [min, max]. Default [8, 12]. */
  turns?: readonly [number, number];
}

/** A reproducible set of conversations: `perCount` for each speaker count. */
export function assembleConversationSet(utterances: readonly ConversationUtterance[], options: ConversationSetOptions): Conversation[] {
  const rng = new Random(options.seed);
  const [minTurns, maxTurns] = options.turns ?? [8, 12];
  const out: Conversation[] = [];
  for (const speakers of options.speakerCounts ?? [2, 3, 4]) {
    for (let i = 0; i < options.perCount; i++) {
      const turns = Math.max(speakers, minTurns + rng.int(maxTurns - minTurns + 1));
      out.push(assembleConversation(utterances, { ...options, seed: rng.nextUint32(), turns, speakers }));
    }
  }
  return out;
}

export interface ConversationScore {
  speakers: number;
  estimatedSpeakers: number;
  /** DER without and with a 0.25 s collar. */
  der: number;
  derCollar: number;
  /** Shares of the reference speech (collar 0). */
  missed: number;
  falseAlarm: number;
  confusion: number;
  durationSec: number;
  /** Wall-clock seconds of diarizeWaveform. */
  elapsedSec: number;
}

export async function scoreConversation(
  encoder: SpeakerEncoder,
  strategy: EmbeddingStrategy,
  conversation: Conversation,
  options: DiarizeOptions = {},
): Promise<ConversationScore> {
  const started = performance.now();
  const result = await diarizeWaveform(encoder, strategy, conversation.samples, options);
  const elapsedSec = (performance.now() - started) / 1000;
  const exact = diarizationErrorRate(conversation.turns, result.segments);
  const collar = diarizationErrorRate(conversation.turns, result.segments, { collar: 0.25 });
  const total = exact.referenceSpeech;
  return {
    speakers: conversation.speakers.length,
    estimatedSpeakers: result.speakers.length,
    der: exact.der,
    derCollar: collar.der,
    missed: exact.missedSpeech / total,
    falseAlarm: exact.falseAlarm / total,
    confusion: exact.confusion / total,
    durationSec: conversation.samples.length / conversation.sampleRateHz,
    elapsedSec,
  };
}

export interface ScoreSummary {
  /** 'all' or a speaker count. */
  speakers: number | 'all';
  conversations: number;
  meanDer: number;
  meanDerCollar: number;
  missed: number;
  falseAlarm: number;
  confusion: number;
  /** Share of conversations whose speaker count was found exactly. */
  countAccuracy: number;
  /** Processing time over audio time. */
  realTimeFactor: number;
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

export function summarizeScores(scores: readonly ConversationScore[]): ScoreSummary[] {
  const groups = [...new Set(scores.map((s) => s.speakers))].sort((a, b) => a - b).map((k) => [k, scores.filter((s) => s.speakers === k)] as const);
  const summary = (speakers: number | 'all', list: readonly ConversationScore[]): ScoreSummary => ({
    speakers,
    conversations: list.length,
    meanDer: mean(list.map((s) => s.der)),
    meanDerCollar: mean(list.map((s) => s.derCollar)),
    missed: mean(list.map((s) => s.missed)),
    falseAlarm: mean(list.map((s) => s.falseAlarm)),
    confusion: mean(list.map((s) => s.confusion)),
    countAccuracy: mean(list.map((s) => (s.estimatedSpeakers === s.speakers ? 1 : 0))),
    realTimeFactor: list.reduce((s, x) => s + x.elapsedSec, 0) / Math.max(1e-9, list.reduce((s, x) => s + x.durationSec, 0)),
  });
  return [...groups.map(([k, list]) => summary(k, list)), summary('all', scores)];
}

/** A markdown table of summaries. */
export function formatScoreTable(rows: readonly ScoreSummary[], label = 'speakers'): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const lines = [
    `| ${label} | conversations | DER | DER (collar 0.25 s) | missed | false alarm | confusion | count correct | real-time factor |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.speakers} | ${r.conversations} | ${pct(r.meanDer)} | ${pct(r.meanDerCollar)} | ${pct(r.missed)} | ${pct(r.falseAlarm)} | ${pct(r.confusion)} | ${pct(r.countAccuracy)} | ${r.realTimeFactor.toFixed(3)} |`),
  ];
  return `${lines.join('\n')}\n`;
}
