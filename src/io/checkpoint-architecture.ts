/**
 * Recognises which encoder a state dict belongs to from its key/shape signature, and reads the
 * hyper-parameters that the shapes fix (mel bands, widths, pooling type, embedding size …).
 * Works on shapes only, so it also applies to key lists without weights.
 */
export type ArchitectureName = 'ResNetSE34L' | 'ResNetSE34V2' | 'VGGVox' | 'RawNet3' | 'RTVC' | 'SingerEncoder';

/** Anything keyed by state-dict name with a shape (a StateDict qualifies). */
export type ShapeMap = ReadonlyMap<string, { readonly shape: readonly number[] }>;

function shapeOf(keys: ShapeMap, key: string): readonly number[] | undefined {
  return keys.get(key)?.shape;
}

function dim(keys: ShapeMap, key: string, axis: number): number | undefined {
  return shapeOf(keys, key)?.[axis];
}

function hasPrefix(keys: ShapeMap, prefix: string): boolean {
  for (const k of keys.keys()) if (k.startsWith(prefix)) return true;
  return false;
}

/** Best guess of the architecture, or undefined when the signature matches none. */
export function detectArchitecture(keys: ShapeMap): ArchitectureName | undefined {
  if (keys.has('lstm.weight_ih_l0')) return hasPrefix(keys, 'class_layer.') ? 'SingerEncoder' : 'RTVC';
  if (keys.has('conv1.filterbank.low_hz_')) return 'RawNet3';
  if (hasPrefix(keys, 'netcnn.')) return 'VGGVox';
  const stem = shapeOf(keys, 'conv1.weight');
  if (stem?.length === 4 && hasPrefix(keys, 'layer4.')) {
    if (keys.has('attention.0.weight') || (keys.has('conv1.bias') && stem[2] === 3 && stem[3] === 3)) return 'ResNetSE34V2';
    if (keys.has('attention') || (!keys.has('conv1.bias') && stem[2] === 7 && stem[3] === 7)) return 'ResNetSE34L';
  }
  return undefined;
}

/** Number of blocks `<stage>.<i>.…` in a ResNet stage. */
function blockCount(keys: ShapeMap, stage: string): number {
  const indices = new Set<number>();
  const pattern = new RegExp(`^${stage}\\.(\\d+)\\.`);
  for (const k of keys.keys()) {
    const m = pattern.exec(k);
    if (m) indices.add(Number(m[1]));
  }
  return indices.size;
}

function encoderTypeFromPoolWidth(fcInFeatures: number | undefined, channels: number | undefined): 'SAP' | 'ASP' | undefined {
  if (fcInFeatures === undefined || channels === undefined) return undefined;
  if (fcInFeatures === channels) return 'SAP';
  if (fcInFeatures === 2 * channels) return 'ASP';
  return undefined;
}

/** The voxceleb_trainer mel front end stored as buffers (`torchfb.…`, V2: `torchfb.1.…`). */
function melFrontEnd(keys: ShapeMap): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const prefix = keys.has('torchfb.1.mel_scale.fb') ? 'torchfb.1.' : 'torchfb.';
  const fb = shapeOf(keys, `${prefix}mel_scale.fb`);
  if (fb) {
    out.numMels = fb[1];
    out.nFft = (fb[0] - 1) * 2;
  }
  const window = shapeOf(keys, `${prefix}spectrogram.window`);
  if (window) out.windowLength = window[0];
  out.preEmphasis = keys.has('torchfb.0.flipped_filter');
  return out;
}

/**
 * voxkit's Kaldi fbank front end (`fbank.settings` = [preset, num_mel_bins, input_scale,
 * subtract_mean]); its values are read when the map holds them (a state dict does).
 */
function fbankFrontEnd(keys: ShapeMap): Record<string, unknown> {
  const entry = keys.get('fbank.settings') as { readonly data?: ArrayLike<number> } | undefined;
  if (!entry) return {};
  const out: Record<string, unknown> = { frontend: 'kaldi-fbank' };
  const values = entry.data;
  if (values?.length === 4) Object.assign(out, { numMels: values[1], fbankInputScale: values[2], fbankSubtractMean: values[3] !== 0 });
  return out;
}

function resnetHyperparameters(keys: ShapeMap, arch: 'ResNetSE34L' | 'ResNetSE34V2'): Record<string, unknown> {
  const numFilters = [1, 2, 3, 4].map((i) => dim(keys, `layer${i}.0.conv1.weight`, 0));
  const layers = [1, 2, 3, 4].map((i) => blockCount(keys, `layer${i}`));
  const channels = numFilters[3];
  const fcIn = dim(keys, 'fc.weight', 1);
  // V2 pools over C·F (channels × remaining mel bins); 34L averages frequency away first.
  const pooledWidth = arch === 'ResNetSE34V2' ? dim(keys, 'attention.0.weight', 1) : dim(keys, 'attention', 0) ?? channels;
  const out: Record<string, unknown> = {
    ...melFrontEnd(keys),
    ...fbankFrontEnd(keys),
    numFilters,
    layers,
    embeddingDim: dim(keys, 'fc.weight', 0),
    encoderType: encoderTypeFromPoolWidth(fcIn, pooledWidth),
  };
  if (arch === 'ResNetSE34V2' && pooledWidth !== undefined && channels) out.pooledFreqBins = pooledWidth / channels;
  return out;
}

