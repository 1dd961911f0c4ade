/**
 * ONNX export of every built-in encoder: walks the PyTorch-named Module tree and emits the same
 * maths as the tfjs forward, channels-first like the PyTorch originals. Browser-safe.
 *
 * Inputs (dynamic `batch` and time axes in every graph):
 * - voxceleb log-mel models with the front end inside: `waveform` [batch, samples] (16 kHz, > 256
 *   samples); with `frontend: 'separate'`: `features` [batch, n_mels, frames] as
 *   `computeFeatures(encoder.featureSpec(), waves)` gives them;
 * - RawNet3: `waveform` [batch, samples] (its front end is part of the network);
 * - RTVC: `mel_frames` [batch, frames, 40] (RTVC's linear-power mel, computed in TypeScript; the
 *   1.6 s partial-utterance logic stays outside the graph);
 * - singer encoder: `feature_frames` [batch, frames, num_feats]; a second output `class_logits`;
 * - encoders built with the Kaldi fbank front end: `x` [B, T, n_mels], the fbank frames as
 *   `computeFeatures(encoder.featureSpec(), waves)` gives them (always separate: the sherpa-onnx
 *   layout, see sherpa-onnx.ts).
 * Output `embedding` [batch, embedding_dim].
 */
import type * as tf from '@tensorflow/tfjs';
import { VoxkitError } from '../../errors.js';
import { VERSION } from '../../version.js';
import type { FeatureSpec, KaldiFbankSpec, VoxcelebLogMelSpec } from '../../features/feature-spec.js';
import { VOXCELEB_STFT } from '../../features/voxceleb-logmel.js';
import { periodicWindow } from '../../features/window.js';
import type { SpeakerEncoder } from '../../models/encoder.js';
import { GE2E_NORM_EPSILON, type Ge2eLstmEncoder } from '../../models/ge2e-lstm-encoder.js';
import { ASP_VARIANCE_FLOOR } from '../../models/layers/pooling.js';
import type { Bottle2neck } from '../../models/layers/bottle2neck.js';
import type { RawNet3 } from '../../models/rawnet3.js';
import type { ResNetSE34L } from '../../models/resnet-se34l.js';
import { v2OutputBands, type ResNetSE34V2 } from '../../models/resnet-se34v2.js';
import type { SingerEncoder } from '../../models/singer-encoder.js';
import type { VGGVox } from '../../models/vggvox.js';
import { OnnxGraph, encodeModel } from './graph.js';
import { preEmphasis, voxcelebLogMel } from './frontends.js';
import { batchNorm, conv1d, conv2d, linear, lstmStack, reduceSum, seResNetStage, values, weight } from './layers.js';

/** Where the front end runs: in the graph (waveform input) or before it (feature input). */
export type FrontendLocation = 'inside' | 'separate';

export interface OnnxExportOptions {
  /**
   * 'inside': the graph takes waveforms; 'separate': it takes the front end's output. Default: inside
   * where the architecture allows (voxceleb log-mel models, RawNet3); RTVC and the singer encoder
   * always take frames.
   */
  frontend?: FrontendLocation;
  /** Extra metadata_props (e.g. the source checkpoint's sha256). */
  metadata?: Record<string, string>;
}

export interface OnnxExport {
  /** The serialised ModelProto (`.onnx` file contents). */
  bytes: Uint8Array;
  /** metadata_props written into the model. */
  metadata: Record<string, string>;
  inputName: string;
  /** What the input holds: waveforms, voxceleb log-mel features, RTVC mel frames or feature frames. */
  inputKind: 'waveform' | 'voxceleb-logmel' | 'kaldi-fbank' | 'rtvc-mel' | 'frames';
  outputNames: string[];
  frontend: FrontendLocation;
  nodeCount: number;
}

/** Names of the graph inputs/outputs, fixed so that runtimes and tests can rely on them. */
export const ONNX_IO = {
  waveform: 'waveform',
  features: 'features',
  melFrames: 'mel_frames',
  featureFrames: 'feature_frames',
  /** Kaldi fbank frames [B, T, n_mels]: the name and layout of sherpa-onnx's speaker models. */
  fbank: 'x',
  embedding: 'embedding',
  classLogits: 'class_logits',
} as const;

