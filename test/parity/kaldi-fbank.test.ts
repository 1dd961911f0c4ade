/**
 * Parity of the Kaldi fbank front-end with torchaudio.compliance.kaldi.fbank, driven by
 * kaldi_fbank.json: every variant (wespeaker, sherpa_onnx, …) on every waveform, without and with
 * per-utterance mean normalisation. The torchaudio parameters come from the JSON.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KaldiFbank, type KaldiFbankOptions, type KaldiWindowType } from '../../src/features/index.js';
import { fixtures } from '../helpers/fixtures.js';
import { assertClose } from '../helpers/close.js';
import { KALDI_FBANK_LOUD_BAND_NATS, TOL } from './tolerances.js';

interface VariantSpec {
  params: Record<string, number | string | boolean>;
  outputs: Record<string, { input: string; fbank: string; fbank_cmn: string; f32_vs_f64_max_abs?: number }>;
}

const fx = fixtures();
const section = fx.section<Record<string, VariantSpec | string>>('kaldi_fbank');
const variants = Object.entries(section).filter((entry): entry is [string, VariantSpec] => typeof entry[1] === 'object' && entry[1] !== null);

/** torchaudio fbank keyword → our option; keys not listed (other than `torchaudio`) fail the test. */
const OPTION_OF: Record<string, keyof KaldiFbankOptions> = {
  num_mel_bins: 'numMelBins',
  frame_length: 'frameLengthMs',
  frame_shift: 'frameShiftMs',
  dither: 'dither',
  sample_frequency: 'sampleRateHz',
  window_type: 'windowType',
  low_freq: 'lowFreqHz',
  high_freq: 'highFreqHz',
  use_energy: 'useEnergy',
  input_scale: 'inputScale',
  preemphasis_coefficient: 'preemphasisCoefficient',
  remove_dc_offset: 'removeDcOffset',
  round_to_power_of_two: 'roundToPowerOfTwo',
  snip_edges: 'snipEdges',
  energy_floor: 'energyFloor',
  raw_energy: 'rawEnergy',
  htk_compat: 'htkCompat',
  use_log_fbank: 'useLogFbank',
  use_power: 'usePower',
  blackman_coeff: 'blackmanCoeff',
};

function optionsOf(params: VariantSpec['params']): KaldiFbankOptions {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (key === 'torchaudio') continue;
    const option = OPTION_OF[key];
    assert.ok(option, `kaldi_fbank.json parameter "${key}" is not mapped to a KaldiFbank option`);
    options[option] = value;
  }
  return options as KaldiFbankOptions;
}

/** Largest differences seen, printed at the end for the report. */
const observed = new Map<string, number>();

/**
 * Checks the bands within KALDI_FBANK_LOUD_BAND_NATS of their frame's loudest band, judged on the
 * reference's log energies before mean normalisation (`levels`); returns their max |diff|.
 */
function assertLoudBandsClose(actual: Float32Array, expected: Float32Array, levels: Float32Array, frames: number, bands: number, label: string): number {
  let worst = 0;
  for (let t = 0; t < frames; t++) {
    let loudest = -Infinity;
    for (let m = 0; m < bands; m++) loudest = Math.max(loudest, levels[t * bands + m]);
    for (let m = 0; m < bands; m++) {
      const i = t * bands + m;
      if (levels[i] < loudest - KALDI_FBANK_LOUD_BAND_NATS) continue;
      const d = Math.abs(actual[i] - expected[i]);
      assert.ok(d <= TOL.kaldiFbankLoudBands.atol!, `${label}: frame ${t} band ${m} is ${actual[i]}, expected ${expected[i]} (|diff| ${d.toExponential(3)})`);
      worst = Math.max(worst, d);
    }
  }
  return worst;
}

assert.ok(variants.length > 0, 'kaldi_fbank.json has no variants');

for (const [variant, spec] of variants) {
  describe(`kaldi fbank, ${variant}`, () => {
    const options = optionsOf(spec.params);
    const windowType = options.windowType as KaldiWindowType;

    test('parameters map onto the front-end', () => {
      const frontEnd = new KaldiFbank(options);
      assert.equal(frontEnd.options.windowType, windowType);
      assert.equal(frontEnd.numFeatures, Number(spec.params.num_mel_bins) + (spec.params.use_energy ? 1 : 0));
    });

    for (const [wav, output] of Object.entries(spec.outputs)) {
      for (const [kind, subtractMean] of [['fbank', false], ['fbank_cmn', true]] as const) {
        test(`${wav} ${kind}`, () => {
          const wave = fx.f32(output.input).data;
          const expected = fx.f32(output[kind]);
          const result = new KaldiFbank({ ...options, subtractMean }).compute(wave);
          const label = `${variant} ${wav} ${kind}`;
          // The reference's own float32 noise (its distance to float64) comes on top of ours.
          const tolerance = { atol: TOL.kaldiFbank.atol! + (output.f32_vs_f64_max_abs ?? 0) };
          const report = assertClose(result.data, expected.data, tolerance, label, {
            actual: [result.frames, result.numFeatures],
            expected: expected.shape,
          });
          const levels = kind === 'fbank' ? expected.data : fx.f32(output.fbank).data;
          const loud = assertLoudBandsClose(result.data, expected.data, levels, result.frames, result.numFeatures, label);
          const key = `${variant} ${kind}`;
          observed.set(`${key} max |diff|`, Math.max(observed.get(`${key} max |diff|`) ?? 0, report.maxAbs));
          observed.set(`${key} loud bands max |diff|`, Math.max(observed.get(`${key} loud bands max |diff|`) ?? 0, loud));
          observed.set(`${variant} reference f32 vs f64`, Math.max(observed.get(`${variant} reference f32 vs f64`) ?? 0, output.f32_vs_f64_max_abs ?? 0));
        });
      }
    }
  });
}

after(() => {
  for (const [label, value] of observed) console.log(`kaldi fbank ${label}: ${value.toExponential(3)}`);
});
