/**
 * Sliding analysis windows over speech regions: each window is embedded once and clustered, so
 * its length trades speaker evidence (longer is better) against time resolution (a window that
 * straddles a speaker change is a mixture). Windows never cross a region boundary. No Node APIs.
 */
import { VoxkitError } from '../errors.js';
import type { SpeechRegion } from './speech-activity.js';

export interface WindowOptions {
  /** Default 1.5 s. */
  windowSec?: number;
  /** Step between window starts; default 0.75 s (half overlap). */
  hopSec?: number;
}

export interface AnalysisWindow {
  start: number;
  end: number;
  /** Index of the speech region it lies in. */
  region: number;
}

export const DEFAULT_WINDOW_SEC = 1.5;
export const DEFAULT_HOP_SEC = 0.75;

/**
 * Windows of `windowSec` every `hopSec` inside each region; the last one is aligned to the region's
 * end so its tail is covered. A region shorter than a window gets one window spanning it.
 */
export function slidingWindows(regions: readonly SpeechRegion[], options: WindowOptions = {}): AnalysisWindow[] {
  const windowSec = options.windowSec ?? DEFAULT_WINDOW_SEC;
  const hopSec = options.hopSec ?? DEFAULT_HOP_SEC;
  if (!(windowSec > 0) || !Number.isFinite(windowSec)) throw new VoxkitError('E_USAGE', `window must be a positive number of seconds, got ${windowSec}`);
  if (!(hopSec > 0) || !Number.isFinite(hopSec)) throw new VoxkitError('E_USAGE', `hop must be a positive number of seconds, got ${hopSec}`);
  const windows: AnalysisWindow[] = [];
  regions.forEach((r, region) => {
    const duration = r.end - r.start;
    if (!(duration > 0)) return;
    if (duration <= windowSec) {
      windows.push({ start: r.start, end: r.end, region });
      return;
    }
    // A tiny epsilon keeps a region of exactly k hops + window from getting a duplicate last window.
    const count = Math.ceil((duration - windowSec) / hopSec - 1e-9) + 1;
    for (let k = 0; k < count - 1; k++) windows.push({ start: r.start + k * hopSec, end: r.start + k * hopSec + windowSec, region });
    windows.push({ start: r.end - windowSec, end: r.end, region });
  });
  return windows;
}
