/**
 * SVG → PNG with resvg (@resvg/resvg-js, MPL-2.0): a native Rust renderer, no browser, no canvas,
 * no system libraries beyond the fonts it reads to draw text.
 */
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import { VoxkitError } from '../errors.js';

export interface SvgToPngOptions {
  /** Output width in pixels (height follows the aspect ratio); default: the SVG's own size × `scale`. */
  widthPx?: number;
  /** Zoom factor when no width is given (default 2, sharp on high-density screens). */
  scale?: number;
  /** Font files to use besides (or, with no system fonts, instead of) the system's. */
  fontFiles?: string[];
}

const TEXT_PROBE_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="48" height="24"><text x="2" y="18" font-family="sans-serif" font-size="16">Hg</text></svg>';

const fontChecks = new Map<string, boolean>();
const LINUX = typeof process !== 'undefined' && process.platform === 'linux';

function fontOptions(fontFiles: readonly string[] = []): NonNullable<ResvgRenderOptions['font']> {
  // Charts ask for 'sans-serif', which resvg maps to Arial; Linux rarely has it but usually has
  // DejaVu (resvg falls back to the first font it finds when a family is missing).
  return { loadSystemFonts: true, fontFiles: [...fontFiles], ...(LINUX ? { defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } : {}) };
}

/**
 * Whether resvg finds a font to draw text with (charts without one would lose every label): renders
 * a word and looks for ink. Cached per font list.
 */
export function canRenderText(fontFiles: readonly string[] = []): boolean {
  const key = fontFiles.join('\n');
  let found = fontChecks.get(key);
  if (found === undefined) {
    const pixels = new Resvg(TEXT_PROBE_SVG, { font: fontOptions(fontFiles), background: 'white' }).render().pixels;
    found = false;
    for (let i = 0; i < pixels.length && !found; i += 4) found = pixels[i] < 128;
    fontChecks.set(key, found);
  }
  return found;
}

/**
 * Renders SVG text to PNG bytes.
 * @throws VoxkitError E_CONFIG when no font is available (the PNG would have no text; use SVG or pass fontFiles)
 */
export function svgToPng(svg: string, options: SvgToPngOptions = {}): Uint8Array {
  if (!canRenderText(options.fontFiles)) {
    throw new VoxkitError(
      'E_CONFIG',
      'PNG charts need a font, and none was found (install one, e.g. fonts-dejavu-core, or write SVG, which the viewer renders with its own fonts)',
    );
  }
  if (options.widthPx !== undefined && !(Number.isInteger(options.widthPx) && options.widthPx > 0)) {
    throw new VoxkitError('E_USAGE', `svgToPng: width must be a positive integer, got ${options.widthPx}`);
  }
  const fitTo: ResvgRenderOptions['fitTo'] =
    options.widthPx !== undefined ? { mode: 'width', value: options.widthPx } : { mode: 'zoom', value: options.scale ?? 2 };
  try {
    const rendered = new Resvg(svg, { font: fontOptions(options.fontFiles), fitTo, background: 'white' }).render();
    return new Uint8Array(rendered.asPng());
  } catch (cause) {
    throw new VoxkitError('E_DATA', `cannot render the SVG to PNG (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
}
