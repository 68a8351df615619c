import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled CLI entry (dist/src/cli/main.js). */
export function cliPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
}

/** When a crash drill kills the run: `ms` after the first checkpoint appears, or `delayMs` after steps.jsonl holds `lines` lines. */
export type KillAt = number | { lines: number; delayMs: number };

/**
 * Runs `batchcam train ARGS` and resolves with its exit code. With `kill`, SIGKILLs it mid-run (crash drills): a
 * number of ms after the first checkpoint appears in `dir`, or a delay after `dir`/steps.jsonl has reached a number of
 * lines — tied to training progress, so a fast machine cannot finish the run before the kill.
 */
export function runTrainCli(args: string[], kill?: KillAt, dir?: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath(), 'train', ...args], { stdio: 'ignore' });
    if (kill !== undefined) {
      const due = typeof kill === 'number'
        ? () => existsSync(join(dir!, 'checkpoint.safetensors'))
        : () => loggedLines(join(dir!, 'steps.jsonl')) >= kill.lines;
      const poll = setInterval(() => {
        if (due()) {
          clearInterval(poll);
          setTimeout(() => child.kill('SIGKILL'), typeof kill === 'number' ? kill : kill.delayMs);
        }
      }, 5);
      child.on('exit', () => clearInterval(poll));
    }
    child.on('exit', (code) => resolve(code));
  });
}

/** The non-empty lines of a run's steps.jsonl (0 while it does not exist or is still empty). */
export function loggedLines(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
}
