/**
 * `node --import tsx --import ./test/helpers/hide-onnxruntime.mjs …`: the process behaves as if
 * onnxruntime-node were not installed. A module-resolution hook makes every `onnxruntime-node`
 * import fail with ERR_MODULE_NOT_FOUND, so voxkit's own fallback (the rejected dynamic import in
 * src/engine/ort-node.ts) is what the tests exercise. Used only by tests.
 */
import { register } from 'node:module';

const hooks = `
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'onnxruntime-node' || specifier.startsWith('onnxruntime-node/')) {
    const error = new Error("Cannot find package 'onnxruntime-node' (hidden by test/helpers/hide-onnxruntime.mjs)");
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return nextResolve(specifier, context);
}
`;

register(`data:text/javascript,${encodeURIComponent(hooks)}`);
