import { InvalidArgumentError, Option, type Command } from 'commander';
import { startServe } from '../../serve/server-node.js';
import type { CliIO } from '../main.js';
import { finiteNumber, prepareBackend } from '../options.js';

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535 (0 = any free port)');
  return n;
}

/** Resolves on the first SIGINT/SIGTERM (Ctrl-C), removing its handlers. */
function untilInterrupted(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerServe(program: Command, io: CliIO): void {
  program
    .command('serve')
    .description('serve a page that enrolls and verifies speakers in the browser (the model runs there, in onnxruntime-web)')
    .requiredOption('-w, --weights <file>', 'checkpoint (exported to ONNX in memory)')
    .option('-m, --model <name>', 'architecture, when it cannot be detected from the weights')
    .option('-p, --port <port>', 'TCP port (0 = any free port)', portNumber, 8080)
    .option('--host <host>', 'address to listen on (the microphone needs localhost or https)', '127.0.0.1')
    .option('-t, --threshold <t>', 'decision threshold the page starts from (default 0.5, uncalibrated)', finiteNumber)
    .addOption(
      new Option('--frontend <where>', 'log-mel models: front end in the page (TypeScript) or inside the ONNX graph').choices(['separate', 'inside']),
    )
    .action(async (opts: { weights: string; model?: string; port: number; host: string; threshold?: number; frontend?: 'separate' | 'inside' }, cmd: Command) => {
      await prepareBackend(cmd);
      const server = await startServe({ weights: opts.weights, model: opts.model, port: opts.port, host: opts.host, threshold: opts.threshold, frontend: opts.frontend });
      const kib = (server.exported.bytes.length / 1024).toFixed(0);
      io.stdout(`serving ${server.architecture} (${kib} KiB ONNX, front end ${server.exported.frontend}) at ${server.url}\n`);
      io.stdout('press Ctrl-C to stop\n');
      await untilInterrupted();
      await server.close();
      io.stdout('stopped\n');
    });
}
