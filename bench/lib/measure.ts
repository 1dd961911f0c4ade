/**
 * Interleaved measurement of one item on every engine (voxkit, PyTorch, and optionally voxkit on a
 * second backend). Rounds alternate the engines (ABBA order, so slow drifts of the shared machine
 * hit all alike); a round is several back-to-back calls
 * and contributes its mean time per call. Warm-up calls are excluded. Reported: the median over
 * rounds per engine and the ratio of the medians.
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../../src/core/backend.js';
import type { BenchInputs } from './inputs.js';
import type { BenchItem, PreparedCall } from './items.js';
import { mean, median, relativeSpread } from './stats.js';
import type { TorchProcess } from './torch-process.js';

export interface MeasureSettings {
  rounds: number;
  warmupCalls: number;
  /** Target duration of one engine's round. */
  roundSeconds: number;
  /** voxkit's backend. */
  backend: BackendName;
  /** A second voxkit backend timed in the same rounds, or null. */
  compareBackend: BackendName | null;
}

export interface EngineTiming {
  /** Median over rounds of the mean seconds per call. */
  medianSeconds: number;
  /** Half the interquartile range over rounds, relative to the median. */
  spread: number;
  callsPerRound: number;
  /** Seconds of the first warm-up call (one-time set-up included). */
  firstCallSeconds: number;
  /** Trainable parameters of the timed model (0 for front-ends). */
  parameters: number;
  /** tfjs kernels one voxkit call dispatches (per-op overhead indicator); undefined for PyTorch. */
  kernelsPerCall?: number;
  /** Matrix-product and convolution FLOPs of one call (native backend only). */
  flopsPerCall?: number;
}

export type EngineOutcome = EngineTiming | { error: string };

export interface ItemResult {
  item: BenchItem;
  voxkit: EngineOutcome;
  /** null when PyTorch is not part of the run. */
  torch: EngineOutcome | null;
  /** voxkit median / PyTorch median (> 1: voxkit slower); null without both. */
  ratio: number | null;
  /** Tensors left allocated by the timed voxkit calls (should be 0). */
  leakedTensors: number;
  /** The second voxkit backend of the same rounds, with its ratio to PyTorch. */
  compare?: { backend: BackendName; outcome: EngineOutcome; ratio: number | null };
}

const MAX_CALLS_PER_ROUND = 200;

export function isTiming(t: EngineOutcome | null): t is EngineTiming {
  return t !== null && !('error' in t);
}

function callsFor(roundSeconds: number, secondsPerCall: number): number {
  return Math.max(1, Math.min(MAX_CALLS_PER_ROUND, Math.round(roundSeconds / Math.max(secondsPerCall, 1e-6))));
}

function firstLine(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}

interface WarmUp {
  warmupSeconds: number[];
  parameters: number;
  kernelsPerCall?: number;
  flopsPerCall?: number;
}

/** One engine seen by the scheduler: warm up once, then timed rounds. */
interface Engine {
  /** Warm-up durations (s) and parameter count, or the reason the engine cannot run this item. */
  warmUp(): Promise<WarmUp | string>;
  /** Seconds per call of `calls` back-to-back calls. */
  round(calls: number): Promise<number[] | string>;
}

/** FLOPs the native backend counted during `run` (undefined on other backends). */
async function countFlops(backend: BackendName, run: () => Promise<void>): Promise<number | undefined> {
  if (backend !== 'native') {
    await run();
    return undefined;
  }
  const { flopCounter } = await import('../../src/engine/native/context.js');
  const before = flopCounter.flops;
  await run();
  return flopCounter.flops - before;
}

/**
 * voxkit on one tfjs backend. Several can share a process: each selects its backend before it
 * prepares or runs, so its tensors live and run there (tfjs keeps every initialised backend).
 */
function voxkitEngine(
  item: BenchItem,
  inputs: BenchInputs,
  warmupCalls: number,
  backend: BackendName,
  onPrepared: (p: PreparedCall) => void,
): Engine {
  let prepared: PreparedCall | null = null;
  const timeCalls = async (calls: number): Promise<number[]> => {
    await useBackend(backend);
    const seconds: number[] = [];
    for (let i = 0; i < calls; i++) {
      const started = performance.now();
      await prepared!.call();
      seconds.push((performance.now() - started) / 1000);
    }
    return seconds;
  };
  return {
    warmUp: async () => {
      try {
        await useBackend(backend);
        prepared = await item.prepare(inputs);
        onPrepared(prepared);
        const warmupSeconds = await timeCalls(warmupCalls);
        if (item.countKernels === false) {
          const flopsPerCall = await countFlops(backend, async () => void (await prepared!.call()));
          return { warmupSeconds, parameters: prepared.parameters, flopsPerCall };
        }
        // One extra untimed call counts the kernels it dispatches.
        const profile = await tf.profile(async () => void (await prepared!.call()));
        return { warmupSeconds, parameters: prepared.parameters, kernelsPerCall: profile.kernels.length };
      } catch (error) {
        return firstLine(error);
      }
    },
    round: async (calls) => {
      try {
        return await timeCalls(calls);
      } catch (error) {
        return firstLine(error);
      }
    },
  };
}

