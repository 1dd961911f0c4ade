/**
 * voxkit in the browser (`voxkit/browser`, bundled to dist/browser/voxkit-browser.js): speaker
 * embeddings from exported ONNX models with onnxruntime-web, and the `voxkit serve` page.
 */
export { BrowserEmbedder, cosineScore, decodeAudioBytes, frontendSpecFromMetadata } from './embedder.js';
export type { BrowserAudio, BrowserEmbedderOptions, BrowserModelInfo } from './embedder.js';
export { startVoxkitApp, initialThreshold, DEFAULT_THRESHOLD } from './app.js';
export type { PageConfig } from './app.js';
