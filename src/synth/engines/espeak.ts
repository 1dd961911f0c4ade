/**
 * eSpeak NG (formant synthesis, many languages and voice variants) from
 * @echogarden/espeak-ng-emscripten. That package is GPL-3.0, so it is only an OPTIONAL dependency
 * of the synthesis path: it is loaded with a dynamic import and everything works without it
 * (the corpus then uses Flite alone). The package reads its data file (voices, dictionaries) from
 * next to itself unless the caller hands it over (load-engines-node.ts reads it once per thread).
 *
 * Voices are `accent+variant` (e.g. `en-gb-scotland+m3`): the accent is part of a speaker's
 * identity, the variant sets the voice's sex, pitch and timbre.
 */
import { VoxkitError } from '../../errors.js';
import type { ESpeakNGWorker } from '@echogarden/espeak-ng-emscripten';
import type { EngineVoice, SpeechEngine, SynthesisRequest, SynthesizedSpeech, VoiceGender } from './engine.js';

export const ESPEAK_PACKAGE = '@echogarden/espeak-ng-emscripten';

/** eSpeak accents per language, each a possible speaker accent (voice file names: `en` is British English, `fr` France French). */
export const ESPEAK_ACCENTS: Readonly<Record<string, readonly string[]>> = {
  en: ['en-us', 'en', 'en-gb-scotland', 'en-gb-x-rp', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd', 'en-029', 'en-us-nyc'],
  de: ['de'],
  fr: ['fr', 'fr-be', 'fr-ch'],
  es: ['es', 'es-419'],
  it: ['it'],
  nl: ['nl'],
  pt: ['pt', 'pt-br'],
};

/**
 * Voice variants that sound like a person (robotic, whispering, croaking and cartoon variants left
 * out), with the sex their variant file declares or their pitch implies.
 */
const VARIANTS: Readonly<Record<VoiceGender, readonly string[]>> = {
  male: ['m1', 'm2', 'm3', 'm4', 'm6', 'm7', 'm8', 'Andy', 'Denis', 'Diogo', 'Henrique', 'Hugo', 'Lee', 'Marco', 'antonio', 'john', 'michel', 'miguel', 'norbert', 'pablo', 'pedro', 'travis', 'victor', 'gustave', 'paul', 'robert', 'iven'],
  female: ['f1', 'f2', 'f3', 'f4', 'f5', 'Alicia', 'Andrea', 'Annie', 'anika', 'belinda', 'linda', 'steph', 'steph2', 'grandma', 'aunty'],
};

/** eSpeak's defaults: 175 words per minute, pitch and range 50 on a 0–99/0–100 scale. */
const DEFAULT_WORDS_PER_MINUTE = 175;
const MIN_WORDS_PER_MINUTE = 80;
const MAX_WORDS_PER_MINUTE = 450;
const DEFAULT_PITCH = 50;
/**
 * eSpeak's pitch setting scales f0 exponentially: measured f0 ∝ exp(0.01·(pitch − 50)) within a
 * few percent over 0–99 for male and female variants.
 */
const PITCH_UNITS_PER_LOG_F0 = 100;
const DEFAULT_RANGE = 50;

/**
 * Bytes of text (UTF-8, with its terminating zero) one request may pass without the runtime's
 * string buffer being reallocated; longer texts get an instance of their own (see below).
 */
const STRING_BUFFER_BYTES = 4096;

/**
 * Loads eSpeak NG if its package is installed.
 *
 * eSpeak NG carries state from one synthesis to the next (its random generator, which breathy
 * voices draw from, and the glottal phase and filters of its wave generator) and seeds that
 * generator from the clock when it starts. To make the audio depend on the request alone (not on
 * the run, the thread or what was synthesised before), an instance is started with the clock held
 * constant, its memory is snapshotted, and that snapshot is put back before every request.
 *
 * The snapshot is only consistent with the JavaScript side of the Emscripten runtime if that side
 * does not change between requests: its function table slot for the audio callback is reused as
 * is, but its string buffer is reallocated (malloc/free inside the engine memory) whenever a string
 * does not fit, and a free against restored memory corrupts the heap (a later indirect call then
 * fails with "va[...] is not a function"). So the buffer is grown to STRING_BUFFER_BYTES before the
 * snapshot and a longer text is synthesised by a throwaway instance of its own size. A fresh
 * instance for every request would also be deterministic but costs about three times the CPU:
 * V8 re-optimises the engine's main function for every new instance.
 *
 * @param packageVersion recorded in corpus.json
 * @param dataPackage the package's `espeak-ng.data` file, shared by every instance; without it each
 *   instance reads the 24 MB file itself
 * @returns the engine, or undefined when the optional package is absent
 */
export async function loadEspeakEngine(packageVersion = 'unknown', dataPackage?: ArrayBuffer): Promise<SpeechEngine | undefined> {
  let factory: typeof import('@echogarden/espeak-ng-emscripten').default;
  try {
    factory = (await import('@echogarden/espeak-ng-emscripten')).default;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return undefined;
    throw new VoxkitError('E_CONFIG', `espeak: ${ESPEAK_PACKAGE} is installed but failed to load: ${(err as Error)?.message ?? err}`, { cause: err });
  }
  const startInstance = (stringBufferBytes: number) => startEspeakInstance(factory, dataPackage, stringBufferBytes);
  let shared: Promise<EspeakInstance> | undefined;
  const startShared = () =>
    startInstance(STRING_BUFFER_BYTES).catch((err: unknown) => {
      shared = undefined;
      throw err;
    });
  shared = startShared();
  const sampleRateHz = (await shared).worker.get_samplerate();
  const voices: EngineVoice[] = (['male', 'female'] as const).flatMap((gender) => VARIANTS[gender].map((name) => ({ name, gender })));
  return {
    name: 'espeak',
    packageName: ESPEAK_PACKAGE,
    packageVersion,
    license: 'GPL-3.0 (optional dependency)',
    languages: Object.keys(ESPEAK_ACCENTS),
    voices,
    accents: ESPEAK_ACCENTS,
    controlsF0: () => true,
    async synthesize(request: SynthesisRequest): Promise<SynthesizedSpeech> {
      const voiceName = `${request.accent ?? request.language}+${request.voice}`;
      // Upper bound of the UTF-8 length: at most 3 bytes per UTF-16 unit.
      const textBytes = 3 * request.text.length + 1;
      const fits = textBytes < STRING_BUFFER_BYTES;
      const instance = fits ? await (shared ??= startShared()) : await startInstance(2 * textBytes);
      let chunks: Int16Array[];
      try {
        chunks = instance.synthesize(request, voiceName);
      } catch (err) {
        // The runtime may be left mid-call (stack pointer, string buffer): start afresh next time.
        if (fits && !(err instanceof VoxkitError)) shared = undefined;
        throw err;
      }
      const total = chunks.reduce((n, c) => n + c.length, 0);
      const out = new Float32Array(total);
      let at = 0;
      for (const chunk of chunks) for (let i = 0; i < chunk.length; i++) out[at++] = chunk[i] / 32768;
      if (total === 0) throw new VoxkitError('E_DATA', `espeak: no audio for voice ${voiceName}`);
      return { samples: out, sampleRateHz };
    },
  };
}

interface EspeakInstance {
  worker: ESpeakNGWorker;
  /** Puts the engine back to its snapshot, then synthesises; returns int16 chunks. */
  synthesize(request: SynthesisRequest, voiceName: string): Int16Array[];
}

async function startEspeakInstance(
  factory: typeof import('@echogarden/espeak-ng-emscripten').default,
  dataPackage: ArrayBuffer | undefined,
  stringBufferBytes: number,
): Promise<EspeakInstance> {
  const module = await factory({
    print: () => undefined,
    printErr: () => undefined,
    ...(dataPackage ? { getPreloadedPackage: () => dataPackage } : {}),
  });
  const snapshot = withConstantClockAndEntropy(() => {
    // The constructor initialises eSpeak, which seeds its random generator from the clock.
    const worker = new module.eSpeakNGWorker();
    // A text that does not fit makes the runtime note the size; its next call with a string (any
    // method) reallocates the buffer that large, and it then stays put.
    worker.synthesize(' '.repeat(stringBufferBytes), () => 0);
    if (worker.set_voice(SNAPSHOT_VOICE) !== 0) throw new VoxkitError('E_CONFIG', `espeak: cannot select voice "${SNAPSHOT_VOICE}"`);
    return { worker, memory: module.HEAPU8.slice() };
  });
  const { worker, memory } = snapshot;
  const restore = () => {
    const heap = module.HEAPU8;
    heap.set(memory);
    // Memory grown since is zero in a fresh instance: make it so here too.
    if (heap.length > memory.length) heap.fill(0, memory.length);
  };
  return {
    worker,
    synthesize: (request, voiceName) =>
      withConstantClockAndEntropy(() => {
        restore();
        if (worker.set_voice(voiceName) !== 0) throw new VoxkitError('E_CONFIG', `espeak: cannot select voice "${voiceName}"`);
        const pitch = DEFAULT_PITCH + PITCH_UNITS_PER_LOG_F0 * Math.log(request.f0Factor);
        worker.set_pitch(Math.round(clamp(pitch, 0, 99)));
        worker.set_range(Math.round(clamp(DEFAULT_RANGE * request.intonationFactor, 0, 100)));
        worker.set_rate(Math.round(clamp(DEFAULT_WORDS_PER_MINUTE * request.rateFactor, MIN_WORDS_PER_MINUTE, MAX_WORDS_PER_MINUTE)));
        const chunks: Int16Array[] = [];
        worker.synthesize(request.text, (samples) => {
          chunks.push(samples);
          return 0;
        });
        return chunks;
      }),
  };
}

/** Selected before the snapshot, so the runtime's string buffer is resized (any voice would do). */
const SNAPSHOT_VOICE = 'en';

/** What the engine's runtime reads the time from (through `time()`/`clock_gettime`) while it runs. */
const ENGINE_CLOCK_MS = 0;

/**
 * Runs the synchronous `f` with `Date.now` (the runtime's only clock) and `crypto.getRandomValues`
 * (its entropy source, should eSpeak ever read /dev/urandom) returning constants; both are restored
 * before anything else can run, even when `f` throws.
 */
function withConstantClockAndEntropy<T>(f: () => T): T {
  const realNow = Date.now;
  const webCrypto = (globalThis as { crypto?: Crypto }).crypto;
  // Usually inherited from Crypto.prototype: then the override is deleted again, not copied in.
  const ownGetRandomValues = webCrypto && Object.getOwnPropertyDescriptor(webCrypto, 'getRandomValues');
  Date.now = () => ENGINE_CLOCK_MS;
  if (webCrypto) webCrypto.getRandomValues = constantRandomValues as Crypto['getRandomValues'];
  try {
    return f();
  } finally {
    Date.now = realNow;
    if (webCrypto) {
      if (ownGetRandomValues) Object.defineProperty(webCrypto, 'getRandomValues', ownGetRandomValues);
      else delete (webCrypto as { getRandomValues?: unknown }).getRandomValues;
    }
  }
}

function constantRandomValues<T extends ArrayBufferView | null>(array: T): T {
  if (array) new Uint8Array(array.buffer, array.byteOffset, array.byteLength).fill(0x5a);
  return array;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