interface Built {
  g: OnnxGraph;
  input: string;
  inputKind: OnnxExport['inputKind'];
  inputDescription: string;
  outputs: string[];
  frontend: FrontendLocation;
  frontendSettings: Record<string, unknown>;
  /** Name of the batch axis (`batch`; `B` in sherpa-onnx-style fbank graphs). */
  batchDim?: string;
}

function windowName(window: Float32Array): string {
  for (const kind of ['hamming', 'hann'] as const) {
    const named = periodicWindow(kind, window.length);
    if (named.every((v, i) => v === window[i])) return kind;
  }
  return 'custom (checkpoint buffer)';
}

function base64(data: Float32Array): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function voxcelebSettings(spec: VoxcelebLogMelSpec, location: FrontendLocation): Record<string, unknown> {
  const settings: Record<string, unknown> = {
    kind: 'voxceleb-logmel',
    location,
    sample_rate: spec.sampleRateHz,
    n_fft: VOXCELEB_STFT.fftSize,
    win_length: VOXCELEB_STFT.windowLength,
    hop_length: VOXCELEB_STFT.hopLength,
    center: true,
    pad_mode: 'reflect',
    window: windowName(spec.window),
    n_mels: spec.numMels,
    mel_scale: 'htk',
    f_min: 0,
    power: 2,
    pre_emphasis: spec.preEmphasis ?? null,
    log_offset: VOXCELEB_STFT.logOffset,
    log: spec.logInput,
    instance_norm_eps: 1e-5,
    output: '[batch, n_mels, 1 + floor(samples / 160)]',
  };
  // A separate front end must be reproducible from the file alone: ship the exact buffers.
  if (location === 'separate') {
    settings.window_f32_base64 = base64(spec.window);
    settings.mel_filterbank_f32_base64 = base64(spec.melFilterbank);
    settings.mel_filterbank_layout = `[${VOXCELEB_STFT.fftSize / 2 + 1}, n_mels] row-major`;
  }
  return settings;
}

function fbankSettings(spec: KaldiFbankSpec): Record<string, unknown> {
  return { kind: 'kaldi-fbank', location: 'separate', sample_rate: spec.sampleRateHz, num_mel_bins: spec.numMelBins, ...spec.options, output: '[frames, num_mel_bins] per waveform' };
}

/**
 * Input of a ResNet-family model, as [B, n_mels, T] log-mel features: the waveform through the
 * in-graph front end, the log-mel features, or Kaldi fbank frames [B, T, n_mels] transposed.
 * `location` undefined: inside for log-mel, separate for fbank (the only placement it has).
 */
function voxcelebInput(name: string, spec: FeatureSpec, location: FrontendLocation | undefined): Built {
  if (spec.kind === 'kaldi-fbank') {
    if (location === 'inside') throw new VoxkitError('E_USAGE', `${name} on Kaldi fbank: the front end cannot go inside the graph; use --frontend separate (or --target sherpa-onnx)`);
    const g = new OnnxGraph(name);
    const frames = g.input(ONNX_IO.fbank, 'float', ['B', 'T', spec.numMelBins], 'Kaldi fbank frames (voxkit computeFeatures; sherpa-onnx computes the same)');
    return {
      g,
      input: g.op('Transpose', [frames], { perm: [0, 2, 1] }, 'fbank_mel_major'), // [B, M, T] as the log-mel models take
      inputKind: 'kaldi-fbank',
      inputDescription: `${ONNX_IO.fbank}: float32 [B, T, ${spec.numMelBins}], Kaldi fbank frames of the front end in metadata "frontend"${spec.options.subtractMean ? ' with the utterance mean subtracted' : ''}`,
      outputs: [],
      frontend: 'separate',
      frontendSettings: fbankSettings(spec),
      batchDim: 'B',
    };
  }
  if (spec.kind !== 'voxceleb-logmel') throw new VoxkitError('E_USAGE', `${name}: expected a voxceleb log-mel or Kaldi fbank front end`);
  location ??= 'inside';
  const g = new OnnxGraph(name);
  if (location === 'inside') {
    const wave = g.input(ONNX_IO.waveform, 'float', ['batch', 'samples'], 'mono waveforms at 16 kHz, float in [-1, 1], more than 256 samples');
    const feats = voxcelebLogMel(g, wave, spec);
    return {
      g,
      input: feats,
      inputKind: 'waveform',
      inputDescription: `${ONNX_IO.waveform}: float32 [batch, samples], mono 16 kHz in [-1, 1], samples > 256`,
      outputs: [],
      frontend: location,
      frontendSettings: voxcelebSettings(spec, location),
    };
  }
  const feats = g.input(ONNX_IO.features, 'float', ['batch', spec.numMels, 'frames'], 'instance-normalised log-mel (voxkit computeFeatures)');
  return {
    g,
    input: feats,
    inputKind: 'voxceleb-logmel',
    inputDescription: `${ONNX_IO.features}: float32 [batch, ${spec.numMels}, frames], the instance-normalised log-mel of the front end in metadata "frontend"`,
    outputs: [],
    frontend: location,
    frontendSettings: voxcelebSettings(spec, location),
  };
}

