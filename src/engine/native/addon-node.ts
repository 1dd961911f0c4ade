/**
 * Loads the native addon built at install time (scripts/build-native.mjs → native/build/Release).
 * Returns null, with the reason, when it was not built (no compiler or no oneDNN/OpenBLAS) or does
 * not load on this machine; callers fall back to the wasm backend.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAddon } from './addon.js';

export const ADDON_FILE = 'native/build/Release/voxkit_native.node';

/** The package root (this file sits in src/engine/native or dist/engine/native). */
function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

export type AddonLoad = { addon: NativeAddon; path: string } | { addon: null; reason: string };

let cached: AddonLoad | undefined;

export function loadNativeAddon(): AddonLoad {
  if (cached) return cached;
  const path = process.env.VOXKIT_NATIVE_ADDON ?? join(packageRoot(), ADDON_FILE);
  if (!existsSync(path)) {
    cached = { addon: null, reason: `the native addon was not built (${path} is missing)` };
    return cached;
  }
  try {
    const require = createRequire(import.meta.url);
    cached = { addon: require(path) as NativeAddon, path };
  } catch (error) {
    cached = { addon: null, reason: `the native addon does not load: ${(error as Error).message.split('\n')[0]}` };
  }
  return cached;
}
