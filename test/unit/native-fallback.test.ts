/**
 * Without the native addon (VOXKIT_NATIVE_ADDON points at nothing, in child processes so the addon
 * this process may have loaded plays no part) the default backend is wasm, silently; asking for
 * native by name — `--backend native` or VOXKIT_BACKEND=native — is one line on stderr and exit code 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';

const WEIGHTS = join(REPO_ROOT, 'assets', 'models', 'demo-resnetse34l.model');

function withoutAddon(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const { VOXKIT_BACKEND: _ignored, ...inherited } = process.env;
  const child = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...inherited, VOXKIT_NATIVE_ADDON: '/nonexistent/voxkit_native.node', ...env },
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

test('without the addon, useBackend() picks wasm and says nothing', () => {
  const script = "const { useBackend } = await import('./src/core/backend.ts'); process.stdout.write(await useBackend());";
  const child = withoutAddon(['--input-type=module', '-e', script]);
  assert.equal(child.code, 0, child.stderr);
  assert.equal(child.stdout, 'wasm');
  assert.equal(child.stderr, '');
});

test('without the addon, --backend native and VOXKIT_BACKEND=native are one line naming the reason, exit code 2', () => {
  const embed = ['embed', '-w', WEIGHTS, join(REPO_ROOT, 'no-such.wav')];
  for (const [how, child] of [
    ['--backend native', withoutAddon([join(REPO_ROOT, 'scripts', 'voxkit-dev.ts'), '--backend', 'native', ...embed])],
    ['VOXKIT_BACKEND=native', withoutAddon([join(REPO_ROOT, 'scripts', 'voxkit-dev.ts'), ...embed], { VOXKIT_BACKEND: 'native' })],
  ] as const) {
    assert.equal(child.code, 2, `${how}: ${child.stderr}`);
    const lines = child.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${how}: ${child.stderr}`);
    assert.match(lines[0]!, /^voxkit: backend "native" is unavailable: .*\/nonexistent\/voxkit_native\.node.*--backend wasm/, how);
    assert.equal(child.stdout, '', how);
  }
});