/** SAP attention weights softmax_t(tanh(sap_linear(x)) · attention) of x [B, T, C] → [B, T, 1]. */
function sapWeights(g: OnnxGraph, sequence: string, sapLinear: Parameters<typeof linear>[2], attention: tf.Tensor): string {
  const hidden = g.op('Tanh', [linear(g, sequence, sapLinear, 'sap_linear', 3)]);
  const logits = g.op('MatMul', [hidden, weight(g, attention, 'attention')], {}, 'attention.logits'); // [B, T, 1]
  return g.op('Softmax', [logits], { axis: 1 }, 'attention.weights');
}

/** SAP Σ_t w x or ASP [μ, √max(Σ w x² − μ², floor)] over `axis` of x (weights broadcast). */
function attentivePool(g: OnnxGraph, x: string, w: string, type: 'SAP' | 'ASP', axis: number, floor = ASP_VARIANCE_FLOOR): string {
  const weighted = g.op('Mul', [x, w], {}, 'pool.weighted');
  const mean = reduceSum(g, weighted, [axis], 0, 'pool.mean');
  if (type === 'SAP') return mean;
  const second = reduceSum(g, g.op('Mul', [weighted, x]), [axis], 0, 'pool.second_moment');
  const variance = g.op('Max', [g.op('Sub', [second, g.op('Mul', [mean, mean])]), g.scalar(floor)]);
  return g.op('Concat', [mean, g.op('Sqrt', [variance], {}, 'pool.std')], { axis: 1 }, 'pool');
}

function finish(built: Built, embedding: string, dim: number): Built {
  built.g.output(embedding, ONNX_IO.embedding, 'float', [built.batchDim ?? 'batch', dim], 'speaker embedding');
  built.outputs.push(ONNX_IO.embedding);
  return built;
}

function exportResNetSE34L(model: ResNetSE34L, location: FrontendLocation | undefined): Built {
  const built = voxcelebInput('ResNetSE34L', model.featureSpec(), location);
  const { g } = built;
  let x = g.op('Unsqueeze', [built.input, g.ints([1])], {}, 'input'); // [B, 1, M, T]
  x = g.op('Relu', [batchNorm(g, conv2d(g, x, model.conv1, 'conv1'), model.bn1, 'bn1')]);
  model.stages.forEach((stage, i) => (x = seResNetStage(g, x, stage, `layer${i + 1}`)));
  const overFreq = g.op('ReduceMean', [x], { axes: [2], keepdims: 0 }, 'mean_freq'); // [B, C, T']
  const sequence = g.op('Transpose', [overFreq], { perm: [0, 2, 1] }, 'sequence'); // [B, T', C]
  const pooled = attentivePool(g, sequence, sapWeights(g, sequence, model.sapLinear, model.attention), model.config.pooling, 1);
  return finish(built, linear(g, pooled, model.fc, 'fc'), model.embeddingDim);
}

