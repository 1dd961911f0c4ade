/**
 * `voxkit serve`: an HTTP server for the browser page (dist/browser), the encoder exported to ONNX
 * in memory, and onnxruntime-web's wasm runtime. Only the fixed routes below exist — request paths
 * are looked up, never joined onto a folder, so nothing outside them can be reached.
 *
 * No cross-origin isolation headers: they would let onnxruntime-web use threads, but they also
 * forbid the page from loading anything cross-origin, and a single thread embeds a few seconds of
 * speech in well under a second. The page runs ORT single-threaded unless it is isolated.
 */
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VoxkitError } from '../errors.js';
import { disposeLoadedEncoder, loadEncoder } from '../api/load-encoder-node.js';
import { exportOnnx, type FrontendLocation, type OnnxExport } from '../export/onnx/export.js';
import { sha256Hex } from '../train/checkpoint-node.js';

export interface ServeOptions {
  /** Checkpoint to serve. */
  weights: string;
  /** Architecture, when the checkpoint does not say. */
  model?: string;
  /**
   * Where the page computes the front end: 'separate' (default: in TypeScript, the same code as
   * the Node engines) or 'inside' the ONNX graph.
   */
  frontend?: FrontendLocation;
  /** Default 127.0.0.1 (browsers allow the microphone on localhost without https). */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Decision threshold the page starts from (default: the page's uncalibrated 0.5). */
  threshold?: number;
  /** Folder with the built page (default: dist/browser of this package). */
  bundleDir?: string;
  /** Called once the server listens. */
  listening?: (server: VoxkitServer) => void;
}

export interface VoxkitServer {
  url: string;
  host: string;
  port: number;
  architecture: string;
  /** The ONNX model the page loads. */
  exported: OnnxExport;
  /** The URL paths served. */
  routes: string[];
  close(): Promise<void>;
}

interface Route {
  contentType: string;
  /** A file on disk, streamed, or bytes in memory. */
  file?: string;
  bytes?: Uint8Array;
}

const MIME_BY_EXTENSION: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** Files of the built page that are served (esbuild names the lazily loaded chunks by hash). */
const BUNDLE_FILE = /^(index\.html|style\.css|voxkit-browser\.js(\.map)?|voxkit-chunk-[A-Z0-9]+\.js(\.map)?)$/;
/** The onnxruntime-web wasm runtime the browser entry (ort.wasm, external wasm) loads. */
const ORT_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
const ORT_PREFIX = '/ort/';
const MODEL_PATH = '/model.onnx';

function mimeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return MIME_BY_EXTENSION[dot >= 0 ? name.slice(dot) : ''] ?? 'application/octet-stream';
}

/**
 * VOXKIT_BROWSER_DIR when set (a customised or freshly built page), else dist/browser of this
 * package: beside this module when built, under dist/ when run from src/.
 */
export function defaultBundleDir(): string {
  if (process.env.VOXKIT_BROWSER_DIR) return process.env.VOXKIT_BROWSER_DIR;
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'browser'), join(here, '..', '..', 'dist', 'browser')];
  return candidates.find((dir) => existsSync(join(dir, 'voxkit-browser.js'))) ?? candidates[candidates.length - 1];
}

function bundleRoutes(bundleDir: string): Map<string, Route> {
  if (!existsSync(join(bundleDir, 'voxkit-browser.js')) || !existsSync(join(bundleDir, 'index.html'))) {
    throw new VoxkitError('E_IO', 'the browser page is not built (run `npm run build`, or `node scripts/build-browser.mjs`)', { file: bundleDir });
  }
  const routes = new Map<string, Route>();
  for (const name of readdirSync(bundleDir)) {
    if (BUNDLE_FILE.test(name) && statSync(join(bundleDir, name)).isFile()) routes.set(`/${name}`, { contentType: mimeOf(name), file: join(bundleDir, name) });
  }
  routes.set('/', routes.get('/index.html')!);
  return routes;
}

function ortRoutes(): Map<string, Route> {
  const require = createRequire(import.meta.url);
  const routes = new Map<string, Route>();
  for (const name of ORT_FILES) {
    let file: string;
    try {
      file = require.resolve(`onnxruntime-web/${name}`);
    } catch (cause) {
      throw new VoxkitError('E_IO', `onnxruntime-web is not installed (cannot find ${name})`, { cause });
    }
    routes.set(`${ORT_PREFIX}${name}`, { contentType: mimeOf(name), file });
  }
  return routes;
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

function handler(routes: Map<string, Route>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'method not allowed\n');
      return;
    }
    const path = (req.url ?? '/').split(/[?#]/, 1)[0];
    const route = routes.get(path);
    if (!route) {
      send(res, 404, 'not found\n');
      return;
    }
    const headers: Record<string, string | number> = {
      'Content-Type': route.contentType,
      // A development server: the model and the page change whenever it restarts.
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    };
    if (route.bytes) {
      res.writeHead(200, { ...headers, 'Content-Length': route.bytes.length });
      res.end(req.method === 'HEAD' ? undefined : route.bytes);
      return;
    }
    const file = route.file!;
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      send(res, 404, 'not found\n');
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Exports the encoder to ONNX in memory and serves the page. Resolves once listening; `close()`
 * stops the server (open connections included).
 */
export async function startServe(options: ServeOptions): Promise<VoxkitServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  const routes = bundleRoutes(options.bundleDir ?? defaultBundleDir());
  for (const [path, route] of ortRoutes()) routes.set(path, route);

  const loaded = await loadEncoder(options.weights, { model: options.model, engine: 'tfjs' });
  let exported: OnnxExport;
  try {
    if (loaded.spec.strategy !== 'utterance') {
      throw new VoxkitError(
        'E_USAGE',
        `the browser page embeds whole utterances (ResNetSE34L, ResNetSE34V2, VGGVox, RawNet3); ${loaded.encoder.architecture} uses "${loaded.spec.strategy}"`,
        { file: options.weights },
      );
    }
    const checkpointBytes = await readFile(options.weights);
    exported = exportOnnx(loaded.encoder, {
      frontend: options.frontend ?? (loaded.encoder.featureSpec().kind === 'voxceleb-logmel' ? 'separate' : undefined),
      metadata: { source_checkpoint: basename(options.weights), source_sha256: sha256Hex(checkpointBytes) },
    });
  } finally {
    disposeLoadedEncoder(loaded);
  }
  if (exported.inputKind !== 'waveform' && exported.inputKind !== 'voxceleb-logmel') {
    throw new VoxkitError('E_USAGE', `the browser page cannot compute the ${exported.inputKind} front end of this model yet (voxceleb log-mel and waveform inputs only)`, {
      file: options.weights,
    });
  }
  const architecture = exported.metadata.architecture ?? loaded.encoder.architecture;
  routes.set(MODEL_PATH, { contentType: 'application/octet-stream', bytes: exported.bytes });
  const config = {
    modelUrl: MODEL_PATH.slice(1),
    wasmPaths: ORT_PREFIX.slice(1),
    modelName: basename(options.weights),
    ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
  };
  routes.set('/config.json', { contentType: mimeOf('.json'), bytes: new TextEncoder().encode(JSON.stringify(config)) });

  const server: Server = createServer(handler(routes));
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(new VoxkitError('E_IO', `cannot listen on ${host}:${port} (${err.code ?? err.message})`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const running: VoxkitServer = {
    url: `http://${displayHost(host)}:${boundPort}/`,
    host,
    port: boundPort,
    architecture,
    exported,
    routes: [...routes.keys()].sort(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
  options.listening?.(running);
  return running;
}
