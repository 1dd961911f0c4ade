/** Command line of `npm run bench`. */
import { parseArgs } from 'node:util';
import { BACKEND_NAMES, defaultBackend, type BackendName } from '../../src/core/backend.js';
import { VoxkitError } from '../../src/errors.js';

export interface BenchOptions {
  /** Fewer rounds and shorter rounds (a smoke run, < 2 minutes). */
  quick: boolean;
  /** Rewrite the generated section of BENCHMARKS.md. */
  write: boolean;
  /** Case-insensitive substrings; an item runs when its name contains one of them. Empty = all. */
  only: string[];
  backend: BackendName;
  /**
   * A second voxkit backend timed in the same interleaved rounds for the training items (default:
   * wasm when the main backend is native), or null.
   */
  compareBackend: BackendName | null;
  /** Timed rounds per engine and item. */
  rounds: number;
  /** Warm-up calls per engine and item (not timed). */
  warmupCalls: number;
  /** Target duration of one engine's round; sets the calls per round. */
  roundSeconds: number;
  /** Python interpreter with torch, or null to run voxkit only. */
  python: string | null;
  /** Compare the PyTorch definitions with the fixture checkpoints first. */
  sanity: boolean;
}

const USAGE = `usage: npm run bench -- [--quick] [--write] [--only NAME[,NAME]] [--backend native|wasm|cpu]
                         [--compare-backend NAME | --no-compare] [--rounds N] [--python PATH | --no-torch] [--no-sanity]
  --quick      3 short rounds per item instead of 9 (smoke run)
  --write      update BENCHMARKS.md with the table (also VOXKIT_BENCH_WRITE=1)
  --only       run items whose name contains NAME (case-insensitive; repeatable or comma-separated)
  --backend    tfjs backend for voxkit (default: VOXKIT_BACKEND, else native when built, else wasm)
  --compare-backend  a second backend timed in the same rounds on the training items
               (default wasm when --backend is native); --no-compare turns it off
  --rounds     timed rounds per engine and item
  --python     interpreter for the PyTorch side (default /usr/bin/python3)
  --no-torch   voxkit only
  --no-sanity  skip the check of the PyTorch definitions against the fixture checkpoints`;

export async function parseBenchOptions(argv: readonly string[]): Promise<BenchOptions | 'help'> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true, default: [] },
      backend: { type: 'string' },
      'compare-backend': { type: 'string' },
      'no-compare': { type: 'boolean', default: false },
      rounds: { type: 'string' },
      python: { type: 'string' },
      'no-torch': { type: 'boolean', default: false },
      'no-sanity': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';

  const backend = (values.backend ?? (await defaultBackend())) as BackendName;
  const compare = values['no-compare'] ? null : ((values['compare-backend'] ?? (backend === 'native' ? 'wasm' : null)) as BackendName | null);
  for (const name of [backend, compare]) {
    if (name !== null && !BACKEND_NAMES.includes(name)) {
      throw new VoxkitError('E_USAGE', `bench: unknown backend "${name}"; valid: ${BACKEND_NAMES.join(', ')}`);
    }
  }
  const quick = values.quick ?? false;
  const rounds = values.rounds === undefined ? (quick ? 3 : 9) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new VoxkitError('E_USAGE', `bench: --rounds must be a positive integer, got "${values.rounds}"`);
  }
  const writeEnv = process.env.VOXKIT_BENCH_WRITE;
  return {
    quick,
    write: (values.write ?? false) || (writeEnv !== undefined && writeEnv !== '' && writeEnv !== '0'),
    only: (values.only ?? []).flatMap((s) => s.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean),
    backend,
    compareBackend: compare === backend ? null : compare,
    rounds,
    warmupCalls: quick ? 1 : 2,
    roundSeconds: quick ? 0.2 : 0.6,
    python: values['no-torch'] ? null : (values.python ?? '/usr/bin/python3'),
    sanity: !(values['no-sanity'] ?? false),
  };
}

export { USAGE };
