import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { CAM_TARGETS, type CamTarget } from '../cam/options.js';
import { evaluateCheckpoint } from '../eval/evaluate-checkpoint.js';
import { formatEvaluation } from '../eval/format.js';
import { INSERTION_STARTS, type InsertionStart } from '../eval/deletion-insertion.js';
import { OptionError } from '../train/options.js';
import { parseArgs, helpText, type FlagSpec } from './args.js';

const FLAGS: FlagSpec[] = [
  { flag: 'checkpoint', kind: 'string', def: null, help: 'checkpoint.safetensors of a run, or the run directory (required)' },
  { flag: 'out', kind: 'string', def: null, help: 'evaluation JSON file (default <run directory>/evaluation.json)' },
  { flag: 'test-limit', kind: 'int', def: null, help: 'class-stratified subset of the test split (default: all of it)' },
  { flag: 'faithfulness-n', kind: 'int', def: 200, help: 'test images (evenly spaced) for deletion/insertion AUC and average drop; 0 skips them' },
  { flag: 'steps', kind: 'int', def: 28, help: 'deletion/insertion steps K (784/K pixels each on 28×28)' },
  { flag: 'insertion-start', kind: 'string', def: 'blur', help: 'insertion starts from a blurred image (RISE: σ 5, 11×11) or black: blur|zero' },
  { flag: 'cam-target', kind: 'string', def: 'pred', help: 'class each CAM explains: pred|label' },
  { flag: 'samples-per-class', kind: 'int', def: 3, help: 'correctly classified figure samples per class' },
  { flag: 'data-dir', kind: 'string', def: null, help: 'directory with the idx files (default: the run\'s, else the usual search)' },
  { flag: 'quiet', kind: 'bool', def: false, help: 'no table, only the path written' },
];

export const EVALUATE_USAGE = 'Usage: batchcam evaluate --checkpoint PATH [options]\n\n' +
  'Evaluates a trained run on the test split (METHOD.md §7): accuracy, CAM coherence and reconstruction (l1, l2, ssim),\n' +
  'decoy energy on decoy datasets, deletion/insertion AUC and average drop, plus figure data; writes evaluation.json.';

function choice<T extends string>(flag: string, v: unknown, choices: readonly T[]): T {
  if (!(choices as readonly unknown[]).includes(v)) throw new OptionError(`--${flag}: got '${String(v)}', expected ${choices.join('|')}`);
  return v as T;
}

function nonNegative(flag: string, v: unknown, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || v < min) throw new OptionError(`--${flag}: got ${String(v)}, expected an integer ≥ ${min}`);
  return v;
}

/** `batchcam evaluate`: loads a checkpoint, evaluates it, writes the JSON atomically and prints a table. */
export async function evaluateCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText(EVALUATE_USAGE, FLAGS, false));
    return;
  }
  const { flags, positional } = parseArgs(argv, FLAGS, false);
  if (positional.length) throw new OptionError(`unexpected argument '${positional[0]}'; see --help`);
  const checkpoint = flags.checkpoint as string | undefined;
  if (!checkpoint) throw new OptionError('--checkpoint PATH is required (a run\'s checkpoint.safetensors or its directory)');
  const { evaluation } = await evaluateCheckpoint(checkpoint, {
    testLimit: nonNegative('test-limit', flags['test-limit'], 10) ?? null,
    faithfulnessN: nonNegative('faithfulness-n', flags['faithfulness-n']),
    steps: nonNegative('steps', flags.steps, 1),
    insertionStart: choice<InsertionStart>('insertion-start', flags['insertion-start'], INSERTION_STARTS),
    camTarget: choice<CamTarget>('cam-target', flags['cam-target'], CAM_TARGETS),
    samplesPerClass: nonNegative('samples-per-class', flags['samples-per-class']),
    dataDir: (flags['data-dir'] as string | undefined) ?? null,
  });
  const out = (flags.out as string | undefined) ?? join(dirname(evaluation.checkpoint!), 'evaluation.json');
  writeFileAtomic(out, Buffer.from(JSON.stringify(evaluation) + '\n'));
  if (flags.quiet !== true) console.log(formatEvaluation(evaluation) + '\n');
  console.log(`evaluation written to ${out}`);
}
