import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { OptionError, resolveOptions } from '../config/option-spec.js';
import { EVALUATE_OPTIONS } from '../eval/evaluate-options.js';
import { formatEvaluation } from '../eval/format.js';
import { evaluateCheckpoint } from '../experiment/evaluate-checkpoint.js';
import { parseArgs, helpText, type FlagSpec, type OptionGroup } from './args.js';

const FLAGS: FlagSpec[] = [
  { flag: 'checkpoint', kind: 'string', def: null, help: 'checkpoint.safetensors of a run, or the run directory (required)' },
  { flag: 'out', kind: 'string', def: null, help: 'evaluation JSON file (default <run directory>/evaluation.json)' },
  { flag: 'data-dir', kind: 'string', def: null, help: 'directory with the idx files (default: the run\'s, else the usual search)' },
  { flag: 'quiet', kind: 'bool', def: false, help: 'no table, only the path written' },
];

const SETTINGS: OptionGroup = { title: 'Evaluation settings (also the keys of an experiment grid\'s "evaluate" block)', options: EVALUATE_OPTIONS };

export const EVALUATE_USAGE = 'Usage: batchcam evaluate --checkpoint PATH [options]\n\n' +
  'Evaluates a trained run on the test split (docs/method.md §7): accuracy, CAM coherence and reconstruction (l1, l2, ssim),\n' +
  'map coverage and contrast, decoy energy on decoy datasets, deletion/insertion AUC and average drop, plus figure data;\n' +
  'writes evaluation.json.';

/** `batchcam evaluate`: loads a checkpoint, evaluates it, writes the JSON atomically and prints a table. */
export async function evaluateCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText(EVALUATE_USAGE, FLAGS, false, [SETTINGS]));
    return;
  }
  const { options, flags, positional } = parseArgs(argv, FLAGS, false, [SETTINGS]);
  if (positional.length) throw new OptionError(`unexpected argument '${positional[0]}'; see --help`);
  const checkpoint = flags.checkpoint as string | undefined;
  if (!checkpoint) throw new OptionError('--checkpoint PATH is required (a run\'s checkpoint.safetensors or its directory)');
  const { evaluation } = await evaluateCheckpoint(checkpoint, {
    ...resolveOptions(EVALUATE_OPTIONS, options),
    dataDir: (flags['data-dir'] as string | undefined) ?? null,
  });
  const out = (flags.out as string | undefined) ?? join(dirname(evaluation.checkpoint!), 'evaluation.json');
  writeFileAtomic(out, Buffer.from(JSON.stringify(evaluation) + '\n'));
  if (flags.quiet !== true) console.log(formatEvaluation(evaluation) + '\n');
  console.log(`evaluation written to ${out}`);
}