function exportResNetSE34V2(model: ResNetSE34V2, location: FrontendLocation | undefined): Built {
  const built = voxcelebInput('ResNetSE34V2', model.featureSpec(), location);
  const { g } = built;
  let x = g.op('Unsqueeze', [built.input, g.ints([1])], {}, 'input');
  x = batchNorm(g, g.op('Relu', [conv2d(g, x, model.conv1, 'conv1')]), model.bn1, 'bn1');
  model.stages.forEach((stage, i) => (x = seResNetStage(g, x, stage, `layer${i + 1}`)));
  // (B, C, F', T') → (B, C·F', T'), channel index c·F' + f as PyTorch's reshape.
  const bands = v2OutputBands(model.config.numMels);
  const sequence = g.op('Reshape', [x, g.ints([0, model.flatChannels, -1])], {}, 'flatten');
  if (bands * model.config.channelsPerStage[3] !== model.flatChannels) throw new VoxkitError('E_SHAPE', 'ResNetSE34V2: inconsistent flattened width');
  let h = g.op('Relu', [conv1d(g, sequence, model.attentionIn, 'attention.0')]);
  h = batchNorm(g, h, model.attentionBn, 'attention.2');
  const w = g.op('Softmax', [conv1d(g, h, model.attentionOut, 'attention.3')], { axis: 2 }, 'attention.weights');
  const pooled = attentivePool(g, sequence, w, model.config.pooling, 2);
  return finish(built, linear(g, pooled, model.fc, 'fc'), model.embeddingDim);
}

function exportVGGVox(model: VGGVox, location: FrontendLocation): Built {
  const built = voxcelebInput('VGGVox', model.featureSpec(), location);
  const { g } = built;
  let x = g.op('Unsqueeze', [built.input, g.ints([1])], {}, 'input');
  for (const { spec, conv, bn } of model.groups) {
    x = g.op('Relu', [batchNorm(g, conv2d(g, x, conv, `netcnn.${spec.convIndex}`), bn, `netcnn.${spec.convIndex + 1}`)]);
    if (spec.maxPool) x = g.op('MaxPool', [x], { kernel_shape: spec.maxPool.kernel, strides: spec.maxPool.stride }, `netcnn.pool${spec.convIndex}`);
  }
  let pooled: string;
  if (model.config.pooling === 'SAP') {
    const sequence = g.op('Transpose', [g.op('Squeeze', [x, g.ints([2])])], { perm: [0, 2, 1] }, 'sequence'); // [B, T', 512]
    pooled = attentivePool(g, sequence, sapWeights(g, sequence, model.sapLinear!, model.attention!), 'SAP', 1);
  } else {
    pooled = g.op(model.config.pooling === 'TAP' ? 'ReduceMean' : 'ReduceMax', [x], { axes: [2, 3], keepdims: 0 }, 'pool');
  }
  return finish(built, linear(g, pooled, model.fc, 'fc'), model.embeddingDim);
}

function ge2eHead(g: OnnxGraph, frames: string, model: Ge2eLstmEncoder): string {
  const timeMajor = g.op('Transpose', [frames], { perm: [1, 0, 2] }, 'frames_time_major');
  const last = lstmStack(g, timeMajor, model.lstm, 'lstm');
  const relu = g.op('Relu', [linear(g, last, model.linear, 'linear')], {}, 'relu');
  const norm = g.op('ReduceL2', [relu], { axes: [1], keepdims: 1 }, 'norm');
  return g.op('Div', [relu, g.op('Add', [norm, g.scalar(GE2E_NORM_EPSILON)])], {}, 'normalized');
}

