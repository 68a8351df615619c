#!/usr/bin/env node
import { BatchcamError, EXIT_CODES } from '../errors.js';
import { benchCommand } from './bench-command.js';
import { LaunchedJobExit, trainCommand } from './train-command.js';
import { evaluateCommand } from './evaluate-command.js';
import { experimentCommand } from './experiment-command.js';
import { explainCommand } from './explain-command.js';
import { reportCommand } from './report-command.js';
import { serveCommand } from './serve-command.js';
import { exitCodesHelp } from './args.js';
import { tuneAllocator } from '../torch/allocator.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; help: string }> = {
  train: { run: trainCommand, help: 'train a model with the Batch-CAM regularisers' },
  evaluate: { run: evaluateCommand, help: 'accuracy, CAM coherence/reconstruction, decoy energy, faithfulness of a run (evaluation.json)' },
  experiment: { run: experimentCommand, help: 'train and evaluate a grid of models × datasets × settings × seeds, aggregated with Welch tests' },
  bench: { run: benchCommand, help: 'throughput vs PyTorch, regulariser overhead, Batch-CAM vs the per-sample loop' },
  explain: { run: explainCommand, help: 'CAM overlays (PNG) of test images or PNG files for a trained model' },
  report: { run: reportCommand, help: 'one self-contained HTML report of a run or experiment directory' },
  serve: { run: serveCommand, help: 'local web explorer of a runs directory: live curves, the CAM timeline, explanations on demand' },
};

const USAGE = `batchcam — explanation-guided training with Batch-CAM (vectorised Grad-CAM) on libtorch

Usage: batchcam <command> [options]    (batchcam <command> --help for its options)

Commands:
${Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(12)} ${v.help}`).join('\n')}

${exitCodesHelp()}`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(USAGE);
    return cmd ? EXIT_CODES.ok : EXIT_CODES.usage;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    console.error(`batchcam: unknown command '${cmd}'; commands: ${Object.keys(COMMANDS).join(', ')}`);
    return EXIT_CODES.usage;
  }
  try {
    await c.run(rest);
    return EXIT_CODES.ok;
  } catch (e) {
    if (e instanceof LaunchedJobExit) return e.exitCode;
    // Failures the user can fix get one message naming the problem and the fix, and their kind's exit code
    // (src/errors.ts); anything else is a bug and keeps its stack for the report.
    if (e instanceof BatchcamError) {
      console.error(`batchcam ${cmd}: ${e.message}`);
      return e.exitCode;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    console.error(`batchcam ${cmd}: unexpected error (a bug; please report it with this output): ${err.stack ?? err.message}`);
    return EXIT_CODES.unexpected;
  }
}

// Training and benchmarks reuse freed activation buffers (src/torch/allocator.ts; BATCHCAM_MALLOC=default opts out).
tuneAllocator();
process.exitCode = await main(process.argv.slice(2));
