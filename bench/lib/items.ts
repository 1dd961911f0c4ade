/**
 * What is timed. Each item has the same name on both sides (bench/pytorch/bench.py `build_item`) and
 * the same input: batch 1, 3 s at 16 kHz for encoders (300 mel frames for the LSTM encoders), 10 s for
 * front-ends. Models are randomly initialised at their real (published) size: timing does not depend
 * on the weight values. Each voxkit call reads its result back (`dataSync`), so the time is complete.
 */
import * as tf from '@tensorflow/tfjs';
import { LSTM_INPUT_FEATURES, LSTM_INPUT_FRAMES, type BenchInputs } from './inputs.js';

export type ItemGroup = 'encoder' | 'frontend' | 'training';

/** One prepared voxkit benchmark call and how to release it. */
export interface PreparedCall {
  call(): void;
  dispose(): void;
  /** Trainable parameters of the model (0 for a front-end): compared with the PyTorch model's. */
  parameters: number;
}

export interface BenchItem {
  /** Shared with the PyTorch side and matched by `--only`. */
  name: string;
  group: ItemGroup;
  /** Shown in the table: configuration and input. */
  label: string;
  input: string;
  /** Seconds of audio one call processes (front-end throughput = audioSeconds / time). */
  audioSeconds: number;
  prepare(inputs: BenchInputs): Promise<PreparedCall>;
  /** At most this many rounds (slow items: a training step takes seconds); default: the run's. */
  maxRounds?: number;
  /** Warm-up calls for this item; default: the run's. */
  warmupCalls?: number;
  /** Count the tfjs kernels of one extra untimed call (default true). */
  countKernels?: boolean;
}

/** Runs `embed` on one waveform and reads the embedding back. */
type TimedEncoder = { embed(waves: readonly Float32Array[]): tf.Tensor2D; dispose(): void; numParameters(): number };

function embedCall(encoder: TimedEncoder, wave: Float32Array): PreparedCall {
  return {
    parameters: encoder.numParameters(),
    call: () => {
      const embedding = encoder.embed([wave]);
      embedding.dataSync();
      embedding.dispose();
    },
    dispose: () => encoder.dispose(),
  };
}

function lstmFramesTensor(inputs: BenchInputs): tf.Tensor3D {
  return tf.tensor3d(inputs.lstmFrames, [1, LSTM_INPUT_FRAMES, LSTM_INPUT_FEATURES]);
}

/** Reads a front-end result back and frees it (tensor or typed-array result). */
function consume(result: unknown): void {
  if (result instanceof tf.Tensor) {
    result.dataSync();
    result.dispose();
  }
}

