import { basename } from 'node:path';
import { withInterrupts } from '../train/run/interrupt.js';
import { train } from '../train/trainer.js';
import { parseArgs, helpText, type FlagSpec } from './args.js';
import { exitWithLauncher, launchWorkers } from './launcher.js';
import { UsageError } from '../errors.js';

const FLAGS: FlagSpec[] = [
  { flag: 'out', kind: 'string', def: null, help: 'run directory (default runs/<model>-<dataset>-s<seed>)' },
  { flag: 'resume', kind: 'bool', def: false, help: 'continue the run in --out from its checkpoint' },
  { flag: 'overwrite', kind: 'bool', def: false, help: 'replace an existing run in --out (kept aside until the new run\'s first checkpoint, restored if it fails before)' },
  { flag: 'max-steps', kind: 'int', def: null, help: 'stop (with a checkpoint) after N steps in this invocation' },
  { flag: 'quiet', kind: 'bool', def: false, help: 'no progress output' },
  { flag: 'nproc-per-node', kind: 'int', def: null, help: 'data-parallel: start N local worker processes (like torchrun --standalone; --batch-size is the global batch)' },
];

/** The job's exit code, from a launcher (`batchcam train --nproc-per-node N`). */
export class LaunchedJobExit extends Error {
  constructor(readonly exitCode: number) {
    super(`data-parallel job exited with ${exitCode}`);
  }
}

export const TRAIN_USAGE = 'Usage: batchcam train [options]\n\nTrains a classifier with the Batch-CAM objective L = CE + λp·L_proto + λb·L_batch and writes\n' +
  'config.json, metrics.jsonl, checkpoint.safetensors, model.safetensors and summary.json to the run directory.\n' +
  'Ctrl-C (or SIGTERM) finishes the current step, writes a checkpoint and prints the --resume command; a second Ctrl-C stops at once.';

/** A dataset spec as a directory name: folder:/data/birds → folder-birds. */
function runName(dataset: string): string {
  const at = dataset.indexOf(':');
  return at < 0 ? dataset : `${dataset.slice(0, at)}-${basename(dataset.slice(at + 1).replace(/\/+$/, '')) || 'data'}`;
}

export async function trainCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText(TRAIN_USAGE, FLAGS, true));
    return;
  }
  const { options, flags } = parseArgs(argv, FLAGS, true);
  const nproc = flags['nproc-per-node'];
  if (typeof nproc === 'number') {
    if (!(nproc >= 1 && nproc <= 1024)) throw new UsageError(`--nproc-per-node: got ${nproc}, expected an integer in [1, 1024]`);
    if (process.env.WORLD_SIZE && process.env.WORLD_SIZE !== '1') {
      throw new UsageError('--nproc-per-node starts its own workers; do not combine it with RANK/WORLD_SIZE (a launcher already started this process)');
    }
    const i = argv.findIndex((a) => a === '--nproc-per-node' || a.startsWith('--nproc-per-node='));
    const rest = argv.filter((_, k) => k !== i && !(k === i + 1 && !argv[i]!.includes('=')));
    throw new LaunchedJobExit(await launchWorkers(nproc, rest));
  }
  exitWithLauncher();
  const out = (flags.out as string | undefined)
    ?? `runs/${options.model ?? 'simplecnn'}-${runName(String(options.dataset ?? 'mnist'))}-s${options.seed ?? 0}`;
  // Ctrl-C/SIGTERM: finish the step, checkpoint, exit 130 with the resume command.
  const result = await withInterrupts((signal) => train(options, {
    outDir: out, resume: flags.resume === true, overwrite: flags.overwrite === true,
    maxSteps: typeof flags['max-steps'] === 'number' ? flags['max-steps'] : undefined, quiet: flags.quiet === true,
    onEpoch: (r) => console.log(JSON.stringify(r)), signal,
  }));
  const last = result.history[result.history.length - 1];
  // Data-parallel: rank 0 speaks for the job.
  if (Number(process.env.RANK ?? 0) > 0 && process.env.WORLD_SIZE !== '1') return;
  const acc = (what: string, v: number | null | undefined): string | null => (typeof v === 'number' ? `${what} accuracy ${(100 * v).toFixed(2)}%` : null);
  const figures = last ? [acc('test', last.testAccuracy), acc('last validation', last.valAccuracy)].filter(Boolean) : [];
  console.log(`run written to ${result.paths.dir}` + (figures.length ? ` (${figures.join(', ')})` : ''));
}
