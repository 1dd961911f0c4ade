/**
 * The browser build end to end: `voxkit serve` (library and CLI) serving the demo encoder, the page
 * driven in headless Chromium through playwright-core. The page's scores must equal voxkit's own
 * Node embeddings of the same files; the microphone path runs on Chromium's fake capture device.
 * Skips (with the reason printed) when no Chromium is installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { useBackend } from '../../src/core/backend.js';
import { cosineSimilarity } from '../../src/api/embed.js';
import { disposeLoadedEncoder, embedFile, loadEncoder, type LoadedEncoder } from '../../src/api/load-encoder-node.js';
import { decodeWav, encodeWav } from '../../src/audio/wav.js';
import { resample } from '../../src/audio/resample.js';
import { startServe, type VoxkitServer } from '../../src/serve/server-node.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const WEIGHTS = join(REPO_ROOT, 'assets/models/demo-resnetse34l.model');
const FOX = join(REPO_ROOT, 'assets/examples/quick_brown_fox.wav');
const OTHER = join(REPO_ROOT, 'assets/examples/another_voice.wav');
const VIEWPORT = { width: 1000, height: 900 };

function findChromium(): string | undefined {
  const candidates = [process.env.VOXKIT_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((c): c is string => !!c);
  return candidates.find((c) => existsSync(c));
}

const chromiumPath = findChromium();
const skipBrowser = chromiumPath ? false : 'no Chromium found (/usr/bin/chromium; set VOXKIT_CHROMIUM): browser test not run';
if (skipBrowser) console.log(`# browser.test.ts: ${skipBrowser}`);

let dir: string;
let pageDir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'voxkit-browser-'));
  pageDir = join(dir, 'page');
  // A fresh bundle of the current sources (dist/browser may be stale or absent).
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/build-browser.mjs'), pageDir], { stdio: 'pipe' });
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('voxkit serve in Chromium', { skip: skipBrowser }, () => {
  let browser: Browser;
  let loaded: LoadedEncoder;
  const nodeEmbeddings = new Map<string, Float32Array>();
  let resampledWav: string;

  before(async () => {
    await useBackend();
    // The same audio at 22.05 kHz: the page must resample it as loadAudio does.
    const other = decodeWav(new Uint8Array(readFileSync(OTHER)));
    resampledWav = join(dir, 'another_voice_22k.wav');
    await writeFile(resampledWav, encodeWav(await resample(other.channels[0], other.sampleRateHz, 22050), 22050, { encoding: 'float32' }));
    loaded = await loadEncoder(WEIGHTS);
    for (const file of [FOX, OTHER, resampledWav]) nodeEmbeddings.set(file, (await embedFile(loaded, file)).embedding);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${FOX}`],
    });
  });

  after(async () => {
    await browser?.close();
    if (loaded) disposeLoadedEncoder(loaded);
  });

  const nodeScore = (a: string, b: string) => cosineSimilarity(nodeEmbeddings.get(a)!, nodeEmbeddings.get(b)!);

  async function openPage(server: VoxkitServer): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: VIEWPORT });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('response', (response) => {
      if (response.status() >= 400) errors.push(`HTTP ${response.status()} ${response.url()}`);
    });
    await page.goto(server.url);
    await page.waitForSelector('body[data-state="ready"], body[data-state="failed"]', { timeout: 20_000 });
    assert.equal(await page.getAttribute('body', 'data-state'), 'ready', `page failed: ${await page.textContent('#error')}`);
    return { page, errors };
  }

  async function use(page: Page, slot: 'enroll' | 'verify', file: string): Promise<void> {
    await page.$eval(`#${slot}-status`, (el) => delete (el as HTMLElement).dataset.done);
    await page.setInputFiles(`#${slot}-file`, file);
    await page.waitForSelector(`#${slot}-status[data-done]`, { timeout: 15_000 });
  }

  async function shownScore(page: Page): Promise<{ score: number; decision: string; same: string | null }> {
    await page.waitForSelector('#score[data-score]');
    return {
      score: Number(await page.getAttribute('#score', 'data-score')),
      decision: (await page.textContent('#decision')) ?? '',
      same: await page.getAttribute('#decision', 'data-same'),
    };
  }

  test('enroll and verify files: scores equal embedFile + cosine, decision follows the threshold, microphone enrollment, screenshot', async () => {
    const different = nodeScore(FOX, OTHER);
    const sameFile = nodeScore(FOX, FOX);
    // A threshold between the two expected scores, so each decision has one right answer.
    const threshold = (different + sameFile) / 2;
    const server = await startServe({ weights: WEIGHTS, port: 0, threshold, bundleDir: pageDir });
    try {
      assert.equal(server.exported.frontend, 'separate');
      const { page, errors } = await openPage(server);
      assert.match((await page.textContent('#model-info')) ?? '', /ResNetSE34L, 128-d/);
      assert.equal(Number(await page.textContent('#threshold-value')), Number(threshold.toFixed(3)));

      await use(page, 'enroll', FOX);
      await use(page, 'verify', OTHER);
      let shown = await shownScore(page);
      assert.ok(Math.abs(shown.score - different) < 1e-3, `page ${shown.score} vs node ${different}`);
      assert.equal(shown.same, 'false');
      assert.match(shown.decision, /^different speakers/);

      await use(page, 'verify', FOX);
      shown = await shownScore(page);
      assert.ok(Math.abs(shown.score - sameFile) < 1e-3, `page ${shown.score} vs node ${sameFile}`);
      assert.equal(shown.same, 'true');
      assert.match(shown.decision, /^same speaker/);

      // A WAV at another rate goes through the lazily loaded resampler, as loadAudio does in Node.
      await use(page, 'verify', resampledWav);
      shown = await shownScore(page);
      const resampled = nodeScore(FOX, resampledWav);
      assert.ok(Math.abs(shown.score - resampled) < 1e-3, `page ${shown.score} vs node ${resampled} (22.05 kHz file)`);

      // The slider moves the threshold; the decision follows it.
      await page.$eval('#threshold', (el, value) => {
        const input = el as HTMLInputElement;
        input.value = String(value);
        input.dispatchEvent(new Event('input'));
      }, Math.min(1, shown.score + 0.05));
      assert.equal(await page.getAttribute('#decision', 'data-same'), 'false');
      assert.match((await page.textContent('#threshold-source')) ?? '', /slider/);

      // Microphone: Chromium's fake capture device plays quick_brown_fox.wav.
      await page.$eval('#enroll-status', (el) => delete (el as HTMLElement).dataset.done);
      await page.click('#enroll-record');
      await page.waitForSelector('#enroll-record.recording');
      await page.waitForTimeout(2000);
      await page.click('#enroll-record');
      await page.waitForSelector('#enroll-status[data-done]', { timeout: 15_000 });
      const status = (await page.textContent('#enroll-status')) ?? '';
      const seconds = Number(/\(([\d.]+) s\)/.exec(status)?.[1]);
      assert.match(status, /^enrolled: microphone recording/);
      assert.ok(seconds >= 1.5 && seconds < 10, `recorded ${seconds} s`);
      shown = await shownScore(page);
      assert.ok(Number.isFinite(shown.score) && shown.score > -1 && shown.score <= 1, `microphone score ${shown.score}`);

      // Screenshot: a PNG of the viewport's size, not blank, with the decision colour in the score bar.
      const png = await page.screenshot();
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.equal(png.readUInt32BE(16), VIEWPORT.width);
      assert.equal(png.readUInt32BE(20), VIEWPORT.height);
      const bar = await page.locator('#score-bar').boundingBox();
      assert.ok(bar && bar.width > 5 && bar.height > 5, `score bar ${JSON.stringify(bar)}`);
      const pixels = await page.evaluate(
        async ({ base64, box }) => {
          const image = new Image();
          image.src = `data:image/png;base64,${base64}`;
          await image.decode();
          const canvas = document.createElement('canvas');
          canvas.width = image.width;
          canvas.height = image.height;
          const context = canvas.getContext('2d')!;
          context.drawImage(image, 0, 0);
          const all = context.getImageData(0, 0, image.width, image.height).data;
          const colours = new Set<number>();
          for (let i = 0; i < all.length; i += 4) colours.add((all[i] << 16) | (all[i + 1] << 8) | all[i + 2]);
          // Middle of the score bar, clear of the threshold mark.
          const [r, g, b] = context.getImageData(Math.round(box.x + 2), Math.round(box.y + box.height / 2), 1, 1).data;
          return { colours: colours.size, bar: [r, g, b] };
        },
        { base64: png.toString('base64'), box: bar! },
      );
      assert.ok(pixels.colours > 20, `screenshot has ${pixels.colours} colours`);
      const barColour = await page.$eval('#score-bar', (el) => getComputedStyle(el).backgroundColor);
      assert.equal(`rgb(${pixels.bar.join(', ')})`, barColour, 'the score bar in the screenshot has the decision colour');
      await writeFile(join(dir, 'page.png'), png);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await server.close();
    }
  });

  test('front end inside the ONNX graph: the same scores', async () => {
    const server = await startServe({ weights: WEIGHTS, port: 0, frontend: 'inside', bundleDir: pageDir });
    try {
      assert.equal(server.exported.inputName, 'waveform');
      const { page, errors } = await openPage(server);
      assert.match((await page.textContent('#model-info')) ?? '', /inside the ONNX graph/);
      await use(page, 'enroll', OTHER);
      await use(page, 'verify', FOX);
      const shown = await shownScore(page);
      const expected = nodeScore(FOX, OTHER);
      assert.ok(Math.abs(shown.score - expected) < 1e-3, `page ${shown.score} vs node ${expected}`);
      assert.equal(shown.same, String(expected >= 0.5), 'default threshold 0.5');
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await server.close();
    }
  });
});

test('voxkit serve: prints its URL, fixed routes with their MIME types, nothing else, stops on Ctrl-C', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/voxkit-dev.ts'), 'serve', '-w', WEIGHTS, '--port', '0', '--threshold', '0.25'], {
    cwd: REPO_ROOT,
    env: { ...process.env, VOXKIT_BROWSER_DIR: pageDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
        if (match) {
          clearInterval(timer);
          resolve(match[1]);
        }
      }, 100);
      void exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`serve exited (${code}) before listening: ${stderr}`));
      });
    });
    const get = (path: string, init?: RequestInit) => fetch(new URL(path, url), init);
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /voxkit-browser\.js/);
    const config = (await (await get('/config.json')).json()) as { threshold: number; modelUrl: string };
    assert.equal(config.threshold, 0.25);
    const model = await get(`/${config.modelUrl}`);
    assert.equal(model.status, 200);
    assert.ok((await model.arrayBuffer()).byteLength > 100_000);
    const wasm = await get('/ort/ort-wasm-simd-threaded.wasm', { method: 'HEAD' });
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.match((await get('/voxkit-browser.js', { method: 'HEAD' })).headers.get('content-type') ?? '', /^text\/javascript/);
    // Only the route table: no traversal, no listing, no other methods.
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/ort/../../package.json', '/ort/', '/src/browser/app.ts', '/node_modules/onnxruntime-web/package.json']) {
      const response = await fetch(`${url.replace(/\/$/, '')}${path}`);
      assert.equal(response.status, 404, path);
    }
    assert.equal((await get('/', { method: 'POST' })).status, 405);
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /stopped/);
});
