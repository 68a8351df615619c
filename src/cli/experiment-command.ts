import { join } from 'node:path';
import { readGrid } from '../experiment/grid-schema.js';
import { runExperiment } from '../experiment/run-grid.js';
import { OptionError } from '../config/option-spec.js';
import { EVALUATE_OPTIONS } from '../eval/evaluate-options.js';
import { shellQuote, withInterrupts } from '../train/run/interrupt.js';
import { parseArgs, helpText, type FlagSpec } from './args.js';

const FLAGS: FlagSpec[] = [
  { flag: 'config', kind: 'string', def: null, help: 'grid JSON file (required; format below)' },
  { flag: 'out', kind: 'string', def: null, help: 'experiment directory (default experiments/<grid name>)' },
  { flag: 'quiet', kind: 'bool', def: false, help: 'no training progress bars, only one line per run' },
  { flag: 'max-runs', kind: 'int', def: null, help: 'train/evaluate at most N runs, then write the aggregate and stop (run again to go on; lets other jobs in between)' },
  { flag: 'reevaluate', kind: 'bool', def: false, help: 'evaluate finished runs again from their checkpoints (no training), e.g. after changing the grid\'s "evaluate" options' },
];

export const EXPERIMENT_USAGE = `Usage: batchcam experiment --config grid.json [--out DIR] [--quiet] [--reevaluate]

Trains and evaluates every (model × dataset × setting × seed) of a grid into <out>/<model>/<dataset>/<setting>/seed<k>/
(config.json, metrics.jsonl, checkpoint.safetensors, evaluation.json, …), then writes <out>/aggregate.json and
aggregate.md: per (model, dataset, setting) mean ± std over seeds of accuracy, coherence (ssim, l1, l2),
reconstruction, map coverage and contrast, decoy energy and faithfulness, with Welch's t-test of each setting against
the setting named 'ce'. Run it again after an interruption: finished runs are skipped and a half-done run resumes from
its checkpoint; --reevaluate evaluates the finished runs again without training them. Ctrl-C (or SIGTERM) lets the
current run finish its step and write a checkpoint, then exits 130 naming the command that resumes.

Grid file:
  {
    "name": "mnist-simplecnn",
    "base": { "epochs": 3, "batchSize": 64, "trainLimit": null },          (training options, as in --config of train)
    "models": ["simplecnn"],
    "datasets": ["mnist", "decoy-mnist"],
    "settings": [ { "name": "ce" },                                         ('ce': both λ = 0, the baseline)
                  { "name": "proto-ssim", "lambdaProto": 1, "distance": "ssim" },
                  { "name": "batch-ssim", "lambdaBatch": 1, "distance": "ssim" } ],
    "seeds": [0, 1, 2],
    "evaluate": { "testLimit": null, "faithfulnessN": 200, "steps": 28, "insertionStart": "blur", "camTarget": "pred" }
  }
"evaluate" takes the settings of \`batchcam evaluate\` (see its --help), by key or flag name; defaults:
  ${EVALUATE_OPTIONS.map((s) => `${s.key} ${JSON.stringify(s.def)}`).join(', ')}.`;

/** `batchcam experiment`: runs (or resumes) a grid and writes its aggregate. */
export async function experimentCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText(EXPERIMENT_USAGE, FLAGS, false));
    return;
  }
  const { flags, positional } = parseArgs(argv, FLAGS, false);
  if (positional.length) throw new OptionError(`unexpected argument '${positional[0]}'; see --help`);
  const config = flags.config as string | undefined;
  if (!config) throw new OptionError('--config grid.json is required; see --help for the format');
  const { grid, runs } = readGrid(config);
  const out = (flags.out as string | undefined) ?? join('experiments', grid.name);
  console.log(`experiment '${grid.name}': ${runs.length} runs into ${out}`);
  // Ctrl-C/SIGTERM: the current run finishes its step and checkpoints; running the same command again resumes.
  const again = `batchcam experiment --config ${shellQuote(config)} --out ${shellQuote(out)}${flags.reevaluate === true ? ' --reevaluate' : ''}`;
  const agg = await withInterrupts((signal) =>
    runExperiment(grid, runs, { outDir: out, quiet: flags.quiet === true, reevaluate: flags.reevaluate === true, signal,
      maxRuns: typeof flags['max-runs'] === 'number' ? flags['max-runs'] : undefined }), again);
  console.log(`aggregate of ${agg.rows.length} settings written to ${join(out, 'aggregate.json')} and aggregate.md`);
}
