import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { inlinePngs } from './png.js';
import { experimentReport } from './experiment-report.js';
import { readAggregate, readRun } from './run-files.js';
import { runReport } from './run-report.js';

/** Thrown when a directory holds nothing to report on; says what was expected. */
export class ReportError extends Error {
  override name = 'ReportError';
}

/** A built report and what it describes. */
export interface BuiltReport {
  kind: 'run' | 'experiment';
  html: string;
}

/**
 * The report of a run directory (config.json / metrics.jsonl / evaluation.json) or of an experiment directory
 * (aggregate.json, whose rows name run directories), as one self-contained HTML page (figures inlined as PNG data: URIs).
 */
export async function buildReport(dir: string, o: { baseline?: string } = {}): Promise<BuiltReport> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ReportError(`${dir} is not a directory; pass a run or experiment directory`);
  const warnings: string[] = [];
  const agg = readAggregate(dir, warnings);
  if (agg) return { kind: 'experiment', html: await inlinePngs(experimentReport(dir, agg, warnings)) };
  if (!['config.json', 'metrics.jsonl', 'evaluation.json'].some((f) => existsSync(join(dir, f)))) {
    throw new ReportError(`${dir} has no aggregate.json, config.json, metrics.jsonl or evaluation.json; ` +
      'pass a directory written by `batchcam train`/`evaluate` (a run) or `batchcam experiment`');
  }
  const run = readRun(dir);
  run.warnings.unshift(...warnings);
  let baseline = null;
  if (o.baseline !== undefined) {
    if (!existsSync(join(o.baseline, 'evaluation.json'))) {
      throw new ReportError(`--baseline ${o.baseline} has no evaluation.json; run \`batchcam evaluate\` on it first`);
    }
    baseline = readRun(o.baseline);
  }
  return { kind: 'run', html: await inlinePngs(runReport(run, baseline)) };
}

/** Builds the report of `dir` (beside a `baseline` run's, for a run) and writes it atomically (temp file + rename) to `out` (default `<dir>/report.html`). */
export async function writeReport(dir: string, out?: string, o: { baseline?: string } = {}): Promise<{ path: string; kind: BuiltReport['kind']; bytes: number }> {
  const path = resolve(out ?? join(dir, 'report.html'));
  const { kind, html } = await buildReport(dir, o);
  const bytes = Buffer.from(html, 'utf8');
  writeFileAtomic(path, bytes);
  return { path, kind, bytes: bytes.length };
}
