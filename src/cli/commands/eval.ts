import { InvalidArgumentError, Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { VoxkitError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write-node.js';
import { utteranceFromVoxcelebPath } from '../../eval/trials.js';
import { SCORE_NORMS, SCORING_MODES, type ScoreNorm, type ScoringMode } from '../../eval/scoring.js';
import { DEFAULT_EVAL_FRAMES, DEFAULT_NUM_EVAL, DEFAULT_TOP_N, evaluateTrials, formatScoreLines, type EvaluationResult } from '../../eval/evaluate-node.js';
import { defaultEmbeddingCacheDir } from '../../eval/embedding-cache-node.js';
import type { CliIO } from '../main.js';
import { positiveInt, positiveNumber, prepareBackend } from '../options.js';
import { addEngineOptions, type EngineCliOptions } from './engine-options.js';

interface EvalCliOptions extends EngineCliOptions {
  weights: string;
  model?: string;
  testList: string;
  testPath: string;
  scoring: ScoringMode;
  numEval?: number;
  evalFrames?: number;
  pTarget: number;
  cMiss: number;
  cFa: number;
  scores?: string;
  cohort?: string;
  cohortPath?: string;
  topN?: number;
  norm?: ScoreNorm;
  cache?: string | boolean;
  plots?: string;
  json?: boolean;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

function probability(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n < 1)) throw new InvalidArgumentError('expected a number between 0 and 1 (exclusive)');
  return n;
}

/** The speaker a trial path belongs to, for colouring the embedding projection. */
function speakerOf(path: string): string {
  try {
    return utteranceFromVoxcelebPath(path).speaker;
  } catch {
    return path.split('/').find((part) => part.length > 0) ?? path;
  }
}

function describeSettings(r: EvaluationResult): string {
  const embedding = r.numEval > 0 ? `${r.numEval} crops × ${r.evalFrames} frames` : 'whole utterances';
  const norm = r.norm ? `, ${r.norm.method} (top ${r.norm.topN} of ${r.norm.cohortSpeakers} cohort speakers)` : '';
  return `${r.model} (${r.engine}), ${r.scoring} scoring on ${embedding}${norm}`;
}

export function registerEval(program: Command, io: CliIO): void {
  const command = program
    .command('eval')
    .description("EER and minDCF of a checkpoint on a trial list (voxceleb_trainer's evaluation protocol), with an embedding cache and optional AS-norm/S-norm")
    .requiredOption('-w, --weights <file>', 'checkpoint')
    .option('-m, --model <name>', 'architecture, when it cannot be detected from the weights')
    .requiredOption('--test-list <file>', 'trial list: "label path1 path2" lines (veri_test.txt)')
    .option('--test-path <dir>', 'folder the trial paths are relative to', '')
    .addOption(
      new Option('--scoring <mode>', 'crops: −mean distance between the L2-normalised crop embeddings (voxceleb_trainer); cosine: whole-utterance cosine (RTVC always)')
        .choices([...SCORING_MODES])
        .default('crops'),
    )
    .option('--num-eval <n>', `crops per recording (default ${DEFAULT_NUM_EVAL})`, positiveInt)
    .option('--eval-frames <frames>', `frames per crop, frames·160 + 240 samples (default ${DEFAULT_EVAL_FRAMES}; 0 = whole utterance; with cosine scoring, crops are pooled only when this is given)`, wholeNumber)
    .option('--p-target <p>', 'prior of a target trial for minDCF', probability, 0.05)
    .option('--c-miss <cost>', 'cost of a miss for minDCF', positiveNumber, 1)
    .option('--c-fa <cost>', 'cost of a false alarm for minDCF', positiveNumber, 1)
    .option('--scores <file>', 'write "score label enroll test" lines here')
    .option('--cohort <list>', 'train list ("speaker path" lines) of cohort recordings: normalise scores (one cohort entry per speaker)')
    .option('--cohort-path <dir>', 'folder the cohort paths are relative to')
    .addOption(new Option('--norm <method>', 'score normalisation with --cohort (default as-norm)').choices([...SCORE_NORMS]))
    .option('--top-n <n>', `AS-norm: highest cohort scores per recording used (default ${DEFAULT_TOP_N})`, positiveInt)
    .option('--cache <dir>', `embedding cache folder (default ${defaultEmbeddingCacheDir()})`)
    .option('--no-cache', 'do not read or write cached embeddings')
    .option('--plots <dir>', 'write a DET curve, score histograms and an embedding projection (SVG) here')
    .option('--json', 'print a JSON object');
  addEngineOptions(command)
    .action(async (opts: EvalCliOptions, cmd: Command) => {
      if (!opts.cohort && (opts.norm !== undefined || opts.topN !== undefined || opts.cohortPath !== undefined)) {
        throw new VoxkitError('E_USAGE', '--norm, --top-n and --cohort-path need --cohort LIST');
      }
      if (opts.norm === 's-norm' && opts.topN !== undefined) throw new VoxkitError('E_USAGE', '--top-n applies to as-norm; s-norm uses the whole cohort');
      const bar = process.stderr.isTTY && !opts.json ? new cliProgress.SingleBar({ format: 'embedding [{bar}] {value}/{total} recordings | {cacheHits} from cache | ETA {eta_formatted}', stream: process.stderr, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic) : undefined;
      let barStarted = false;
      let result: EvaluationResult;
      try {
        result = await evaluateTrials({
          weights: opts.weights,
          model: opts.model,
          testList: opts.testList,
          testPath: opts.testPath,
          scoring: opts.scoring,
          numEval: opts.numEval,
          evalFrames: opts.evalFrames,
          pTarget: opts.pTarget,
          cMiss: opts.cMiss,
          cFa: opts.cFa,
          cohort: opts.cohort ? { list: opts.cohort, path: opts.cohortPath ?? '', norm: opts.norm, topN: opts.topN } : undefined,
          engine: opts.engine,
          threads: opts.threads,
          cache: opts.cache === false ? false : typeof opts.cache === 'string' ? opts.cache : undefined,
          prepare: async () => void (await prepareBackend(cmd)),
          onProgress: (p) => {
            if (!bar) return;
            if (!barStarted) {
              bar.start(p.total, p.done, { cacheHits: p.cacheHits });
              barStarted = true;
            } else bar.update(p.done, { cacheHits: p.cacheHits });
          },
        });
      } finally {
        bar?.stop();
      }
      for (const note of result.notes) io.stderr(`voxkit: note: ${note}\n`);

      if (opts.scores) await writeFileAtomic(opts.scores, formatScoreLines(result.trials, result.scores), 'scores file');
      let plots: string[] | undefined;
      if (opts.plots) {
        // Loaded on demand: the charting stack (vega, umap, resvg) is heavy and only --plots needs it.
        const { writeEvalPlots } = await import('../../report/eval-plots-node.js');
        const paths = [...result.embeddings.keys()];
        plots = await writeEvalPlots(opts.plots, {
          scores: result.scores,
          labels: result.labels,
          embeddings: { vectors: paths.map((p) => result.embeddings.get(p)!), speakers: paths.map(speakerOf) },
          title: result.model,
          // The DET chart marks minDCF: with the same costs as the printed value.
          dcf: { pTarget: result.pTarget, cMiss: result.cMiss, cFa: result.cFa },
        });
      }

      if (opts.json) {
        io.stdout(
          `${JSON.stringify({
            eer: result.eer,
            minDcf: result.minDcf,
            threshold: result.threshold,
            minDcfThreshold: result.minDcfThreshold,
            pTarget: result.pTarget,
            cMiss: result.cMiss,
            cFa: result.cFa,
            trials: result.trials.length,
            files: result.files,
            cacheHits: result.cacheHits,
            cache: result.cache?.folder ?? null,
            model: result.model,
            engine: result.engine,
            scoring: result.scoring,
            numEval: result.numEval,
            evalFrames: result.evalFrames,
            norm: result.norm ?? null,
            seconds: result.seconds,
            scoresFile: opts.scores ?? null,
            plots: plots ?? null,
            notes: result.notes,
          })}\n`,
        );
        return;
      }
      const lines = [
        `EER     ${result.eer.toFixed(4)} %   (threshold at EER ${result.threshold.toFixed(6)})`,
        `minDCF  ${result.minDcf.toFixed(5)}     (p_target ${result.pTarget}, c_miss ${result.cMiss}, c_fa ${result.cFa})`,
        `trials  ${result.trials.length} over ${result.files} recordings; ${result.cacheHits} embeddings from the cache${result.cache ? '' : ' (cache off)'}`,
        `setup   ${describeSettings(result)}`,
        `time    ${result.seconds.toFixed(2)} s`,
      ];
      if (opts.scores) lines.push(`scores  ${opts.scores}`);
      if (plots) lines.push(`plots   ${plots.join(', ')}`);
      io.stdout(`${lines.join('\n')}\n`);
    });
}
