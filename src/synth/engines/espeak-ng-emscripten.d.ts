/**
 * Types for @echogarden/espeak-ng-emscripten (ships none; GPL-3.0, an optional dependency): an
 * Emscripten module factory whose instance exposes the `eSpeakNGWorker` WebIDL class.
 */
declare module '@echogarden/espeak-ng-emscripten' {
  export interface ESpeakNGWorker {
    /** 0 on success. `name` may carry a variant: "en-gb-scotland+m3". */
    set_voice(name: string): number;
    set_rate(wordsPerMinute: number): void;
    set_pitch(pitch: number): void;
    set_range(range: number): void;
    get_samplerate(): number;
    /** Calls `callback` with int16 samples per chunk; return a truthy value to stop. */
    synthesize(text: string, callback: (samples: Int16Array, events: unknown[]) => unknown): void;
  }
  export interface ESpeakNGModule {
    /** Constructing one initialises eSpeak (which seeds its random generator from the clock). */
    eSpeakNGWorker: new () => ESpeakNGWorker;
    /** The engine's whole memory (a new view after it grows). */
    readonly HEAPU8: Uint8Array;
  }
  /** Emscripten module settings this package honours. */
  export interface ESpeakNGModuleOptions {
    print?: (text: string) => void;
    printErr?: (text: string) => void;
    /** The contents of espeak-ng.data, instead of reading the file next to the package. */
    getPreloadedPackage?: (packageName: string, packageSize: number) => ArrayBuffer;
  }
  const createESpeakNGModule: (moduleArg?: ESpeakNGModuleOptions) => Promise<ESpeakNGModule>;
  export default createESpeakNGModule;
}
