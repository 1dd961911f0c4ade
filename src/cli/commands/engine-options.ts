/** `--engine` and `--threads`, shared by the commands that embed audio. */
import { Option, type Command } from 'commander';
import { ENGINE_CHOICES, type EngineChoice } from '../../api/load-encoder-node.js';
import { positiveInt } from '../options.js';

export interface EngineCliOptions {
  engine: EngineChoice;
  threads?: number;
}

export function addEngineOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--engine <engine>', 'inference engine: ONNX Runtime, TensorFlow.js, or ONNX Runtime when it is installed (auto)')
        .choices([...ENGINE_CHOICES])
        .default('auto'),
    )
    .option('--threads <n>', 'ONNX Runtime threads (default: VOXKIT_ORT_THREADS or all cores)', positiveInt);
}
