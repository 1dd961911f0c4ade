import { Option, type Command } from 'commander';
import { exportOnnxFile } from '../../export/onnx/export-file-node.js';
import type { FrontendLocation } from '../../export/onnx/export.js';
import { SHERPA_ONNX_FRAMEWORKS, type SherpaOnnxFramework } from '../../export/onnx/sherpa-onnx.js';
import type { CliIO } from '../main.js';
import { prepareBackend } from '../options.js';

interface ExportCliOptions {
  weights: string;
  model?: string;
  format: 'onnx';
  out: string;
  frontend?: FrontendLocation;
  check: boolean;
  json?: boolean;
  target?: 'sherpa-onnx';
  language?: string;
  framework?: SherpaOnnxFramework;
}

export function registerExport(program: Command, io: CliIO): void {
  program
    .command('export')
    .description('export a checkpoint for other runtimes (ONNX: dynamic batch and time axes, metadata, checked in ONNX Runtime before it is written)')
    .requiredOption('-w, --weights <file>', 'checkpoint (voxceleb_trainer .model, RTVC/RawNet3 .pt, voxkit)')
    .option('-m, --model <name>', 'architecture, when it cannot be detected from the weights')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['onnx']).default('onnx'))
    .requiredOption('-o, --out <file>', 'the .onnx file to write')
    .addOption(
      new Option('--frontend <where>', 'voxceleb log-mel models: take waveforms (front end inside the graph) or log-mel features (separate); default inside; RTVC, singer and Kaldi-fbank encoders always separate').choices([
        'inside',
        'separate',
      ]),
    )
    .addOption(
      new Option('--target <runtime>', 'sherpa-onnx: a SpeakerEmbeddingExtractor model (fbank input x [B, T, 80], its metadata keys); needs an encoder trained with --model-option frontend=kaldi-fbank').choices([
        'sherpa-onnx',
      ]),
    )
    .option('--language <name>', 'sherpa-onnx "language" metadata (default English)')
    .addOption(new Option('--framework <name>', 'sherpa-onnx "framework" metadata (default wespeaker; both run the same code)').choices([...SHERPA_ONNX_FRAMEWORKS]))
    .option('--no-check', 'do not load the result in ONNX Runtime and compare it with the original before writing')
    .option('--json', 'print a JSON summary')
    .action(async (opts: ExportCliOptions, cmd: Command) => {
      await prepareBackend(cmd);
      const result = await exportOnnxFile(opts.weights, opts.out, {
        model: opts.model,
        frontend: opts.frontend,
        skipCheck: !opts.check,
        target: opts.target ?? 'onnx',
        language: opts.language,
        framework: opts.framework,
      });
      const { exported } = result;
      if (opts.json) {
        io.stdout(
          `${JSON.stringify({
            file: result.file,
            architecture: result.architecture,
            target: opts.target ?? 'onnx',
            bytes: result.bytes,
            input: exported.inputName,
            inputKind: exported.inputKind,
            outputs: exported.outputNames,
            frontend: exported.frontend,
            metadata: exported.metadata,
            check: result.check ?? null,
            checkSkipped: result.checkSkipped ?? null,
          })}\n`,
        );
        return;
      }
      const mb = (result.bytes / 1e6).toFixed(1);
      const check = result.check
        ? `checked in ONNX Runtime: max |diff| ${result.check.maxAbsDiff.toExponential(1)} vs tfjs on a batch of ${result.check.batch}`
        : `not checked (${result.checkSkipped})`;
      io.stdout(
        `${result.file}: ${result.architecture}${opts.target ? ` for ${opts.target}` : ''}, ${mb} MB, input ${exported.inputName} (front end ${exported.frontend}), ` +
          `output ${exported.outputNames.join(', ')}; ${check}\n`,
      );
    });
}
