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
  call(): void | Promise<void>;
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
  /** The PyTorch item timed beside it (default `name`); null: voxkit only. */
  torchName?: string | null;
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

/** The same network in ONNX Runtime (exported in memory, one intra-op thread like the other columns). */
async function ortEngineFor(encoder: import('../../src/models/encoder.js').SpeakerEncoder) {
  const { OrtEngine } = await import('../../src/engine/ort-node.js');
  return OrtEngine.create(encoder.eval(), { threads: 1 });
}

type EncoderModule = { numParameters(): number; dispose(): void } & import('../../src/models/encoder.js').SpeakerEncoder;

/** An ONNX Runtime row: `run` times one call of the session on the item's input. */
function ortItem(
  torchName: string | null,
  name: string,
  label: string,
  input: string,
  audioSeconds: number,
  create: () => Promise<EncoderModule>,
  run: (engine: Awaited<ReturnType<typeof ortEngineFor>>, inputs: BenchInputs) => Promise<unknown>,
): BenchItem {
  return {
    name,
    torchName,
    group: 'encoder',
    label,
    input,
    audioSeconds,
    countKernels: false,
    prepare: async (inputs) => {
      const encoder = await create();
      const engine = await ortEngineFor(encoder);
      return {
        parameters: encoder.numParameters(),
        call: async () => void (await run(engine, inputs)),
        dispose: () => {
          engine.dispose();
          encoder.dispose();
        },
      };
    },
  };
}

const BATCH = 16;
const batchOf = (wave: Float32Array): Float32Array[] => Array.from({ length: BATCH }, () => wave);
const lstmShape: [number, number, number] = [1, LSTM_INPUT_FRAMES, LSTM_INPUT_FEATURES];
const lstmBatch = (inputs: BenchInputs): Float32Array => {
  const data = new Float32Array(BATCH * inputs.lstmFrames.length);
  for (let b = 0; b < BATCH; b++) data.set(inputs.lstmFrames, b * inputs.lstmFrames.length);
  return data;
};
const newResNetSE34L = async () => new (await import('../../src/models/resnet-se34l.js')).ResNetSE34L();
const newRtvc = async () => new (await import('../../src/models/rtvc-encoder.js')).RtvcEncoder();

/**
 * ONNX Runtime rows (`voxkit` column = ORT; PyTorch timed beside them), and batch throughput rows
 * (tfjs and ORT, each with PyTorch's same batch beside it).
 */
export const ORT_BENCH_ITEMS: readonly BenchItem[] = [
  ortItem('ResNetSE34L', 'ResNetSE34L-ort', 'ResNetSE34L — ONNX Runtime', '3 s wave', 3, newResNetSE34L, (e, i) => e.embedWaves([i.utterance])),
  ortItem('ResNetSE34V2', 'ResNetSE34V2-ort', 'ResNetSE34V2 — ONNX Runtime', '3 s wave', 3, async () => new (await import('../../src/models/resnet-se34v2.js')).ResNetSE34V2(), (e, i) =>
    e.embedWaves([i.utterance]),
  ),
  ortItem('VGGVox', 'VGGVox-ort', 'VGGVox — ONNX Runtime', '3 s wave', 3, async () => new (await import('../../src/models/vggvox.js')).VGGVox(), (e, i) => e.embedWaves([i.utterance])),
  ortItem('RawNet3', 'RawNet3-ort', 'RawNet3 — ONNX Runtime', '3 s wave', 3, async () => new (await import('../../src/models/rawnet3.js')).RawNet3(), (e, i) => e.embedWaves([i.utterance])),
  ortItem('RTVC', 'RTVC-ort', 'RTVC LSTM encoder — ONNX Runtime', '300×40 mel frames', 3, newRtvc, (e, i) => e.run(i.lstmFrames, lstmShape)),
  ortItem('RTVC-embed_utterance', 'RTVC-embed_utterance-ort', 'RTVC embed_utterance — ONNX Runtime', '3 s wave', 3, newRtvc, async (e, i) => {
    const { embedUtteranceAsync } = await import('../../src/models/partial-utterances.js');
    return embedUtteranceAsync({ melFrames: e.melFrames!, embedFrames: e.embedFrames! }, i.utterance);
  }),
  ortItem('singer', 'singer-ort', 'singer encoder — ONNX Runtime', '300×40 feature frames', 3, async () => new (await import('../../src/models/singer-encoder.js')).SingerEncoder(), (e, i) =>
    e.run(i.lstmFrames, lstmShape),
  ),
  {
    name: 'ResNetSE34L-batch16',
    group: 'encoder',
    label: `ResNetSE34L, batch of ${BATCH} — tfjs`,
    input: `${BATCH} × 3 s wave`,
    audioSeconds: 3 * BATCH,
    prepare: async (inputs) => {
      const encoder = await newResNetSE34L();
      const waves = batchOf(inputs.utterance);
      return { parameters: encoder.numParameters(), call: () => consume(encoder.embed(waves)), dispose: () => encoder.dispose() };
    },
  },
  ortItem('ResNetSE34L-batch16', 'ResNetSE34L-batch16-ort', `ResNetSE34L, batch of ${BATCH} — ONNX Runtime`, `${BATCH} × 3 s wave`, 3 * BATCH, newResNetSE34L, (e, i) => e.embedWaves(batchOf(i.utterance))),
  {
    name: 'RTVC-batch16',
    group: 'encoder',
    label: `RTVC LSTM encoder, batch of ${BATCH} — tfjs`,
    input: `${BATCH} × 300×40 frames`,
    audioSeconds: 3 * BATCH,
    prepare: async (inputs) => {
      const encoder = await newRtvc();
      const frames = tf.tensor3d(lstmBatch(inputs), [BATCH, LSTM_INPUT_FRAMES, LSTM_INPUT_FEATURES]);
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
  ortItem('RTVC-batch16', 'RTVC-batch16-ort', `RTVC LSTM encoder, batch of ${BATCH} — ONNX Runtime`, `${BATCH} × 300×40 frames`, 3 * BATCH, newRtvc, (e, i) =>
    e.run(lstmBatch(i), [BATCH, LSTM_INPUT_FRAMES, LSTM_INPUT_FEATURES]),
  ),
];

/** Items selected by `--only` substrings (all when empty). */
export function selectItems(only: readonly string[]): BenchItem[] {
  const all = [...BENCH_ITEMS, ...ORT_BENCH_ITEMS];
  if (only.length === 0) return all;
  return all.filter((item) => only.some((s) => item.name.toLowerCase().includes(s)));
}