function exportRtvc(model: Ge2eLstmEncoder & { config: { numMels: number; melPadMode: string } }): Built {
  const g = new OnnxGraph('RTVC');
  const numMels = model.config.numMels;
  const frames = g.input(ONNX_IO.melFrames, 'float', ['batch', 'frames', numMels], 'RTVC mel frames (linear power, no log)');
  const built: Built = {
    g,
    input: frames,
    inputKind: 'rtvc-mel',
    inputDescription: `${ONNX_IO.melFrames}: float32 [batch, frames, ${numMels}], RTVC linear-power mel (librosa, n_fft 400, hop 160, Slaney mels); RTVC embeds 160-frame partials and averages them`,
    outputs: [],
    frontend: 'separate',
    frontendSettings: {
      kind: 'rtvc-mel',
      location: 'separate',
      sample_rate: model.sampleRateHz,
      n_fft: 400,
      win_length: 400,
      hop_length: 160,
      window: 'hann',
      center: true,
      pad_mode: model.config.melPadMode,
      n_mels: numMels,
      mel_scale: 'slaney',
      mel_norm: 'slaney',
      power: 2,
      log: false,
      partial_frames: 160,
      partial_overlap: 0.5,
      min_pad_coverage: 0.75,
      output: `[frames, ${numMels}] per waveform`,
    },
  };
  return finish(built, ge2eHead(g, frames, model), model.embeddingDim);
}

function exportSinger(model: SingerEncoder): Built {
  const g = new OnnxGraph('SingerEncoder');
  const numFeats = model.config.numFeats;
  const frames = g.input(ONNX_IO.featureFrames, 'float', ['batch', 'frames', numFeats], 'precomputed feature frames');
  const built: Built = {
    g,
    input: frames,
    inputKind: 'frames',
    inputDescription: `${ONNX_IO.featureFrames}: float32 [batch, frames, ${numFeats}], precomputed singing features (WORLD spectral envelope, made outside voxkit)`,
    outputs: [],
    frontend: 'separate',
    frontendSettings: { kind: 'frames', location: 'separate', num_feats: numFeats },
  };
  const embedding = ge2eHead(g, frames, model);
  finish(built, embedding, model.embeddingDim);
  const logits = linear(g, embedding, model.classLayer, 'class_layer');
  g.output(logits, ONNX_IO.classLogits, 'float', ['batch', model.config.classNum], 'singer class scores');
  built.outputs.push(ONNX_IO.classLogits);
  return built;
}

function bottle2neck(g: OnnxGraph, x: string, block: Bottle2neck, hint: string): string {
  const residual = block.residualConv ? conv1d(g, x, block.residualConv, `${hint}.residual.0`) : x;
  const hidden = batchNorm(g, g.op('Relu', [conv1d(g, x, block.conv1, `${hint}.conv1`)]), block.bn1, `${hint}.bn1`);
  const scale = block.options.scale;
  const groups = g.opN('Split', [hidden, g.ints(new Array(scale).fill(block.width))], scale, { axis: 1 }, `${hint}.split`);
  const branches: string[] = [];
  let branch: string | undefined;
  block.convs.items.forEach((conv, i) => {
    const input = branch ? g.op('Add', [branch, groups[i]]) : groups[i];
    branch = batchNorm(g, g.op('Relu', [conv1d(g, input, conv, `${hint}.convs.${i}`)]), block.bns.items[i], `${hint}.bns.${i}`);
    branches.push(branch);
  });
  branches.push(groups[scale - 1]);
  const merged = g.op('Concat', branches, { axis: 1 });
  let out = batchNorm(g, g.op('Relu', [conv1d(g, merged, block.conv3, `${hint}.conv3`)]), block.bn3, `${hint}.bn3`);
  out = g.op('Add', [out, residual]);
  if (block.pool) out = g.op('MaxPool', [out], { kernel_shape: [block.pool], strides: [block.pool] }, `${hint}.mp`);
  // AFMS: (x + α) · sigmoid(fc(mean_t x)).
  const afms = block.afms;
  const gate = g.op('Sigmoid', [linear(g, g.op('ReduceMean', [out], { axes: [2], keepdims: 0 }), afms.fc, `${hint}.afms.fc`)]);
  const shifted = g.op('Add', [out, weight(g, afms.alpha, `${hint}.afms.alpha`)]); // alpha [C, 1] broadcasts over [B, C, T]
  return g.op('Mul', [shifted, g.op('Unsqueeze', [gate, g.ints([2])])], {}, hint);
}

