#!/usr/bin/env node
import { benchCommand } from './bench-command.js';
import { trainCommand } from './train-command.js';
import { evaluateCommand } from './evaluate-command.js';
import { experimentCommand } from './experiment-command.js';
import { explainCommand } from './explain-command.js';
import { reportCommand } from './report-command.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; help: string }> = {
  train: { run: trainCommand, help: 'train a model with the Batch-CAM regularisers' },
  evaluate: { run: evaluateCommand, help: 'accuracy, CAM coherence/reconstruction, decoy energy, faithfulness of a run (evaluation.json)' },
  experiment: { run: experimentCommand, help: 'train and evaluate a grid of models × datasets × settings × seeds, aggregated with Welch tests' },
  bench: { run: benchCommand, help: 'throughput vs PyTorch, regulariser overhead, Batch-CAM vs the per-sample loop' },
  explain: { run: explainCommand, help: 'CAM overlays (PNG) of test images or PNG files for a trained model' },
  report: { run: reportCommand, help: 'one self-contained HTML report of a run or experiment directory' },
};

const USAGE = `batchcam — explanation-guided training with Batch-CAM (vectorised Grad-CAM) on libtorch

Usage: batchcam <command> [options]    (batchcam <command> --help for its options)

Commands:
${Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(12)} ${v.help}`).join('\n')}`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    console.error(`batchcam: unknown command '${cmd}'; commands: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  try {
    await c.run(rest);
    return 0;
  } catch (e) {
    const err = e as Error;
    // Known failures get one line naming the problem and the fix; anything else keeps its stack for a bug report.
    const known = ['OptionError', 'DataError', 'CheckpointError', 'SafetensorsError', 'StateDictError', 'NonFiniteError'];
    if (known.includes(err.name) || err.message.startsWith('--') || /output directory|--resume/.test(err.message)) {
      console.error(`batchcam ${cmd}: ${err.message}`);
    } else {
      console.error(`batchcam ${cmd}: ${err.stack ?? err.message}`);
    }
    return err.name === 'OptionError' ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
