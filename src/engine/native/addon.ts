/**
 * The native addon's interface (native/src/*.cc). Every kernel writes into the output array it is
 * given; shapes travel as Int32Arrays. Operation codes match the enums in the C++ sources.
 */
export type TypedArray = Float32Array | Int32Array | Uint8Array;

export interface NativeVersions {
  onednn: string;
  openblas: string;
  processors: number;
}

export interface NativeAddon {
  setThreads(threads: number): void;
  getThreads(): number;
  versions(): NativeVersions;
  matmul(
    a: Float32Array, b: Float32Array, out: Float32Array,
    batchA: number, batchB: number, m: number, k: number, n: number,
    transposeA: number, transposeB: number, bias: Float32Array | null, activation: number,
  ): void;
  conv2d(x: Float32Array, filter: Float32Array, out: Float32Array, geometry: Int32Array, bias: Float32Array | null, relu: number): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: Int32Array): void;
  binary(a: Float32Array, aShape: Int32Array, b: Float32Array, bShape: Int32Array, out: Float32Array | Uint8Array, outShape: Int32Array, op: number): void;
  unary(x: Float32Array, out: Float32Array, op: number, alpha: number, beta: number): void;
  reluGrad(dy: Float32Array, x: Float32Array, out: Float32Array): void;
  transpose(x: TypedArray, shape: Int32Array, perm: Int32Array, out: TypedArray, elementBytes: number): void;
  reduce(x: Float32Array, shape: Int32Array, axes: Int32Array, out: Float32Array | Int32Array, op: number): void;
  slice(x: TypedArray, shape: Int32Array, begin: Int32Array, size: Int32Array, out: TypedArray, elementBytes: number): void;
  concat(parts: TypedArray[], partInner: Int32Array, outer: number, out: TypedArray, elementBytes: number): void;
  adamStep(
    param: Float32Array, grad: Float32Array, expAvg: Float32Array, expAvgSq: Float32Array, maxExpAvgSq: Float32Array | null,
    outParam: Float32Array, outExpAvg: Float32Array, outExpAvgSq: Float32Array, outMaxExpAvgSq: Float32Array | null,
    settings: Float64Array,
  ): void;
  batchNormTraining(
    x: Float32Array, scale: Float32Array, offset: Float32Array,
    y: Float32Array, mean: Float32Array, variance: Float32Array, channels: number, epsilon: number,
  ): void;
  batchNormTrainingGrad(
    dy: Float32Array, x: Float32Array, mean: Float32Array, variance: Float32Array, scale: Float32Array,
    dMean: Float32Array, dVariance: Float32Array, dx: Float32Array, dScale: Float32Array, dOffset: Float32Array,
    channels: number, epsilon: number,
  ): void;
  lstmForward(
    projected: Float32Array, weightHhT: Float32Array, h0: Float32Array, c0: Float32Array,
    outputs: Float32Array, h: Float32Array, c: Float32Array, gates: Float32Array, cells: Float32Array,
    steps: number, batch: number, hidden: number,
  ): void;
  lstmBackward(
    weightHhT: Float32Array, h0: Float32Array, c0: Float32Array,
    outputs: Float32Array, gates: Float32Array, cells: Float32Array,
    dOutputs: Float32Array | null, dH: Float32Array | null, dC: Float32Array | null,
    dProjected: Float32Array, dWeightHhT: Float32Array, dH0: Float32Array, dC0: Float32Array,
    steps: number, batch: number, hidden: number,
  ): void;
  ge2eSimilarity(
    embeddings: Float32Array, weight: Float32Array, bias: Float32Array, logits: Float32Array, similarity: Float32Array,
    speakers: number, utterances: number, dim: number, settings: Float64Array,
  ): void;
  ge2eSimilarityGrad(
    dLogits: Float32Array, embeddings: Float32Array, weight: Float32Array, similarity: Float32Array,
    dEmbeddings: Float32Array, dWeight: Float32Array, dBias: Float32Array,
    speakers: number, utterances: number, dim: number, settings: Float64Array,
  ): void;
}

/** Activation codes of the fused kernels (blas.cc). */
export const ACTIVATION = { linear: 0, relu: 1, sigmoid: 2, tanh: 3 } as const;