function exportRawNet3(model: RawNet3): Built {
  const c = model.config;
  if (c.normSinc === 'mean_std') throw new VoxkitError('E_USAGE', 'RawNet3 ONNX export: norm_sinc "mean_std" is not supported (the published model uses "mean")');
  const g = new OnnxGraph('RawNet3');
  const preEmphasisCoefficient = -model.preEmphasis.flippedFilter.dataSync()[0];
  const wave = g.input(ONNX_IO.waveform, 'float', ['batch', 'samples'], `mono waveforms at ${model.sampleRateHz} Hz, float in [-1, 1]`);
  const built: Built = {
    g,
    input: wave,
    inputKind: 'waveform',
    inputDescription: `${ONNX_IO.waveform}: float32 [batch, samples], mono ${model.sampleRateHz} Hz in [-1, 1], samples ≥ ${model.minSamples()}`,
    outputs: [],
    frontend: 'inside',
    frontendSettings: {
      kind: 'waveform',
      location: 'inside',
      sample_rate: model.sampleRateHz,
      pre_emphasis: preEmphasisCoefficient,
      note: 'pre-emphasis, waveform InstanceNorm and the learnable sinc filterbank are part of the network',
    },
  };
  const emphasised = preEmphasis(g, wave, preEmphasisCoefficient, 'preprocess.0');
  const norm = model.waveformNorm;
  const normed = g.op(
    'InstanceNormalization',
    [g.op('Unsqueeze', [emphasised, g.ints([1])]), weight(g, norm.weight!, 'preprocess.1.weight'), weight(g, norm.bias!, 'preprocess.1.bias')],
    { epsilon: { f: norm.eps } },
    'preprocess.1',
  );
  const fb = model.conv1.filterbank;
  const filters = model.conv1.filterbank.filters();
  const kernel = g.initializer('conv1.filters', values(filters), [fb.numOutputs, 1, fb.kernelSize]);
  filters.dispose();
  let x = g.op('Conv', [normed, kernel], { kernel_shape: [fb.kernelSize], strides: [fb.stride] }, 'conv1');
  x = g.op('Abs', [x]);
  if (c.logSinc) x = g.op('Log', [g.op('Add', [x, g.scalar(1e-6)])], {}, 'log_sinc');
  if (c.normSinc === 'mean') x = g.op('Sub', [x, g.op('ReduceMean', [x], { axes: [2], keepdims: 1 })], {}, 'norm_sinc');
  const x1 = bottle2neck(g, x, model.layer1, 'layer1');
  const x2 = bottle2neck(g, x1, model.layer2, 'layer2');
  const pooled1 = g.op('MaxPool', [x1], { kernel_shape: [3], strides: [3] }, 'mp3');
  const x3 = bottle2neck(g, c.summed ? g.op('Add', [pooled1, x2]) : x2, model.layer3, 'layer3');
  const merged = g.op('Concat', [pooled1, x2, x3], { axis: 1 });
  const frames = g.op('Relu', [conv1d(g, merged, model.layer4, 'layer4')], {}, 'layer4.relu'); // [B, 1536, T]
  // Attention input: each frame with the utterance mean and unbiased std (clamped) when `context`.
  const att = model.attention;
  let attentionInput = frames;
  if (att.options.context) {
    const mean = g.op('ReduceMean', [frames], { axes: [2], keepdims: 1 }, 'context.mean');
    const centred = g.op('Sub', [frames, mean]);
    const time = g.op('Cast', [g.op('Shape', [frames], { start: 2, end: 3 })], { to: 1 }, 'context.time');
    const variance = g.op('Div', [reduceSum(g, g.op('Mul', [centred, centred]), [2], 1, 'context.sum_squares'), g.op('Sub', [time, g.scalar(1)])]);
    const std = g.op('Sqrt', [g.op('Clip', [variance, g.scalar(1e-4), g.scalar(1e4)])], {}, 'context.std');
    const tiled = g.op('Shape', [frames], {}, 'context.shape');
    attentionInput = g.op('Concat', [frames, g.op('Expand', [mean, tiled]), g.op('Expand', [std, tiled])], { axis: 1 }, 'context');
  }
  let h = g.op('Relu', [conv1d(g, attentionInput, att.hidden, 'attention.0')]);
  h = batchNorm(g, h, att.norm, 'attention.2');
  const w = g.op('Softmax', [conv1d(g, h, att.scores, 'attention.3')], { axis: 2 }, 'attention.weights');
  const mu = reduceSum(g, g.op('Mul', [frames, w]), [2], 0, 'pool.mean');
  const second = reduceSum(g, g.op('Mul', [g.op('Mul', [frames, frames]), w]), [2], 0, 'pool.second_moment');
  const sigma = g.op('Sqrt', [g.op('Clip', [g.op('Sub', [second, g.op('Mul', [mu, mu])]), g.scalar(1e-4), g.scalar(1e4)])]);
  const stats = g.op('Concat', [mu, sigma], { axis: 1 }, 'stats');
  let embedding = linear(g, batchNorm(g, stats, model.bn5, 'bn5'), model.fc6, 'fc6');
  if (c.outBatchNorm) embedding = batchNorm(g, embedding, model.bn6, 'bn6');
  return finish(built, embedding, model.embeddingDim);
}