export const BENCH_ITEMS: readonly BenchItem[] = [
  {
    name: 'ResNetSE34L',
    group: 'encoder',
    label: 'ResNetSE34L (SAP, 40 mels)',
    input: '3 s wave',
    audioSeconds: 3,
    prepare: async (inputs) => {
      const { ResNetSE34L } = await import('../../src/models/resnet-se34l.js');
      return embedCall(new ResNetSE34L(), inputs.utterance);
    },
  },
  {
    name: 'ResNetSE34V2',
    group: 'encoder',
    label: 'ResNetSE34V2 (filters 32–256, ASP, 64 mels)',
    input: '3 s wave',
    audioSeconds: 3,
    prepare: async (inputs) => {
      const { ResNetSE34V2 } = await import('../../src/models/resnet-se34v2.js');
      return embedCall(new ResNetSE34V2(), inputs.utterance);
    },
  },
  {
    name: 'VGGVox',
    group: 'encoder',
    label: 'VGGVox (SAP, 40 mels)',
    input: '3 s wave',
    audioSeconds: 3,
    prepare: async (inputs) => {
      const { VGGVox } = await import('../../src/models/vggvox.js');
      return embedCall(new VGGVox(), inputs.utterance);
    },
  },
  {
    name: 'RawNet3',
    group: 'encoder',
    label: 'RawNet3 (C=1024, ECA, sinc stride 10)',
    input: '3 s wave',
    audioSeconds: 3,
    prepare: async (inputs) => {
      const { RawNet3 } = await import('../../src/models/rawnet3.js');
      return embedCall(new RawNet3(), inputs.utterance);
    },
  },
  {
    name: 'RTVC',
    group: 'encoder',
    label: 'RTVC LSTM encoder (3 × 256)',
    input: '300×40 mel frames',
    audioSeconds: 3,
    prepare: async (inputs) => {
      const { RtvcEncoder } = await import('../../src/models/rtvc-encoder.js');
      const encoder = new RtvcEncoder();
      const frames = lstmFramesTensor(inputs);
      return {
        parameters: encoder.numParameters(),
        call: () => consume(encoder.forward(frames)),
        dispose: () => {
          frames.dispose();
          encoder.dispose();
        },
      };
    },
  },
  {
    name: 'RTVC-embed_utterance',
    group: 'encoder',
    label: 'RTVC embed_utterance (mel + 3 partials of 160 frames)',
    input: '3 s wave',
    audioSeconds: 3,
    prepare: async (inputs) => {
      const { RtvcEncoder } = await import('../../src/models/rtvc-encoder.js');
      const { embedUtterance } = await import('../../src/models/partial-utterances.js');
      const encoder = new RtvcEncoder();
      return {
        parameters: encoder.numParameters(),
        call: () => void embedUtterance(encoder, inputs.utterance),
        dispose: () => encoder.dispose(),
      };
    },
  },
  {
    name: 'singer',
    group: 'encoder',
    label: 'singer encoder (LSTM 3 × 256 + class layer)',
    input: '300×40 feature frames',
    audioSeconds: 3,
    prepare: async (inputs) => {
      const { SingerEncoder } = await import('../../src/models/singer-encoder.js');
      const encoder = new SingerEncoder();
      const frames = lstmFramesTensor(inputs);
      return {
        parameters: encoder.numParameters(),
        call: () => {
          const { embeddings, classLogits } = encoder.classify(frames);
          consume(embeddings);
          consume(classLogits);
        },
        dispose: () => {
          frames.dispose();
          encoder.dispose();
        },
      };
    },
  },
  {
    name: 'logmel40',
    group: 'frontend',
    label: 'voxceleb log-mel, 40 mels (ResNetSE34L)',
    input: '10 s wave',
    audioSeconds: 10,
    prepare: async (inputs) => {
      const { ResNetSE34L } = await import('../../src/models/resnet-se34l.js');
      const encoder = new ResNetSE34L();
      return { parameters: 0, call: () => consume(encoder.features([inputs.longWave])), dispose: () => encoder.dispose() };
    },
  },
  {
    name: 'logmel64-preemph',
    group: 'frontend',
    label: 'voxceleb log-mel, 64 mels + pre-emphasis (V2)',
    input: '10 s wave',
    audioSeconds: 10,
    prepare: async (inputs) => {
      const { ResNetSE34V2 } = await import('../../src/models/resnet-se34v2.js');
      const encoder = new ResNetSE34V2();
      return { parameters: 0, call: () => consume(encoder.features([inputs.longWave])), dispose: () => encoder.dispose() };
    },
  },
  {
    name: 'rtvc-mel',
    group: 'frontend',
    label: 'RTVC mel (librosa 0.9.2 melspectrogram)',
    input: '10 s wave',
    audioSeconds: 10,
    prepare: async (inputs) => {
      const { RtvcEncoder } = await import('../../src/models/rtvc-encoder.js');
      const encoder = new RtvcEncoder();
      return { parameters: 0, call: () => void encoder.melFrames(inputs.longWave), dispose: () => encoder.dispose() };
    },
  },
  {
    name: 'kaldi-fbank80',
    group: 'frontend',
    label: 'Kaldi fbank, 80 bins + CMN (WeSpeaker; torchaudio.compliance.kaldi)',
    input: '10 s wave',
    audioSeconds: 10,
    prepare: async (inputs) => {
      const { KaldiFbank, KALDI_FBANK_PRESETS } = await import('../../src/features/kaldi-fbank.js');
      const frontEnd = new KaldiFbank({ ...KALDI_FBANK_PRESETS.wespeaker, subtractMean: true });
      return { parameters: 0, call: () => void frontEnd.compute(inputs.longWave), dispose: () => {} };
    },
  },
];

/** Items selected by `--only` substrings (all when empty). */
export function selectItems(only: readonly string[]): BenchItem[] {
  if (only.length === 0) return [...BENCH_ITEMS];
  return BENCH_ITEMS.filter((item) => only.some((s) => item.name.toLowerCase().includes(s)));
}
