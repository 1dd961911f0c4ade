/**
 * Kaldi fbank front-end: frame counts (snip_edges on and off), filterbank geometry, a pure tone in
 * the right band, mean normalisation, the energy column, dither reproducibility and option errors.
 * Inputs are built here (no fixtures needed).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../src/core/random.js';
import { VoxkitError } from '../../src/errors.js';
import {
  KALDI_FBANK_PRESETS,
  KaldiFbank,
  kaldiFbank,
  kaldiInverseMelScale,
  kaldiMelBanks,
  kaldiMelScale,
  kaldiWindow,
  poveyWindow,
  symmetricHammingWindow,
  symmetricHannWindow,
} from '../../src/features/index.js';
import * as voxkit from '../../src/index.js';

const SR = 16000;

function tone(hz: number, seconds: number, amplitude = 0.5, sampleRateHz = SR): Float32Array {
  const wave = new Float32Array(Math.round(seconds * sampleRateHz));
  for (let i = 0; i < wave.length; i++) wave[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRateHz);
  return wave;
}

function noise(samples: number, seed: number, std = 0.1): Float32Array {
  const random = new Random(seed);
  const wave = new Float32Array(samples);
  for (let i = 0; i < samples; i++) wave[i] = std * random.normal();
  return wave;
}

function argmax(row: ArrayLike<number>, start = 0, end = row.length): number {
  let best = start;
  for (let i = start; i < end; i++) if (row[i] > row[best]) best = i;
  return best;
}

function assertConfigError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof VoxkitError && e.code === 'E_CONFIG' && pattern.test(e.message));
}

describe('frames and shapes', () => {
  test('snip_edges: only whole frames, 1 + ⌊(n − 400)/160⌋', () => {
    const frontEnd = new KaldiFbank(KALDI_FBANK_PRESETS.wespeaker);
    assert.equal(frontEnd.windowSize, 400);
    assert.equal(frontEnd.windowShift, 160);
    assert.equal(frontEnd.paddedWindowSize, 512);
    for (const n of [400, 559, 560, 16000, 16399, 16400]) {
      const result = frontEnd.compute(noise(n, n));
      assert.equal(result.frames, 1 + Math.floor((n - 400) / 160), `${n} samples`);
      assert.equal(result.numFeatures, 80);
      assert.equal(result.data.length, result.frames * 80);
      assert.ok(result.data.every(Number.isFinite));
    }
  });

  test('without snip_edges the frame count depends on the shift only: ⌊(n + 80)/160⌋', () => {
    const frontEnd = new KaldiFbank({ ...KALDI_FBANK_PRESETS.wespeaker, snipEdges: false });
    for (const n of [400, 479, 480, 16000, 16079, 16080]) {
      assert.equal(frontEnd.compute(noise(n, n)).frames, Math.floor((n + 80) / 160), `${n} samples`);
    }
  });

  test('without snip_edges frame t is centred on t·160 + 80 with the edges mirrored', () => {
    // A signal that is only nonzero in its first 240 samples: with mirroring, frame 0 (samples
    // −120 … 279, the 120 before 0 mirrored from 0 … 119) sees it, and so does nothing after frame 2.
    const wave = new Float32Array(4000);
    wave.set(noise(240, 3), 0);
    const frontEnd = new KaldiFbank({ ...KALDI_FBANK_PRESETS.wespeaker, snipEdges: false });
    const { data, frames } = frontEnd.compute(wave);
    const energyOf = (t: number) => data.subarray(t * 80, (t + 1) * 80).reduce((a, b) => a + Math.exp(b), 0);
    assert.ok(energyOf(0) > 1e3 * energyOf(frames - 1));
    // Mirroring repeats the edge sample: frame 0 equals the features of the explicitly mirrored signal.
    const mirrored = new Float32Array(120 + 400);
    for (let j = 0; j < 120; j++) mirrored[j] = wave[119 - j];
    mirrored.set(wave.subarray(0, 400), 120);
    const explicit = new KaldiFbank(KALDI_FBANK_PRESETS.wespeaker).compute(mirrored.subarray(0, 400));
    assert.deepEqual([...data.subarray(0, 80)], [...explicit.data.subarray(0, 80)]);
  });

  test('a waveform shorter than one frame is a shape error', () => {
    assert.throws(() => kaldiFbank(new Float32Array(399), KALDI_FBANK_PRESETS.wespeaker), (e: unknown) => e instanceof VoxkitError && e.code === 'E_SHAPE');
  });
});

describe('windows and filterbank', () => {
  test('symmetric windows: both ends included, Povey = Hann^0.85', () => {
    const hann = symmetricHannWindow(400);
    const hamming = symmetricHammingWindow(400);
    const povey = poveyWindow(400);
    assert.equal(hann[0], 0);
    assert.equal(hann[399], 0);
    assert.ok(Math.abs(hamming[0] - 0.08) < 1e-6 && Math.abs(hamming[399] - 0.08) < 1e-6);
    for (let n = 0; n < 200; n++) {
      assert.ok(Math.abs(hann[n] - hann[399 - n]) < 1e-6, 'symmetric (up to float32 rounding of the cosine)');
      assert.ok(Math.abs(povey[n] - hann[n] ** 0.85) < 1e-6);
    }
    assert.ok(Math.abs(hann[200] - 0.5 * (1 - Math.cos((2 * Math.PI * 200) / 399))) < 1e-6);
    assert.deepEqual(kaldiWindow('rectangular', 5), new Float32Array([1, 1, 1, 1, 1]));
    const blackman = kaldiWindow('blackman', 401);
    assert.ok(Math.abs(blackman[200] - 1) < 1e-6 && Math.abs(blackman[0]) < 1e-6);
  });

  test('mel banks: triangles of peak ≤ 1 between low and high frequency, the Nyquist bin unused', () => {
    const numBins = 257;
    const banks = kaldiMelBanks(80, 512, SR, 20, -400);
    assert.equal(banks.length, 80 * numBins);
    const binHz = SR / 512;
    for (let m = 0; m < 80; m++) {
      const row = banks.subarray(m * numBins, (m + 1) * numBins);
      assert.equal(row[256], 0, 'Nyquist column');
      assert.ok(Math.max(...row) <= 1 && Math.max(...row) > 0.3, `band ${m} has a peak`);
      for (let k = 0; k < 256; k++) {
        if (row[k] > 0) assert.ok(k * binHz > 20 && k * binHz < 7600, `band ${m} bin ${k} outside 20–7600 Hz`);
      }
    }
    // Centres evenly spaced on the 1127·ln(1 + f/700) scale.
    const centre = (m: number) => kaldiInverseMelScale(kaldiMelScale(20) + ((m + 1) * (kaldiMelScale(7600) - kaldiMelScale(20))) / 81);
    const peakBin = argmax(banks.subarray(40 * numBins, 41 * numBins));
    assert.ok(Math.abs(peakBin * binHz - centre(40)) <= binHz, `band 40 peaks near ${centre(40).toFixed(0)} Hz`);
  });
});

describe('features', () => {
  test('a pure tone is loudest in the band centred on its frequency', () => {
    for (const hz of [300, 1000, 3000, 6000]) {
      const { data, frames } = kaldiFbank(tone(hz, 0.5), KALDI_FBANK_PRESETS.sherpaOnnx);
      const banks = kaldiMelBanks(80, 512, SR, 20, -400);
      const bin = Math.round((hz * 512) / SR);
      let expectedBand = 0;
      for (let m = 0; m < 80; m++) if (banks[m * 257 + bin] > banks[expectedBand * 257 + bin]) expectedBand = m;
      const t = Math.floor(frames / 2);
      const loudest = argmax(data.subarray(t * 80, (t + 1) * 80));
      assert.ok(Math.abs(loudest - expectedBand) <= 1, `${hz} Hz: band ${loudest}, expected ${expectedBand}`);
    }
  });

  test('input scale: ×32768 adds 2·ln 32768 to every band (until the ε floor)', () => {
    const wave = noise(8000, 7);
    const raw = kaldiFbank(wave, { ...KALDI_FBANK_PRESETS.wespeaker, inputScale: 1 });
    const scaled = kaldiFbank(wave, KALDI_FBANK_PRESETS.wespeaker);
    const shift = 2 * Math.log(32768);
    for (let i = 0; i < raw.data.length; i++) assert.ok(Math.abs(scaled.data[i] - raw.data[i] - shift) < 1e-3);
  });

  test('digital silence sits on the ε floor: ln(2^-23)', () => {
    const { data } = kaldiFbank(new Float32Array(1600), KALDI_FBANK_PRESETS.wespeaker);
    for (const v of data) assert.equal(v, Math.fround(Math.log(2 ** -23)));
  });

  test('CMN: every band has zero mean over the utterance and equals fbank minus its mean', () => {
    const wave = tone(440, 1, 0.3);
    const extra = noise(wave.length, 9, 0.02);
    for (let i = 0; i < wave.length; i++) wave[i] += extra[i];
    const plain = kaldiFbank(wave, KALDI_FBANK_PRESETS.wespeaker);
    const cmn = kaldiFbank(wave, { ...KALDI_FBANK_PRESETS.wespeaker, subtractMean: true });
    for (let m = 0; m < 80; m++) {
      let mean = 0;
      let plainMean = 0;
      for (let t = 0; t < cmn.frames; t++) {
        mean += cmn.data[t * 80 + m];
        plainMean += plain.data[t * 80 + m];
      }
      mean /= cmn.frames;
      plainMean /= cmn.frames;
      assert.ok(Math.abs(mean) < 1e-5, `band ${m} mean ${mean}`);
      assert.ok(Math.abs(cmn.data[m] - (plain.data[m] - plainMean)) < 1e-5);
    }
  });

  test('energy column: first (or last with htkCompat), ln Σx² of the DC-free frame, floored', () => {
    const wave = noise(4000, 11, 0.2);
    const base = { ...KALDI_FBANK_PRESETS.wespeaker, useEnergy: true, energyFloor: 0 };
    const first = kaldiFbank(wave, base);
    const last = kaldiFbank(wave, { ...base, htkCompat: true });
    assert.equal(first.numFeatures, 81);
    const frame = Array.from(wave.subarray(0, 400), (x) => x * 32768);
    const mean = frame.reduce((a, b) => a + b, 0) / 400;
    const energy = Math.log(frame.reduce((a, x) => a + (x - mean) ** 2, 0));
    assert.ok(Math.abs(first.data[0] - energy) < 1e-4, `${first.data[0]} vs ${energy}`);
    assert.equal(last.data[80], first.data[0]);
    assert.deepEqual([...last.data.subarray(0, 80)], [...first.data.subarray(1, 81)]);
    const floored = kaldiFbank(new Float32Array(800), { ...base, energyFloor: 1 });
    assert.equal(floored.data[0], 0, 'ln(energyFloor = 1)');
  });

  test('dither: reproducible for a seed, different for another, needs a source', () => {
    const wave = new Float32Array(2000);
    const options = { ...KALDI_FBANK_PRESETS.wespeaker, dither: 1 };
    const a = kaldiFbank(wave, { ...options, random: new Random(1) });
    const b = kaldiFbank(wave, { ...options, random: new Random(1) });
    const c = kaldiFbank(wave, { ...options, random: new Random(2) });
    assert.deepEqual(a.data, b.data);
    assert.notDeepEqual(a.data, c.data);
    assert.ok(a.data.every((v) => v > Math.log(2 ** -23) + 1), 'dither lifts silence off the floor');
    assertConfigError(() => new KaldiFbank(options), /random/);
  });

  test('other sample rates: an 8 kHz tone lands in the same band as at 16 kHz when the band edges match', () => {
    const options = { numMelBins: 40, windowType: 'hamming' as const, highFreqHz: 4000 };
    const at16k = kaldiFbank(tone(1000, 0.5), { ...options, sampleRateHz: 16000 });
    const at8k = kaldiFbank(tone(1000, 0.5, 0.5, 8000), { ...options, sampleRateHz: 8000 });
    const mid = (r: typeof at16k) => argmax(r.data.subarray(Math.floor(r.frames / 2) * 40, Math.floor(r.frames / 2) * 40 + 40));
    assert.ok(Math.abs(mid(at16k) - mid(at8k)) <= 1);
  });
});

describe('options', () => {
  test('bad options are E_CONFIG errors naming the problem', () => {
    assertConfigError(() => new KaldiFbank({ numMelBins: 3 }), /numMelBins/);
    assertConfigError(() => new KaldiFbank({ windowType: 'triangle' as never }), /window type "triangle"/);
    assertConfigError(() => new KaldiFbank({ lowFreqHz: 9000 }), /frequency range/);
    assertConfigError(() => new KaldiFbank({ highFreqHz: -8000 }), /frequency range/);
    assertConfigError(() => new KaldiFbank({ lowFreqHz: 4000, highFreqHz: 3000 }), /frequency range/);
    assertConfigError(() => new KaldiFbank({ preemphasisCoefficient: 1.5 }), /preemphasisCoefficient/);
    assertConfigError(() => new KaldiFbank({ sampleRateHz: 0 }), /sampleRateHz/);
    assertConfigError(() => new KaldiFbank({ frameLengthMs: 0.05 }), /at least 2/);
    assertConfigError(() => new KaldiFbank({ frameLengthMs: 25.0625, roundToPowerOfTwo: false }), /even/);
    assertConfigError(() => new KaldiFbank({ dither: -1 }), /dither/);
  });

  test('the package exports the front-end', () => {
    assert.equal(voxkit.kaldiFbank, kaldiFbank);
    assert.equal(voxkit.KaldiFbank, KaldiFbank);
    assert.equal(voxkit.KALDI_FBANK_PRESETS, KALDI_FBANK_PRESETS);
  });
});
