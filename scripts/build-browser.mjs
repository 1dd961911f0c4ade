#!/usr/bin/env node
// Bundles the browser entry (src/browser/index.ts) with esbuild into dist/browser/:
// voxkit-browser.js (ESM, minified, with its source map; the lazily loaded resampler in a
// voxkit-chunk-*.js beside it), index.html and style.css, the files
// `voxkit serve` serves. onnxruntime-web's wasm files are not copied: the server serves them from
// node_modules/onnxruntime-web/dist. Fails when the bundle would pull in a Node-only module or
// TensorFlow.js. Usage: node scripts/build-browser.mjs [OUT_DIR]
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BROWSER_SOURCE_DIR = join(root, 'src', 'browser');
export const DEFAULT_BROWSER_OUT_DIR = join(root, 'dist', 'browser');
export const BUNDLE_NAME = 'voxkit-browser.js';
const STATIC_FILES = ['index.html', 'style.css'];
/** Inputs that must never reach the browser bundle. */
const FORBIDDEN_INPUT = /(^node:)|(node_modules\/@tensorflow\/)|(-node\.ts$)|(node_modules\/onnxruntime-node\/)/;

async function writeAtomic(path, contents) {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(temporary, contents);
  await rename(temporary, path);
}

/** Builds the bundle into `outDir`; returns the bundle's size and its inputs. */
export async function buildBrowser(outDir = DEFAULT_BROWSER_OUT_DIR, { logLevel = 'warning' } = {}) {
  const outfile = join(outDir, BUNDLE_NAME);
  const result = await build({
    entryPoints: { [BUNDLE_NAME.replace(/\.js$/, '')]: join(BROWSER_SOURCE_DIR, 'index.ts') },
    outdir: outDir,
    // The resampler (libsamplerate, 2 MB) is imported lazily: its own chunk.
    splitting: true,
    chunkNames: 'voxkit-chunk-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    // onnxruntime-web without its inlined wasm: the server serves the .wasm beside the page, so
    // the bundle stays small and the wasm streams-compiles with its own MIME type.
    conditions: ['onnxruntime-web-use-extern-wasm'],
    metafile: true,
    write: false,
    logLevel,
  });
  const inputs = Object.keys(result.metafile.inputs);
  const forbidden = inputs.filter((input) => FORBIDDEN_INPUT.test(input));
  if (forbidden.length) throw new Error(`browser bundle pulls in Node-only code: ${forbidden.join(', ')}`);
  await mkdir(outDir, { recursive: true });
  let bytes = 0;
  for (const file of result.outputFiles) {
    await writeAtomic(file.path, file.contents);
    if (file.path === outfile) bytes = file.contents.length;
  }
  for (const name of STATIC_FILES) await writeAtomic(join(outDir, name), await readFile(join(BROWSER_SOURCE_DIR, name)));
  // Chunks of earlier builds (hash-named) would otherwise pile up and be served.
  const current = new Set(result.outputFiles.map((file) => basename(file.path)));
  for (const name of await readdir(outDir)) {
    if (name.startsWith('voxkit-chunk-') && !current.has(name)) await rm(join(outDir, name), { force: true });
  }
  return { outDir, bundleBytes: bytes, inputs };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outDir = resolve(process.argv[2] ?? DEFAULT_BROWSER_OUT_DIR);
  const { bundleBytes, inputs } = await buildBrowser(outDir);
  console.log(`browser bundle: ${join(outDir, BUNDLE_NAME)} (${(bundleBytes / 1024).toFixed(0)} KiB, ${inputs.length} inputs)`);
}
