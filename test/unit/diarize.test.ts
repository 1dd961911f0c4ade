/**
 * Diarization building blocks on hand-made inputs: RTTM, the Hungarian assignment, DER (incl. a
 * permuted labelling, a missed segment, false alarm, overlap and the collar), speech-region
 * smoothing, windows, frame labels and segment smoothing, and the conversation builder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRttm, parseRttm, groupRttmByFile, type SpeakerTurn } from '../../src/diarize/rttm.js';
import { maxWeightAssignment } from '../../src/diarize/assignment.js';
import { diarizationErrorRate } from '../../src/diarize/der.js';
import { speechRegionsFromFlags } from '../../src/diarize/speech-activity.js';
import { slidingWindows } from '../../src/diarize/windows.js';
import { frameLabels, majorityFilter, labelRuns, smoothSegments, scoreSegments, windowsToSegments, type LabelledWindow } from '../../src/diarize/segments.js';
import { assembleConversation, voicedExtent } from '../../src/diarize/conversation.js';
import { centerEmbeddings, smoothAlongRegions, meanSilhouette, dissolveSmallClusters, type DiarizationResult } from '../../src/diarize/diarize.js';
import { matchEnrolledSpeakers, nameWithEnrolledSpeakers } from '../../src/diarize/naming.js';
import { VoxkitError } from '../../src/errors.js';
import { Random } from '../../src/core/random.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

test('RTTM: format → parse round trip, names with spaces, other line types and comments skipped', () => {
  const turns: SpeakerTurn[] = [
    { start: 3.25, end: 7.5, speaker: 'Ada Lovelace' },
    { start: 0.5, end: 3.0, speaker: 'spk2' },
  ];
  const text = formatRttm('my meeting', turns);
  assert.equal(text.split('\n')[0], 'SPEAKER my_meeting 1 0.500 2.500 <NA> <NA> spk2 <NA> <NA>');
  const parsed = parseRttm(`;; comment\nSPKR-INFO my_meeting 1 <NA> <NA> <NA> unknown spk2 <NA>\n\n${text}`);
  assert.equal(parsed.length, 2);
  assert.deepEqual(
    parsed.map((r) => [r.file, r.channel, r.start, r.end, r.speaker]),
    [
      ['my_meeting', 1, 0.5, 3.0, 'spk2'],
      ['my_meeting', 1, 3.25, 7.5, 'Ada_Lovelace'],
    ],
  );
  const two = parseRttm(`${formatRttm('a', turns)}${formatRttm('b', turns.slice(0, 1))}`);
  assert.deepEqual([...groupRttmByFile(two)].map(([f, r]) => [f, r.length]), [['a', 2], ['b', 1]]);
  assert.throws(() => parseRttm('SPEAKER f 1 abc 1.0 <NA> <NA> s <NA> <NA>', 'x.rttm'), (e: unknown) => e instanceof VoxkitError && /x\.rttm: line 1/.test(e.message));
  assert.throws(() => parseRttm('SPEAKER f 1 0.0'), VoxkitError);
});

test('Hungarian assignment: optimum, not greedy; rectangular both ways', () => {
  // Greedy would take 10 (row 0 → col 0) and then 1; the optimum is 9 + 8.
  assert.deepEqual([...maxWeightAssignment([[10, 9], [8, 1]])], [1, 0]);
  const rng = new Random(3);
  for (let trial = 0; trial < 30; trial++) {
    const rows = 1 + rng.int(5);
    const cols = 1 + rng.int(5);
    const w = Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.round(rng.uniform() * 20)));
    const got = maxWeightAssignment(w);
    const total = (a: ArrayLike<number>) => Array.from(a).reduce((s, c, r) => s + (c >= 0 ? w[r][c] : 0), 0);
    // Brute force over injective maps of the smaller side.
    let best = -Infinity;
    const used = new Set<number>();
    const assign: number[] = [];
    const search = (r: number) => {
      if (r === rows) {
        best = Math.max(best, total(assign));
        return;
      }
      let any = false;
      for (let c = 0; c < cols; c++) {
        if (used.has(c)) continue;
        any = true;
        used.add(c);
        assign[r] = c;
        search(r + 1);
        used.delete(c);
      }
      if (!any || rows > cols) {
        assign[r] = -1;
        search(r + 1);
      }
    };
    search(0);
    assert.equal(total(got), best, JSON.stringify(w));
    const matched = Array.from(got).filter((c) => c >= 0);
    assert.equal(new Set(matched).size, matched.length, 'columns used once');
    assert.equal(matched.length, Math.min(rows, cols));
  }
});

const REF: SpeakerTurn[] = [
  { start: 0, end: 4, speaker: 'alice' },
  { start: 5, end: 8, speaker: 'bob' },
  { start: 9, end: 12, speaker: 'alice' },
];

test('DER: a perfect but permuted labelling scores 0 and is mapped back', () => {
  const hyp = REF.map((t) => ({ ...t, speaker: t.speaker === 'alice' ? 'B' : 'A' }));
  const r = diarizationErrorRate(REF, hyp);
  assert.equal(r.der, 0);
  close(r.referenceSpeech, 10);
  assert.equal(r.mapping.get('B'), 'alice');
  assert.equal(r.mapping.get('A'), 'bob');
});

test('DER: a missed segment, a false alarm and a confused stretch', () => {
  const missed = diarizationErrorRate(REF, REF.slice(0, 2));
  close(missed.missedSpeech, 3);
  close(missed.der, 3 / 10);
  // bob's turn given to alice's label: 3 s confusion; 1 s of speech in a pause: false alarm.
  const hyp = [
    { start: 0, end: 4, speaker: 'x' },
    { start: 4, end: 5, speaker: 'x' },
    { start: 5, end: 8, speaker: 'x' },
    { start: 9, end: 12, speaker: 'x' },
  ];
  const r = diarizationErrorRate(REF, hyp);
  close(r.falseAlarm, 1);
  close(r.confusion, 3);
  close(r.missedSpeech, 0);
  close(r.der, 4 / 10);
  // bob's turn ends 0.5 s late (false alarm in the pause) and alice's starts 0.5 s early inside it
  // under bob's label (confusion).
  const late = diarizationErrorRate(REF, [
    { start: 0, end: 4, speaker: 'a' },
    { start: 5, end: 8.5, speaker: 'b' },
    { start: 9, end: 9.5, speaker: 'b' },
    { start: 9.5, end: 12, speaker: 'a' },
  ]);
  close(late.falseAlarm, 0.5);
  close(late.confusion, 0.5);
  close(late.der, 1 / 10);
});

test('DER: overlapped reference speech counts per speaker; the collar forgives boundaries', () => {
  const overlapRef: SpeakerTurn[] = [
    { start: 0, end: 6, speaker: 'a' },
    { start: 4, end: 10, speaker: 'b' },
  ];
  // One speaker at a time: the overlap's second speaker is missed (2 s of 12 s reference speech).
  const r = diarizationErrorRate(overlapRef, [
    { start: 0, end: 5, speaker: 'p' },
    { start: 5, end: 10, speaker: 'q' },
  ]);
  close(r.referenceSpeech, 12);
  close(r.missedSpeech, 2);
  close(r.confusion, 0);
  // Boundaries off by 0.2 s: errors without a collar, none with 0.25 s.
  const shifted = REF.map((t) => ({ start: t.start + 0.2, end: t.end + 0.2, speaker: t.speaker }));
  assert.ok(diarizationErrorRate(REF, shifted).der > 0);
  assert.equal(diarizationErrorRate(REF, shifted, { collar: 0.25 }).der, 0);
  assert.equal(diarizationErrorRate([], []).der, 0);
  assert.equal(diarizationErrorRate([], REF).der, Infinity);
  assert.throws(() => diarizationErrorRate(REF, REF, { collar: -1 }), VoxkitError);
});

test('speech regions: short pauses bridged, blips dropped, padding clipped to the recording', () => {
  const frame = 0.01;
  const flags = new Uint8Array(300);
  flags.fill(1, 10, 100); // 0.10–1.00
  flags.fill(1, 110, 150); // pause 0.1 s → bridged
  flags.fill(1, 200, 205); // 0.05 s blip → dropped
  flags.fill(1, 250, 300); // to the end
  assert.deepEqual(speechRegionsFromFlags(flags, frame, 3, { minSilenceSec: 0.2, minSpeechSec: 0.2, padSec: 0 }).map((r) => [r.start, r.end].map((x) => +x.toFixed(6))), [
    [0.1, 1.5],
    [2.5, 3],
  ]);
  const padded = speechRegionsFromFlags(flags, frame, 3, { minSilenceSec: 0.2, minSpeechSec: 0.2, padSec: 0.2 });
  assert.deepEqual(padded.map((r) => [r.start, r.end].map((x) => +x.toFixed(6))), [
    [0, 1.7],
    [2.3, 3],
  ]);
});

test('windows: 1.5 s every 0.75 s, last aligned to the region end, short regions get one window', () => {
  const w = slidingWindows([{ start: 1, end: 4.2 }, { start: 5, end: 5.8 }]);
  assert.deepEqual(
    w.map((x) => [+x.start.toFixed(6), +x.end.toFixed(6), x.region]),
    [
      [1, 2.5, 0],
      [1.75, 3.25, 0],
      [2.5, 4, 0],
      [2.7, 4.2, 0],
      [5, 5.8, 1],
    ],
  );
  // Exactly k hops: no duplicate last window.
  assert.equal(slidingWindows([{ start: 0, end: 3 }]).length, 3);
  assert.equal(slidingWindows([{ start: 0, end: 3 }], { windowSec: 1, hopSec: 1 }).length, 3);
  assert.throws(() => slidingWindows([], { hopSec: 0 }), VoxkitError);
});

function lw(start: number, end: number, label: number, confidence = 1, region = 0): LabelledWindow {
  return { start, end, label, confidence, region };
}

test('frame labels: majority of covering windows, nearest centre on ties, −1 outside speech', () => {
  const windows = [lw(0, 1, 0), lw(0.5, 1.5, 1), lw(1, 2, 1)];
  const labels = frameLabels(windows, [{ start: 0, end: 2 }], 2.5, 0.1);
  // 0–0.5: only window 0; 0.5–1: one vote each → the nearer centre (0.5 or 1.0), switching at 0.75;
  // 1–2: two votes for 1; 2–2.5: silence.
  assert.deepEqual([...labels], [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1]);
});

test('majority filter removes flicker but keeps silence; runs become segments', () => {
  const labels = Int32Array.from([0, 0, 0, 1, 0, 0, 0, -1, -1, 1, 1, 1, 1]);
  const filtered = majorityFilter(labels, 3);
  assert.deepEqual([...filtered], [0, 0, 0, 0, 0, 0, 0, -1, -1, 1, 1, 1, 1]);
  assert.deepEqual(labelRuns(filtered, 0.5), [
    { start: 0, end: 3.5, label: 0 },
    { start: 4.5, end: 6.5, label: 1 },
  ]);
});

test('segment smoothing: same-speaker gaps merged, short segments absorbed or dropped', () => {
  const out = smoothSegments(
    [
      { start: 0, end: 3, label: 0 },
      { start: 3.2, end: 5, label: 0 }, // gap 0.2 → merged
      { start: 5, end: 5.3, label: 1 }, // short → absorbed into the longer neighbour
      { start: 5.3, end: 6, label: 2 },
      { start: 9, end: 9.2, label: 1 }, // short and isolated → dropped
    ],
    { mergeGapSec: 0.5, minSegmentSec: 0.5 },
  );
  assert.deepEqual(out, [
    { start: 0, end: 5.3, label: 0 },
    { start: 5.3, end: 6, label: 2 },
  ]);
});

test('segment confidence: overlap-weighted agreement of the windows; the pipeline flags nothing on a clean labelling', () => {
  const windows = [lw(0, 2, 0, 0.9), lw(1, 3, 0, 0.7), lw(2, 4, 1, 0.8)];
  const [s] = scoreSegments([{ start: 0, end: 3, label: 0 }], windows);
  // Window overlaps 2, 2 and 1 s; the third disagrees and counts 0.
  close(s.confidence, (2 * 0.9 + 2 * 0.7) / 5);
  const segments = windowsToSegments([lw(0, 1.5, 0), lw(0.75, 2.25, 0), lw(3, 4.5, 1, 1, 1), lw(3.75, 5.25, 1, 1, 1)], [{ start: 0, end: 2.25 }, { start: 3, end: 5.25 }], 6);
  assert.deepEqual(segments.map((x) => [+x.start.toFixed(6), +x.end.toFixed(6), x.label, x.confidence]), [
    [0, 2.25, 0, 1],
    [3, 5.25, 1, 1],
  ]);
});

test('embedding centring and smoothing stay within regions', () => {
  const e = [Float32Array.of(1, 0.1), Float32Array.of(1, -0.1), Float32Array.of(1, 0.12)];
  const centred = centerEmbeddings(e);
  // The shared first dimension disappears: what is left points up or down.
  assert.ok(centred[0][1] > 0.9 && centred[1][1] < -0.9);
  const windows = [
    { start: 0, end: 1, region: 0 },
    { start: 0.5, end: 1.5, region: 0 },
    { start: 3, end: 4, region: 1 },
  ];
  const smoothed = smoothAlongRegions([Float32Array.of(1, 0), Float32Array.of(0, 1), Float32Array.of(1, 0)], windows, 1);
  close(smoothed[0][0], Math.SQRT1_2, 1e-6);
  close(smoothed[2][0], 1, 1e-6); // its only neighbour is in another region
});

test('conversation builder: exact turns, every speaker speaks, no overlap by default, seeded', () => {
  const sr = 8000;
  const tone = (f: number, sec: number) => {
    const x = new Float32Array(Math.round(sec * sr));
    // 0.25 s of silence on both sides, which the builder trims.
    for (let i = 0.25 * sr; i < x.length - 0.25 * sr; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * f * i) / sr);
    return x;
  };
  const utterances = ['a', 'b', 'c'].flatMap((speaker, s) => [0, 1, 2].map((u) => ({ speaker, samples: tone(200 + 100 * s + 10 * u, 2 + u), id: `${speaker}${u}` })));
  const extent = voicedExtent(utterances[0].samples, sr);
  assert.equal(extent.start, 0.25 * sr);
  assert.equal(extent.end, utterances[0].samples.length - 0.25 * sr);

  const conv = assembleConversation(utterances, { seed: 5, turns: 8, sampleRateHz: sr, pauseSec: [0.3, 0.6] });
  assert.equal(conv.turns.length, 8);
  assert.deepEqual([...conv.speakers].sort(), ['a', 'b', 'c']);
  for (let i = 1; i < conv.turns.length; i++) {
    const gap = conv.turns[i].start - conv.turns[i - 1].end;
    assert.ok(gap >= 0.3 - 1e-9 && gap <= 0.6 + 1e-9, `pause ${gap}`);
    assert.notEqual(conv.turns[i].speaker, conv.turns[i - 1].speaker);
  }
  // Inside a turn the audio is the utterance's voiced part; in pauses only faint noise.
  const t = conv.turns[2];
  const src = utterances[t.utterance].samples.subarray(0.25 * sr);
  const at = Math.round(t.start * sr);
  for (let i = 0; i < 100; i++) close(conv.samples[at + i], src[i], 5e-3);
  const pauseSample = Math.round(((conv.turns[2].end + conv.turns[3].start) / 2) * sr);
  assert.ok(Math.abs(conv.samples[pauseSample]) < 0.01);
  const again = assembleConversation(utterances, { seed: 5, turns: 8, sampleRateHz: sr, pauseSec: [0.3, 0.6] });
  assert.deepEqual(again.turns, conv.turns);
  assert.notDeepEqual(assembleConversation(utterances, { seed: 6, turns: 8, sampleRateHz: sr }).turns, conv.turns);

  const two = assembleConversation(utterances, { seed: 1, turns: 6, speakers: 2, sampleRateHz: sr, overlapProbability: 1, overlapSec: [0.5, 0.5] });
  assert.equal(two.speakers.length, 2);
  for (let i = 1; i < two.turns.length; i++) close(two.turns[i - 1].end - two.turns[i].start, 0.5, 1 / sr);
  assert.throws(() => assembleConversation(utterances, { seed: 1, turns: 2, sampleRateHz: sr }), VoxkitError);
});

const unit = (...v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
};

test('silhouette prefers the true grouping; small clusters are dissolved into the nearest one', () => {
  const e = [unit(1, 0.1, 0), unit(1, -0.1, 0), unit(0, 1, 0.1), unit(0.1, 1, 0), unit(0.05, 0.1, 1)];
  const right = meanSilhouette(e, Int32Array.from([0, 0, 1, 1, 2]));
  const wrong = meanSilhouette(e, Int32Array.from([0, 1, 0, 1, 2]));
  assert.ok(right > 0.5 && wrong < 0, `${right} vs ${wrong}`);
  assert.equal(meanSilhouette(e, new Int32Array(5)), 0);
  const labels = Int32Array.from([0, 0, 0, 1, 1, 1, 2]);
  const points = [unit(1, 0), unit(1, 0.1), unit(1, -0.1), unit(0, 1), unit(0.1, 1), unit(-0.1, 1), unit(0.2, 1)];
  dissolveSmallClusters(points, labels, 2);
  assert.deepEqual([...labels], [0, 0, 0, 1, 1, 1, 1]);
});

test('naming: one enrolled name per cluster (best total score), unknown below the threshold', () => {
  const result = {
    speakers: [
      { name: 'spk1', cluster: 0, centroid: unit(1, 0, 0), speechSec: 5 },
      { name: 'spk2', cluster: 1, centroid: unit(0.95, 0.31, 0), speechSec: 3 },
      { name: 'spk3', cluster: 2, centroid: unit(0, 0, 1), speechSec: 2 },
    ],
    segments: [
      { start: 0, end: 5, speaker: 'spk1', cluster: 0, confidence: 1, review: false },
      { start: 5, end: 8, speaker: 'spk2', cluster: 1, confidence: 1, review: false },
      { start: 8, end: 10, speaker: 'spk3', cluster: 2, confidence: 1, review: false },
    ],
  } as unknown as DiarizationResult;
  const enrolled = [
    { name: 'ana', centroid: unit(1, 0.05, 0), embeddings: [], sources: [] },
    { name: 'ben', centroid: unit(0.6, 0.8, 0), embeddings: [], sources: [] },
  ];
  // Both clusters score best against ana (spk1 1.00, spk2 0.96); one name per cluster, and the
  // larger total (1.00 + 0.82 against 0.60 + 0.96) gives ana to spk1 and ben to spk2.
  const names = matchEnrolledSpeakers(result, enrolled, 0.5);
  assert.equal(names.get(0)?.name, 'ana');
  assert.equal(names.get(1)?.name, 'ben');
  assert.equal(names.has(2), false);
  const renamed = nameWithEnrolledSpeakers(result, enrolled, 0.5);
  assert.deepEqual(renamed.segments.map((s) => s.speaker), ['ana', 'ben', 'spk3']);
  assert.deepEqual(renamed.speakers.map((s) => s.name), ['ana', 'ben', 'spk3']);
  // A threshold above every score names nobody.
  assert.equal(matchEnrolledSpeakers(result, enrolled, 0.999).size, 0);
});