function vggHyperparameters(keys: ShapeMap): Record<string, unknown> {
  const convWidths: Array<[number, number]> = [];
  for (const [k, v] of keys) {
    const m = /^netcnn\.(\d+)\.weight$/.exec(k);
    if (m && v.shape.length === 4) convWidths.push([Number(m[1]), v.shape[0]]);
  }
  convWidths.sort((a, b) => a[0] - b[0]);
  const channels = dim(keys, 'attention', 0) ?? convWidths[convWidths.length - 1]?.[1];
  return {
    ...melFrontEnd(keys),
    numFilters: convWidths.map(([, w]) => w),
    embeddingDim: dim(keys, 'fc.weight', 0),
    encoderType: encoderTypeFromPoolWidth(dim(keys, 'fc.weight', 1), channels),
  };
}

function rawNet3Hyperparameters(keys: ShapeMap): Record<string, unknown> {
  const sincBands = dim(keys, 'conv1.filterbank.low_hz_', 0);
  const halfWindow = dim(keys, 'conv1.filterbank.window_', 0);
  const attentionOut = dim(keys, 'attention.3.weight', 0);
  const layer4Out = dim(keys, 'layer4.weight', 0);
  const attentionIn = dim(keys, 'attention.0.weight', 1);
  let branches = 0;
  while (keys.has(`layer1.convs.${branches}.weight`)) branches++;
  return {
    channels: dim(keys, 'layer1.conv1.weight', 0),
    numSincFilters: sincBands === undefined ? undefined : 2 * sincBands,
    sincKernelSize: halfWindow === undefined ? undefined : 2 * halfWindow + 1,
    modelScale: branches + 1,
    encoderType: attentionOut === undefined ? undefined : attentionOut === 1 ? 'ASP' : 'ECA',
    context: attentionIn !== undefined && layer4Out !== undefined ? attentionIn === 3 * layer4Out : undefined,
    embeddingDim: dim(keys, 'fc6.weight', 0),
    preEmphasis: keys.has('preprocess.0.flipped_filter'),
  };
}

function lstmHyperparameters(keys: ShapeMap, arch: 'RTVC' | 'SingerEncoder'): Record<string, unknown> {
  let numLayers = 0;
  while (keys.has(`lstm.weight_ih_l${numLayers}`)) numLayers++;
  const inputSize = dim(keys, 'lstm.weight_ih_l0', 1);
  const out: Record<string, unknown> = {
    inputSize,
    hiddenSize: dim(keys, 'lstm.weight_hh_l0', 1),
    numLayers,
    embeddingDim: dim(keys, 'linear.weight', 0),
  };
  if (arch === 'RTVC') out.numMels = inputSize;
  else {
    out.numFeats = inputSize;
    out.numClasses = dim(keys, 'class_layer.weight', 0);
  }
  return out;
}

/** Hyper-parameters fixed by the shapes of an encoder's state dict. */
export function architectureHyperparameters(arch: ArchitectureName | undefined, keys: ShapeMap): Record<string, unknown> {
  switch (arch) {
    case 'ResNetSE34L':
    case 'ResNetSE34V2':
      return resnetHyperparameters(keys, arch);
    case 'VGGVox':
      return vggHyperparameters(keys);
    case 'RawNet3':
      return rawNet3Hyperparameters(keys);
    case 'RTVC':
    case 'SingerEncoder':
      return lstmHyperparameters(keys, arch);
    default:
      return {};
  }
}

/**
 * What a voxceleb_trainer loss head's keys say: the candidate loss types (angleproto and ge2e share
 * `w`, `b`) and the number of training classes for classification heads.
 */
export function lossHyperparameters(loss: ShapeMap): Record<string, unknown> {
  if (loss.size === 0) return {};
  if (loss.has('softmax.fc.weight')) return { lossTypes: ['softmaxproto'], lossNumClasses: dim(loss, 'softmax.fc.weight', 0) };
  if (loss.has('fc.weight')) return { lossTypes: ['softmax'], lossNumClasses: dim(loss, 'fc.weight', 0) };
  if (loss.has('weight')) return { lossTypes: ['aamsoftmax'], lossNumClasses: dim(loss, 'weight', 0) };
  if (loss.has('W')) return { lossTypes: ['amsoftmax'], lossNumClasses: dim(loss, 'W', 1) };
  if (loss.has('w') && loss.has('b')) return { lossTypes: ['angleproto', 'ge2e'] };
  return { lossTypes: [] };
}
