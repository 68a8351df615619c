import { InterruptedError } from '../../errors.js';

/** The signals that ask a long command to stop cleanly. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Turns the first SIGINT/SIGTERM into an abort of the returned signal (reason: the signal's name), which the
 * trainer polls between steps: it finishes the current step, writes a checkpoint and throws InterruptedError.
 * The handlers then remove themselves, so a second Ctrl-C gets the default action and stops the process at once;
 * the last checkpoint stays valid because every write is atomic. `dispose()` removes the handlers.
 */
export function interruptSignal(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const remove = (): void => {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  };
  function onSignal(sig: NodeJS.Signals): void {
    remove();
    log(`\nbatchcam: ${sig} received: finishing the current step and writing a checkpoint (press Ctrl-C again to stop at once)`);
    controller.abort(sig);
  }
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  return { signal: controller.signal, dispose: remove };
}

/**
 * Runs `run` with {@link interruptSignal} installed: the one-line hook of a command that trains. With
 * `resumeCommand`, an InterruptedError leaves saying that command continues the work (e.g. an experiment's,
 * rather than the train command of the run it stopped in).
 */
export async function withInterrupts<T>(run: (signal: AbortSignal) => Promise<T>, resumeCommand?: string): Promise<T> {
  const { signal, dispose } = interruptSignal();
  try {
    return await run(signal);
  } catch (e) {
    if (e instanceof InterruptedError && resumeCommand) throw e.withResumeCommand(resumeCommand);
    throw e;
  } finally {
    dispose();
  }
}

/** Throws InterruptedError if `signal` was aborted; `what` says what state the work was left in. */
export function throwIfInterrupted(signal: AbortSignal | undefined, what: string, resumeCommand: string | null = null): void {
  if (signal?.aborted) throw new InterruptedError(String(signal.reason), what, resumeCommand);
}

/** `arg` quoted for a POSIX shell where it needs it, for commands printed to copy. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
