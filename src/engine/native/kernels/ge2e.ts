/** The fused GE2E similarity logits (src/core/fused-kernels.ts) and their gradient on ge2e.cc. */
import * as tf from '@tensorflow/tfjs';
import { GE2E_SIMILARITY, GE2E_SIMILARITY_GRAD, type Ge2eSimilarityAttrs } from '../../../core/fused-kernels.js';
import { addon, allocate, kernel, sizeOf, values, type KernelCall } from '../context.js';

function settings(attrs: tf.NamedAttrMap | undefined): Float64Array {
  const a = attrs as unknown as Ge2eSimilarityAttrs;
  return Float64Array.from([a.centroidEps, a.centroidEpsAdded ? 1 : 0, a.utteranceEps, a.minSimilarity]);
}

function forward({ inputs, backend, attrs }: KernelCall): tf.TensorInfo[] {
  const embeddings = inputs.embeddings!;
  const [speakers, utterances, dim] = embeddings.shape as [number, number, number];
  const rows = speakers * utterances;
  const logits = allocate('float32', rows * speakers);
  const similarity = allocate('float32', rows * speakers);
  addon().ge2eSimilarity(
    values(backend, embeddings), values(backend, inputs.weight!), values(backend, inputs.bias!), logits, similarity,
    speakers, utterances, dim, settings(attrs),
  );
  return [
    backend.makeTensorInfo([rows, speakers], 'float32', logits),
    backend.makeTensorInfo([rows, speakers], 'float32', similarity),
  ];
}

function gradient({ inputs, backend, attrs }: KernelCall): tf.TensorInfo[] {
  const { embeddings, weight, bias } = inputs as Record<string, tf.TensorInfo>;
  const [speakers, utterances, dim] = embeddings!.shape as [number, number, number];
  const dEmbeddings = allocate('float32', sizeOf(embeddings!.shape));
  const dWeight = new Float32Array(1);
  const dBias = new Float32Array(1);
  addon().ge2eSimilarityGrad(
    values(backend, inputs.dLogits!), values(backend, embeddings!), values(backend, weight!), values(backend, inputs.similarity!),
    dEmbeddings, dWeight, dBias, speakers, utterances, dim, settings(attrs),
  );
  return [
    backend.makeTensorInfo(embeddings!.shape, 'float32', dEmbeddings),
    backend.makeTensorInfo(weight!.shape, 'float32', dWeight),
    backend.makeTensorInfo(bias!.shape, 'float32', dBias),
  ];
}

export const ge2eKernels: tf.KernelConfig[] = [
  kernel(GE2E_SIMILARITY, forward),
  kernel(GE2E_SIMILARITY_GRAD, gradient),
];
