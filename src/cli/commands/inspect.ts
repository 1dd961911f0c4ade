import type { Command } from 'commander';
import type { CliIO } from '../main.js';
import { loadCheckpointFile } from '../../io/load-checkpoint-node.js';
import { numel, type StateDict } from '../../core/tensor-data.js';

function keyRows(sd: StateDict, prefix: string): Array<{ key: string; shape: number[]; dtype: string }> {
  return [...sd].map(([k, t]) => ({ key: prefix + k, shape: [...t.shape], dtype: t.dtype }));
}

export function registerInspect(program: Command, io: CliIO): void {
  program
    .command('inspect')
    .description('show a checkpoint: layout, detected model, hyper-parameters, keys and shapes')
    .argument('<file>', 'PyTorch checkpoint (.model, .pt, .pth)')
    .option('--json', 'print a JSON report')
    .action(async (file: string, opts: { json?: boolean }) => {
      const ckpt = await loadCheckpointFile(file);
      const model = keyRows(ckpt.model, '');
      const loss = keyRows(ckpt.loss, '');
      const count = (sd: StateDict) => [...sd.values()].reduce((n, t) => n + numel(t.shape), 0);
      if (opts.json) {
        io.stdout(
          `${JSON.stringify({
            file,
            layout: ckpt.layout,
            architecture: ckpt.architecture ?? null,
            hyperparameters: ckpt.hyperparameters,
            meta: ckpt.meta,
            hasOptimizerState: ckpt.hasOptimizerState,
            modelValues: count(ckpt.model),
            lossValues: count(ckpt.loss),
            model,
            loss,
          })}\n`,
        );
        return;
      }
      const lines: string[] = [];
      lines.push(`file          ${file}`);
      lines.push(`layout        ${ckpt.layout}`);
      lines.push(`model         ${ckpt.architecture ?? 'unknown (not one of the built-in architectures)'}`);
      // Hyper-parameter names can be longer than the label column: keep at least one space.
      const hpWidth = Math.max(12, ...Object.keys(ckpt.hyperparameters).map((k) => k.length + 1));
      for (const [k, v] of Object.entries(ckpt.hyperparameters)) lines.push(`  ${k.padEnd(hpWidth)}${JSON.stringify(v)}`);
      for (const [k, v] of Object.entries(ckpt.meta)) lines.push(`${k.padEnd(14)}${JSON.stringify(v)}`);
      lines.push(`optimizer     ${ckpt.hasOptimizerState ? 'state present' : 'none'}`);
      lines.push(`encoder       ${model.length} tensors, ${count(ckpt.model).toLocaleString('en-US')} values`);
      lines.push(`loss head     ${loss.length} tensors, ${count(ckpt.loss).toLocaleString('en-US')} values`);
      const width = Math.max(10, ...model.map((r) => r.key.length), ...loss.map((r) => r.key.length + 6));
      const row = (r: { key: string; shape: number[]; dtype: string }) =>
        `  ${r.key.padEnd(width)}  ${`[${r.shape.join(', ')}]`.padEnd(20)} ${r.dtype}`;
      if (model.length) lines.push('', 'encoder keys:', ...model.map(row));
      if (loss.length) lines.push('', 'loss keys:', ...loss.map(row));
      io.stdout(`${lines.join('\n')}\n`);
    });
}
