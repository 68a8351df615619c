import { OptionError } from '../train/options.js';
import { ReportError, writeReport } from '../report/report.js';
import { parseArgs, helpText, type FlagSpec } from './args.js';

const FLAGS: FlagSpec[] = [
  { flag: 'out', kind: 'string', def: null, help: 'HTML file to write (default <dir>/report.html)' },
  { flag: 'baseline', kind: 'string', def: null, help: 'another evaluated run (e.g. the CE-only one) shown side by side: metrics, mean CAMs, samples' },
];

export const REPORT_USAGE = 'Usage: batchcam report RUN_OR_EXPERIMENT_DIR [--out report.html] [--baseline OTHER_RUN]\n\n' +
  'Writes one self-contained HTML file (inline CSS, SVG charts and PNG images; nothing is fetched when viewing):\n' +
  'for a run, its training curves, evaluation tables and per-class explanation figures; for an experiment\n' +
  '(a directory with aggregate.json), the mean ± std table with significance marks vs CE-only and side-by-side figures.';

/** `batchcam report`: the HTML report of a run or experiment directory. */
export async function reportCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText(REPORT_USAGE, FLAGS, false));
    return;
  }
  const { flags, positional } = parseArgs(argv, FLAGS, false);
  if (positional.length !== 1) {
    throw new OptionError(positional.length === 0 ? 'give the run or experiment directory to report on; see --help'
      : `expected one directory, got ${positional.length}: ${positional.join(' ')}`);
  }
  try {
    const r = await writeReport(positional[0]!, flags.out as string | undefined, { baseline: flags.baseline as string | undefined });
    console.log(`${r.kind} report written to ${r.path} (${(r.bytes / 1024).toFixed(0)} KiB)`);
  } catch (e) {
    // The CLI prints known error kinds as one line; a directory with nothing to report is a usage problem.
    if (e instanceof ReportError) throw new OptionError(e.message);
    throw e;
  }
}