function torchEngine(item: BenchItem, inputs: BenchInputs, warmupCalls: number, torch: TorchProcess): Engine {
  return {
    warmUp: () => torch.prepare(item.torchName ?? item.name, { waveFile: inputs.waveFile, framesFile: inputs.framesFile }, warmupCalls),
    round: (calls) => torch.time(item.torchName ?? item.name, calls),
  };
}

/** Collects the rounds of one engine; stops it at its first error. */
class EngineRun {
  private readonly roundMeans: number[] = [];
  private error: string | null = null;
  private calls = 0;
  private warmup: WarmUp | null = null;

  constructor(private readonly engine: Engine) {}

  async warmUp(roundSeconds: number): Promise<void> {
    const outcome = await this.engine.warmUp();
    if (typeof outcome === 'string') {
      this.error = outcome;
      return;
    }
    this.warmup = outcome;
    // The last warm-up call is the steady-state estimate (the first carries one-time set-up).
    this.calls = callsFor(roundSeconds, outcome.warmupSeconds[outcome.warmupSeconds.length - 1]);
  }

  async round(): Promise<void> {
    if (this.error !== null) return;
    const seconds = await this.engine.round(this.calls);
    if (typeof seconds === 'string') this.error = seconds;
    else this.roundMeans.push(mean(seconds));
  }

  outcome(): EngineOutcome {
    if (this.error !== null || this.warmup === null) return { error: this.error ?? 'not run' };
    return {
      medianSeconds: median(this.roundMeans),
      spread: relativeSpread(this.roundMeans),
      callsPerRound: this.calls,
      firstCallSeconds: this.warmup.warmupSeconds[0],
      parameters: this.warmup.parameters,
      kernelsPerCall: this.warmup.kernelsPerCall,
      flopsPerCall: this.warmup.flopsPerCall,
    };
  }
}

export async function measureItem(
  item: BenchItem,
  inputs: BenchInputs,
  torch: TorchProcess | null,
  settings: MeasureSettings,
): Promise<ItemResult> {
  const prepared: PreparedCall[] = [];
  const warmupCalls = item.warmupCalls ?? settings.warmupCalls;
  const rounds = Math.min(settings.rounds, item.maxRounds ?? settings.rounds);
  const voxkit = new EngineRun(voxkitEngine(item, inputs, warmupCalls, settings.backend, (p) => prepared.push(p)));
  const second = settings.compareBackend
    ? new EngineRun(voxkitEngine(item, inputs, warmupCalls, settings.compareBackend, (p) => prepared.push(p)))
    : null;
  const pytorch = torch && item.torchName !== null ? new EngineRun(torchEngine(item, inputs, warmupCalls, torch)) : null;
  try {
    await voxkit.warmUp(settings.roundSeconds);
    await second?.warmUp(settings.roundSeconds);
    await pytorch?.warmUp(settings.roundSeconds);
    await useBackend(settings.backend);
    const tensorsBefore = tf.memory().numTensors;
    const engines = [voxkit, pytorch, second].filter((e): e is EngineRun => e !== null);
    for (let round = 0; round < rounds; round++) {
      // ABBA-style: every other round runs the engines in reverse order.
      const order = round % 2 === 0 ? engines : [...engines].reverse();
      for (const engine of order) await engine.round();
    }
    await useBackend(settings.backend);
    const leakedTensors = tf.memory().numTensors - tensorsBefore;

    const voxkitOutcome = voxkit.outcome();
    const torchOutcome = pytorch ? pytorch.outcome() : null;
    const ratioOf = (o: EngineOutcome): number | null =>
      isTiming(o) && isTiming(torchOutcome) ? o.medianSeconds / torchOutcome.medianSeconds : null;
    const result: ItemResult = { item, voxkit: voxkitOutcome, torch: torchOutcome, ratio: ratioOf(voxkitOutcome), leakedTensors };
    if (second && settings.compareBackend) {
      const outcome = second.outcome();
      result.compare = { backend: settings.compareBackend, outcome, ratio: ratioOf(outcome) };
    }
    return result;
  } finally {
    for (const p of prepared.reverse()) p.dispose();
  }
}
