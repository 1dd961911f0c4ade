/**
 * Parity of the verification metrics with scikit-learn 1.2.1 and voxceleb_trainer's
 * tuneThreshold.py (metrics.json: every score set, every recorded call), and of RTVC's interpolated
 * EER with the value its GE2E loss returned (losses.json `rtvc_ge2e`). The metrics are pure float64
 * JavaScript, so no tfjs backend is involved.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeEer,
  computeErrorRates,
  computeMinDcf,
  interpolatedEer,
  rocCurve,
  tuneThresholdFromScore,
  verificationMetrics,
} from '../../src/eval/metrics.js';
import { fixtures } from '../helpers/fixtures.js';
import { assertClose } from '../helpers/close.js';
import { TOL } from './tolerances.js';

interface TuneCall {
  target_fa: number[];
  target_fr: number[] | null;
  tunedThreshold: number[][];
  eer: number;
  fpr: number[];
  fnr: number[];
}

interface MinDcfCall {
  p_target: number;
  c_miss: number;
  c_fa: number;
  min_dcf: number;
  threshold: number;
}

interface ScoreSet {
  n: number;
  scores: number[];
  labels: number[];
  roc_curve: { fpr: number[]; tpr: number[]; thresholds: number[] };
  tuneThresholdfromScore: Record<string, TuneCall>;
  ComputeErrorRates: { fnrs: number[]; fprs: number[]; thresholds: number[] };
  ComputeMinDcf: Record<string, MinDcfCall>;
}

const worst = { diff: 0 };

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  const report = assertClose(actual, expected, TOL.metric, label, { actual: [actual.length], expected: [expected.length] });
  worst.diff = Math.max(worst.diff, report.maxAbs);
}

function closeScalar(actual: number, expected: number, label: string): void {
  close([actual], [expected], label);
}

const sets = Object.entries(fixtures().section<{ sets: Record<string, ScoreSet> }>('metrics').sets);

describe('metrics parity (metrics.json)', () => {
  test('the fixture lists score sets with calls to check', () => {
    assert.ok(sets.length > 0, 'metrics.json has no score sets');
    for (const [name, set] of sets) {
      assert.equal(set.scores.length, set.n, `${name}: scores`);
      assert.equal(set.labels.length, set.n, `${name}: labels`);
      assert.ok(Object.keys(set.tuneThresholdfromScore).length > 0, `${name}: no tuneThresholdfromScore calls`);
      assert.ok(Object.keys(set.ComputeMinDcf).length > 0, `${name}: no ComputeMinDcf calls`);
    }
  });

  for (const [name, set] of sets) {
    describe(name, () => {
      test('rocCurve = sklearn roc_curve', () => {
        const roc = rocCurve(set.scores, set.labels);
        close(roc.fpr, set.roc_curve.fpr, `${name} fpr`);
        close(roc.tpr, set.roc_curve.tpr, `${name} tpr`);
        close(roc.thresholds, set.roc_curve.thresholds, `${name} thresholds`);
      });

      for (const [callName, call] of Object.entries(set.tuneThresholdfromScore)) {
        test(`tuneThresholdFromScore ${callName}`, () => {
          const tuned = tuneThresholdFromScore(set.scores, set.labels, call.target_fa, call.target_fr ?? undefined);
          assert.equal(tuned.tunedThreshold.length, call.tunedThreshold.length, `${name}/${callName}: rows`);
          call.tunedThreshold.forEach((row, i) => close(tuned.tunedThreshold[i], row, `${name}/${callName} tunedThreshold[${i}]`));
          closeScalar(tuned.eer, call.eer, `${name}/${callName} eer`);
          close(tuned.fpr, call.fpr, `${name}/${callName} fpr`);
          close(tuned.fnr, call.fnr, `${name}/${callName} fnr`);
          closeScalar(computeEer(set.scores, set.labels), call.eer, `${name} computeEer`);
        });
      }

      test('threshold at the EER = the ROC threshold where |fnr − fpr| is first smallest (voxkit eval prints it)', () => {
        // tuneThresholdfromScore's idxE = nanargmin |fnr − fpr| over the recorded ROC; its threshold is roc_curve's.
        const call = Object.values(set.tuneThresholdfromScore)[0];
        let eerIndex = 0;
        call.fnr.forEach((fnr, i) => {
          if (Math.abs(fnr - call.fpr[i]) < Math.abs(call.fnr[eerIndex] - call.fpr[eerIndex])) eerIndex = i;
        });
        const expected = set.roc_curve.thresholds[eerIndex];
        closeScalar(tuneThresholdFromScore(set.scores, set.labels, []).eerThreshold, expected, `${name} eerThreshold`);
        closeScalar(verificationMetrics(set.scores, set.labels).eerThreshold, expected, `${name} verificationMetrics.eerThreshold`);
        closeScalar(Math.max(call.fpr[eerIndex], call.fnr[eerIndex]) * 100, call.eer, `${name} eer at that index`);
      });

      test('computeErrorRates = ComputeErrorRates (stable sort)', () => {
        const rates = computeErrorRates(set.scores, set.labels);
        close(rates.fnrs, set.ComputeErrorRates.fnrs, `${name} fnrs`);
        close(rates.fprs, set.ComputeErrorRates.fprs, `${name} fprs`);
        close(rates.thresholds, set.ComputeErrorRates.thresholds, `${name} thresholds`);
      });

      for (const [callName, call] of Object.entries(set.ComputeMinDcf)) {
        test(`computeMinDcf ${callName}`, () => {
          const { fnrs, fprs, thresholds } = computeErrorRates(set.scores, set.labels);
          const [minDcf, threshold] = computeMinDcf(fnrs, fprs, thresholds, call.p_target, call.c_miss, call.c_fa);
          closeScalar(minDcf, call.min_dcf, `${name}/${callName} minDcf`);
          closeScalar(threshold, call.threshold, `${name}/${callName} threshold`);

          const summary = verificationMetrics(set.scores, set.labels, { pTarget: call.p_target, cMiss: call.c_miss, cFa: call.c_fa });
          closeScalar(summary.minDcf, call.min_dcf, `${name}/${callName} verificationMetrics.minDcf`);
          closeScalar(summary.minDcfThreshold, call.threshold, `${name}/${callName} verificationMetrics.minDcfThreshold`);
          const anyTuneCall = Object.values(set.tuneThresholdfromScore)[0];
          closeScalar(summary.eer, anyTuneCall.eer, `${name} verificationMetrics.eer`);
        });
      }
    });
  }
});

describe('RTVC interpolated EER (losses.json rtvc_ge2e)', () => {
  const entry = fixtures().section('losses').rtvc_ge2e as { sim_matrix: string; sim_matrix_layout: string; eer: number };

  test('interpolatedEer on the similarity matrix = roc_curve + interp1d + brentq', () => {
    assert.match(entry.sim_matrix_layout, /^\[speaker j of the utterance, utterance i, centroid k\]/);
    const sim = fixtures().array(entry.sim_matrix);
    const [speakers, utterances, centroids] = sim.shape;
    assert.equal(speakers, centroids, 'one centroid per speaker');
    // RTVC's labels: one-hot of the utterance's speaker over the centroids, flattened like the scores.
    const labels = new Float64Array(sim.data.length);
    for (let j = 0; j < speakers; j++) {
      for (let i = 0; i < utterances; i++) labels[(j * utterances + i) * centroids + j] = 1;
    }
    const eer = interpolatedEer(Float64Array.from(sim.data as Float32Array), labels);
    closeScalar(eer, entry.eer, 'rtvc_ge2e eer');
  });
});

test('worst metric difference (report)', () => {
  console.log(`metrics parity: max |diff| ${worst.diff.toExponential(3)} (tolerance ${TOL.metric.atol})`);
});
