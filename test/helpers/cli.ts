import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled CLI entry (dist/src/cli/main.js). */
export function cliPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
}

/**
 * Runs `batchcam train ARGS` and resolves with its exit code. With `killAfterMs`, SIGKILLs it that long after the
 * first checkpoint appears in `dir`, i.e. mid-run at a step that depends on the delay (crash drills).
 */
export function runTrainCli(args: string[], killAfterMs?: number, dir?: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath(), 'train', ...args], { stdio: 'ignore' });
    if (killAfterMs !== undefined) {
      const poll = setInterval(() => {
        if (existsSync(join(dir!, 'checkpoint.safetensors'))) {
          clearInterval(poll);
          setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
      }, 20);
      child.on('exit', () => clearInterval(poll));
    }
    child.on('exit', (code) => resolve(code));
  });
}
