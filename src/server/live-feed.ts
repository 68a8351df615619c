import { fstatSync, readSync } from 'node:fs';
import { withOpenFile } from '../io/open-file.js';
import { join } from 'node:path';
import { readMetrics, type EpochLine, type StepLine } from '../report/run-files.js';
import { probeSteps, readProbeIndex } from '../train/run/probe-log.js';
import { runStatus, type RunStatus } from './run-status.js';

/** One server-sent event of a run's live feed. */
export type LiveEvent =
  | { event: 'steps'; data: { reset: boolean; lines: StepLine[] } }
  | { event: 'metrics'; data: EpochLine[] }
  | { event: 'probes'; data: number[] }
  | { event: 'status'; data: RunStatus };

/** How often the watched files are looked at: the server stats a few files; clients never poll. */
export const WATCH_INTERVAL_MS = 500;

/** The size and change time of a file, or null while it does not exist. */
function fileStamp(path: string): string | null {
  return withOpenFile(path, null, (fd) => {
    const s = fstatSync(fd);
    return `${s.size}:${s.mtimeMs}`;
  });
}

/**
 * Reads steps.jsonl from `offset` to its last complete line. A file shorter than `offset` was cut (a resume drops
 * lines past its checkpoint) or replaced: it is read again from the start (`reset`).
 */
function readNewSteps(path: string, offset: number): { reset: boolean; lines: StepLine[]; offset: number } {
  return withOpenFile(path, { reset: offset > 0, lines: [], offset: 0 }, (fd) => {
    const size = fstatSync(fd).size;
    const reset = size < offset;
    const from = reset ? 0 : offset;
    const buf = Buffer.alloc(size - from);
    const got = readSync(fd, buf, 0, buf.length, from);
    const text = buf.subarray(0, got).toString('utf8');
    const end = text.lastIndexOf('\n') + 1; // a line still being written waits for the next look
    const lines: StepLine[] = [];
    for (const l of text.slice(0, end).split('\n')) {
      if (!l.trim()) continue;
      try {
        const v = JSON.parse(l) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) lines.push(v as StepLine);
      } catch {
        // a torn line (killed trainer): skipped
      }
    }
    return { reset, lines, offset: from + Buffer.byteLength(text.slice(0, end)) };
  });
}

/** A run directory watched for as long as someone listens. */
class RunWatch {
  readonly listeners = new Set<(e: LiveEvent) => void>();
  #timer: NodeJS.Timeout | null = null;
  #offset = 0;
  #steps: StepLine[] = [];
  #stamps = new Map<string, string | null>();
  #status: RunStatus | null = null;
  #metrics: EpochLine[] = [];
  #probes: number[] = [];

  constructor(readonly dir: string) {}

  /** Everything known now, as the events a new listener starts from. */
  snapshot(): LiveEvent[] {
    this.poll();
    return [
      { event: 'status', data: this.#status! }, { event: 'steps', data: { reset: true, lines: this.#steps } },
      { event: 'metrics', data: this.#metrics }, { event: 'probes', data: this.#probes },
    ];
  }

  start(): void {
    this.#timer ??= setInterval(() => this.poll(), WATCH_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #changed(name: string): boolean {
    const s = fileStamp(join(this.dir, name));
    const changed = !this.#stamps.has(name) || this.#stamps.get(name) !== s;
    this.#stamps.set(name, s);
    return changed;
  }

  /** Looks at the files once and tells listeners what changed. Never throws: a half-written or deleted run reads as what is there. */
  poll(): void {
    const emit = (e: LiveEvent): void => {
      for (const l of this.listeners) l(e);
    };
    const status = runStatus(this.dir);
    if (status !== this.#status) {
      this.#status = status;
      emit({ event: 'status', data: status });
    }
    if (this.#changed('steps.jsonl')) {
      const r = readNewSteps(join(this.dir, 'steps.jsonl'), this.#offset);
      this.#offset = r.offset;
      if (r.reset) this.#steps = [];
      this.#steps.push(...r.lines);
      if (r.reset || r.lines.length) emit({ event: 'steps', data: { reset: r.reset, lines: r.lines } });
    }
    if (this.#changed('metrics.jsonl')) {
      this.#metrics = readMetrics(join(this.dir, 'metrics.jsonl'));
      emit({ event: 'metrics', data: this.#metrics });
    }
    const records = this.#changed('probes.bin');
    if (this.#changed('probes.json') || records) {
      const index = readProbeIndex(join(this.dir, 'probes.json'));
      const steps = index ? probeSteps(join(this.dir, 'probes.bin'), index) : [];
      if (steps.join() !== this.#probes.join()) {
        this.#probes = steps;
        emit({ event: 'probes', data: steps });
      }
    }
  }
}

/**
 * The live feed of runs: one watcher per watched run directory, shared by every listener, stopped when the last
 * one leaves. Fed only by the files the trainer writes anyway (steps.jsonl, metrics.jsonl, probes.bin, the lock).
 */
export class LiveFeed {
  #watches = new Map<string, RunWatch>();

  /** Calls `listener` with the run's current state, then with every change; returns the unsubscribe function. */
  subscribe(dir: string, listener: (e: LiveEvent) => void): () => void {
    let w = this.#watches.get(dir);
    if (!w) {
      w = new RunWatch(dir);
      this.#watches.set(dir, w);
    }
    for (const e of w.snapshot()) listener(e);
    w.listeners.add(listener);
    w.start();
    return () => {
      w.listeners.delete(listener);
      if (w.listeners.size === 0) {
        w.stop();
        this.#watches.delete(dir);
      }
    };
  }

  /** Stops every watcher. */
  close(): void {
    for (const w of this.#watches.values()) w.stop();
    this.#watches.clear();
  }
}
