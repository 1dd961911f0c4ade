/**
 * The contract every corpus reader implements. Readers are browser-safe: they see the corpus only
 * through a `CorpusFileSystem` (listing folders and reading metadata text), which scan-node.ts
 * implements on the local disk; durations and audio checks are added by prepare-node.ts.
 */

/** One recording the corpus offers for training or testing. */
export interface CorpusUtterance {
  /** Speaker (or singer) identity: the first column of the train list. */
  speaker: string;
  /** The file, relative to the corpus root, with `/` separators. */
  path: string;
  /** What makes cross-session trials possible: video, chapter, book, technique; absent when unknown. */
  session?: string;
  /** Language or locale code (`en`, `de_DE`, `zh-CN`), when the corpus says. */
  language?: string;
  /** Length in seconds, when metadata or a WAV header gave it. */
  durationSec?: number;
}

export type CorpusProblemKind =
  /** A metadata file or one of its lines cannot be read as the corpus defines it. */
  | 'malformed-metadata'
  /** Metadata lists a file (or speaker) that is not on disk. */
  | 'missing-file'
  /** A file in an audio folder that is not audio. */
  | 'non-audio-file'
  /** An audio file whose header cannot be read, or an empty one. */
  | 'unreadable-audio'
  /** Metadata and layout disagree (a file not in its transcript, a speaker not in the speaker table, a name that does not match its folder). */
  | 'inconsistent'
  /** A file or folder where the corpus layout has none. */
  | 'unexpected-layout';

/** Something wrong in the corpus: reported in the summary and problems.txt, fatal with --strict. */
export interface CorpusProblem {
  kind: CorpusProblemKind;
  /** The file or folder concerned, relative to the corpus root. */
  file: string;
  /** 1-based line in `file`, for metadata lines. */
  line?: number;
  message: string;
  /** Whether the recording concerned stays in the lists despite the problem (default false). */
  kept?: boolean;
}

/** An official trial list found in the corpus, already checked against the scanned recordings. */
export interface OfficialTrialList {
  /** File name, e.g. `veri_test2.txt` (written under trials/ with this name). */
  name: string;
  /** Where it was found, relative to the root. */
  source: string;
  /** `label path path` lines with paths relative to the corpus root. */
  text: string;
  trials: number;
  targetTrials: number;
  /** Speakers the list uses. */
  speakers: string[];
  /** Whether the list defines the test speakers (VoxCeleb1-O) rather than reusing training ones (E/H). */
  definesTestSpeakers: boolean;
}

export interface CorpusScanResult {
  utterances: CorpusUtterance[];
  problems: CorpusProblem[];
  /** Facts worth printing that are not problems (what a filter removed, a layout choice made). */
  notes: string[];
  /** Recordings left out on purpose, by reason (e.g. `nationality filter`, `mix (no single speaker)`). */
  excluded: Record<string, number>;
  /** Speakers reserved for testing (metadata `Set` = test, or the speakers of an official test list). */
  testSpeakers?: string[];
  officialTrialLists?: OfficialTrialList[];
}

/** Filters and choices a corpus may support; each reader rejects the ones that do not apply to it. */
export interface CorpusOptions {
  /** LibriSpeech subsets (train-clean-100, …). */
  subsets?: string[];
  /** VoxCeleb1 nationalities from vox1_meta.csv (lower-case), or the RTVC English-speaking list. */
  nationalities?: string[];
  /** Common Voice languages / M-AILABS locales. */
  languages?: string[];
  /** Common Voice TSV files to read (without `.tsv`), default `validated`. */
  tsv?: string[];
  /** VocalSet singers (`female1` or `f1`). */
  singers?: string[];
  /** VocalSet techniques (the technique folder names: belt, vibrato, …). */
  techniques?: string[];
  /** VCTK microphone of 0.92's two recordings of each sentence. */
  mic?: 'mic1' | 'mic2';
}

export type CorpusOptionName = keyof CorpusOptions;

export interface CorpusDirEntry {
  name: string;
  kind: 'file' | 'dir';
}

/** Read-only access to a corpus tree; paths are relative to its root with `/` ('' = the root). */
export interface CorpusFileSystem {
  /** Entries of a folder sorted by name, or undefined when there is no such folder. */
  list(relativeDir: string): Promise<CorpusDirEntry[] | undefined>;
  /** A file's text (UTF-8), or undefined when there is no such file. */
  readText(relativePath: string): Promise<string | undefined>;
}

export interface CorpusReader {
  readonly name: string;
  readonly description: string;
  /** The CorpusOptions this reader understands. */
  readonly options: readonly CorpusOptionName[];
  scan(fs: CorpusFileSystem, options: CorpusOptions): Promise<CorpusScanResult>;
}