function build(encoder: SpeakerEncoder, location: FrontendLocation | undefined): Built {
  switch (encoder.architecture) {
    case 'ResNetSE34L':
      return exportResNetSE34L(encoder as ResNetSE34L, location);
    case 'ResNetSE34V2':
      return exportResNetSE34V2(encoder as ResNetSE34V2, location);
    case 'VGGVox':
      return exportVGGVox(encoder as VGGVox, location ?? 'inside');
    case 'RawNet3':
      return exportRawNet3(encoder as RawNet3);
    case 'RTVC':
      if (location === 'inside') throw frontendNotInside('RTVC', 'mel frames (the partial-utterance logic needs them outside the graph)');
      return exportRtvc(encoder as unknown as Ge2eLstmEncoder & { config: { numMels: number; melPadMode: string } });
    case 'SingerEncoder':
      if (location === 'inside') throw frontendNotInside('SingerEncoder', 'precomputed feature frames (it has no waveform front end)');
      return exportSinger(encoder as SingerEncoder);
    default:
      throw new VoxkitError('E_USAGE', `no ONNX exporter for architecture "${encoder.architecture}"`);
  }
}

function frontendNotInside(name: string, what: string): VoxkitError {
  return new VoxkitError('E_USAGE', `${name} exports take ${what}; use --frontend separate`);
}

/**
 * Exports an encoder (eval mode, its current weights) as an ONNX model.
 * Throws VoxkitError E_USAGE for a front-end placement the architecture cannot have.
 */
export function exportOnnx(encoder: SpeakerEncoder, options: OnnxExportOptions = {}): OnnxExport {
  if (encoder.training) throw new VoxkitError('E_USAGE', 'ONNX export needs the encoder in eval mode (call encoder.eval())');
  const built = build(encoder, options.frontend);
  const strategy = built.inputKind === 'rtvc-mel' ? 'rtvc-partials' : built.inputKind === 'frames' ? 'feature-frames' : 'utterance';
  const metadata: Record<string, string> = {
    architecture: encoder.architecture,
    embedding_dim: String(encoder.embeddingDim),
    sample_rate: String(encoder.sampleRateHz),
    frontend: JSON.stringify(built.frontendSettings),
    frontend_location: built.frontend,
    input_description: built.inputDescription,
    embedding_strategy: strategy,
    voxkit_version: VERSION,
    ...options.metadata,
  };
  const bytes = encodeModel(built.g.toModel(metadata, VERSION, `${encoder.architecture} speaker encoder exported by voxkit ${VERSION}`));
  return {
    bytes,
    metadata,
    inputName: inputNameOf(built.inputKind),
    inputKind: built.inputKind,
    outputNames: built.outputs,
    frontend: built.frontend,
    nodeCount: built.g.nodeCount,
  };
}

function inputNameOf(kind: OnnxExport['inputKind']): string {
  switch (kind) {
    case 'waveform':
      return ONNX_IO.waveform;
    case 'voxceleb-logmel':
      return ONNX_IO.features;
    case 'kaldi-fbank':
      return ONNX_IO.fbank;
    case 'rtvc-mel':
      return ONNX_IO.melFrames;
    default:
      return ONNX_IO.featureFrames;
  }
}
