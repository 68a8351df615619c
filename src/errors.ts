/**
 * The errors batchcam reports to a user, and the process exit code of each kind, defined once.
 *
 * This module is floor-less: it imports nothing, so every floor (torch … cli) may import it. A failure the user can
 * fix is a `BatchcamError` whose message names the thing and the fix; `batchcam` prints that one message and exits
 * with the error's `exitCode`. Anything else is a bug: it is printed with its stack and exits 1.
 */

/** Exit codes of the `batchcam` command, by kind of outcome. */
export const EXIT_CODES = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  data: 3,
  storage: 4,
  diverged: 5,
  locked: 6,
  peer: 7,
  interrupted: 130,
} as const;

/** What each exit code means: the source of `--help`'s list and the README's "Exit codes" table (a test compares). */
export const EXIT_CODE_MEANINGS: Readonly<Record<keyof typeof EXIT_CODES, string>> = {
  ok: 'finished',
  unexpected: 'unexpected error (a bug): printed with its stack trace',
  usage: 'bad command line, option, config or grid file',
  data: 'dataset not found, unreadable or failing verification',
  storage: 'checkpoint, model file or run directory unreadable, unwritable or unusable (e.g. it holds a run and neither --resume nor --overwrite was given; disk full)',
  diverged: 'training diverged: a loss term or the gradient norm became NaN/Inf (the last good checkpoint is kept)',
  locked: 'the run directory is in use by another live process (the message names its pid)',
  peer: 'data-parallel training lost a worker: a peer process died, or a collective or the rendezvous timed out (the message names the rank)',
  interrupted: 'stopped by Ctrl-C/SIGTERM: the current step was finished and checkpointed; the message says how to resume',
};

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** Base of every error a user can act on; `exitCode` is what `batchcam` exits with. */
export abstract class BatchcamError extends Error {
  abstract readonly exitCode: ExitCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A bad command line, option value, config file or experiment grid (exit 2). */
export class UsageError extends BatchcamError {
  override readonly exitCode = EXIT_CODES.usage;
}

/**
 * The single error type of the data layer (exit 3): every failure to find, read or validate a data file, with a
 * message naming the file (or the places searched), what was expected and what was found.
 */
export class DataError extends BatchcamError {
  override readonly exitCode = EXIT_CODES.data;
}

/** A checkpoint, model file or run directory that cannot be read, written or used (exit 4). */
export class StorageError extends BatchcamError {
  override readonly exitCode = EXIT_CODES.storage;
}

/** A checkpoint that is not ours or does not fit; says what and how to fix it (exit 4). */
export class CheckpointError extends StorageError {}

/** A run directory in a state the command cannot use (e.g. it holds a run and neither --resume nor --overwrite) (exit 4). */
export class RunDirError extends StorageError {}

/** Stage of an atomic write that failed. */
export type WriteStage = 'open' | 'write' | 'fsync' | 'rename';

/** Writing a file failed (disk full, permissions…); the file that was there before is unchanged (exit 4). */
export class WriteError extends StorageError {
  /** What failed, e.g. "fsync failed: ENOSPC: no space left on device". */
  readonly reason: string;

  constructor(readonly path: string, readonly stage: WriteStage, cause: unknown) {
    const reason = `${stage} failed: ${(cause as Error | undefined)?.message ?? String(cause)}`;
    super(`${path}: cannot write (${reason}); the previous file, if any, is unchanged. ` +
      'Free disk space or fix the permissions and run the command again', { cause });
    this.reason = reason;
  }

  /** The system error code (ENOSPC, EACCES…), if any. */
  get code(): string | undefined {
    return (this.cause as { code?: string } | undefined)?.code;
  }
}

/** Another live process holds the run directory's lock (exit 6). */
export class RunLockedError extends BatchcamError {
  override readonly exitCode = EXIT_CODES.locked;

  constructor(readonly dir: string, readonly pid: number | null, readonly lockFile: string, detail = '') {
    super(`run directory ${dir} is in use by ${pid === null ? 'another process' : `process ${pid}`}${detail} (lock file ${lockFile}); ` +
      'wait for it to finish or stop it, or choose another --out (if that process is gone, delete the lock file)');
  }
}

/** A data-parallel peer died, or the rendezvous or a collective timed out (exit 7). */
export class PeerError extends BatchcamError {
  override readonly exitCode = EXIT_CODES.peer;
}

/** Stopped by SIGINT/SIGTERM; `resumeCommand` continues the work, or is null when nothing was written (exit 130). */
export class InterruptedError extends BatchcamError {
  override readonly exitCode = EXIT_CODES.interrupted;

  constructor(readonly signal: string, readonly what: string, readonly resumeCommand: string | null) {
    super(`interrupted by ${signal}: ${what}` + (resumeCommand ? `\nresume with: ${resumeCommand}` : ''));
  }

  /** The same interruption with another resume command (e.g. an experiment's, around one of its runs). */
  withResumeCommand(resumeCommand: string): InterruptedError {
    return new InterruptedError(this.signal, this.what, resumeCommand);
  }
}
