/**
 * `--engine auto` without ONNX Runtime: a CLI process in which onnxruntime-node cannot be imported
 * (test/helpers/hide-onnxruntime.mjs fails its module resolution, so the code under test is
 * voxkit's real fallback on a rejected import) evaluates with tfjs silently and gives the same
 * scores as `--engine tfjs`; `--engine ort` there is one line on stderr and exit code 2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { useBackend } from '../../src/core/backend.js';
import { loadOnnxRuntime } from '../../src/engine/ort-node.js';
import { synthesizeCorpus } from '../../src/synth/corpus-node.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const WEIGHTS = join(REPO_ROOT, 'assets', 'models', 'demo-resnetse34l.model');
const HIDE_ORT = join(REPO_ROOT, 'test', 'helpers', 'hide-onnxruntime.mjs');

let dir: string;
let corpus: string;

function evalArgs(scores: string, ...extra: string[]): string[] {
  return ['eval', '-w', WEIGHTS, '--test-list', join(corpus, 'veri_test.txt'), '--test-path', join(corpus, 'wav'), '--no-cache', '--num-eval', '2', '--eval-frames', '200', '--json', '--scores', scores, ...extra];
}

/** The real CLI in a child process that cannot import onnxruntime-node. */
function runWithoutOrt(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--import', HIDE_ORT, join(REPO_ROOT, 'scripts', 'voxkit-dev.ts'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

async function runInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

before(async () => {
  await useBackend();
  dir = mkdtempSync(join(tmpdir(), 'voxkit-engine-fallback-'));
  corpus = join(dir, 'corpus');
  await synthesizeCorpus({ outDir: corpus, speakers: 4, utterancesPerSpeaker: 3, seed: 13, engines: ['flite'], workers: 1 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('without onnxruntime-node, --engine auto falls back to tfjs silently with the tfjs scores; --engine ort is one line, exit 2', async () => {
  const fallbackScores = join(dir, 'fallback.txt');
  const fallback = runWithoutOrt(evalArgs(fallbackScores));
  assert.equal(fallback.code, 0, fallback.stderr);
  assert.equal(fallback.stderr, '', 'the fallback says nothing');
  assert.equal(JSON.parse(fallback.stdout).engine, 'tfjs');

  const tfjsScores = join(dir, 'tfjs.txt');
  const tfjs = await runInProcess(evalArgs(tfjsScores, '--engine', 'tfjs'));
  assert.equal(tfjs.code, 0, tfjs.stderr);
  assert.equal(readFileSync(fallbackScores, 'utf8'), readFileSync(tfjsScores, 'utf8'), 'the same engine gives the same scores');

  if (await loadOnnxRuntime()) {
    // Here ONNX Runtime loads, so the same command picks it: the hidden module is what made the difference.
    const auto = await runInProcess(evalArgs(join(dir, 'auto.txt')));
    assert.equal(auto.code, 0, auto.stderr);
    assert.equal(JSON.parse(auto.stdout).engine, 'ort');
  }

  const ort = runWithoutOrt(evalArgs(join(dir, 'ort.txt'), '--engine', 'ort'));
  assert.equal(ort.code, 2, ort.stderr);
  const lines = ort.stderr.trim().split('\n');
  assert.equal(lines.length, 1, ort.stderr);
  assert.match(lines[0], /^voxkit: .*onnxruntime-node.*--engine tfjs/);
  assert.equal(ort.stdout, '');
});
