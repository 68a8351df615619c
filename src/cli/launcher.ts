import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { EXIT_CODES } from '../errors.js';

/** Set in each worker to the launcher's pid: a worker whose launcher is gone stops (see `exitWithLauncher`). */
export const LAUNCHER_PID_ENV = 'BATCHCAM_LAUNCHER_PID';

/** A free TCP port on 127.0.0.1 for rank 0's store (torchrun --standalone picks one the same way). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `batchcam train --nproc-per-node N …`: torchrun --standalone for batchcam. Starts N local workers running
 * `batchcam train …` with RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and a free
 * MASTER_PORT; forwards SIGINT/SIGTERM to them once (each worker is its own process group, so a terminal's Ctrl-C
 * reaches them only through here, and only once); and resolves with the job's exit code: 0 when all finish, else
 * the first failure's (naming its rank), after giving the others `graceSeconds` (default 15) to notice and stop.
 */
export async function launchWorkers(n: number, trainArgs: readonly string[], o: { graceSeconds?: number; log?: (l: string) => void } = {}): Promise<number> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const port = await freePort();
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const workers: { rank: number; child: ChildProcess; done: boolean }[] = [];
  for (let rank = 0; rank < n; rank++) {
    const child = spawn(process.execPath, [main, 'train', ...trainArgs], {
      stdio: 'inherit', detached: true,
      env: {
        ...process.env, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(n), LOCAL_WORLD_SIZE: String(n),
        MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), [LAUNCHER_PID_ENV]: String(process.pid),
      },
    });
    workers.push({ rank, child, done: false });
  }
  log(`batchcam: started ${n} workers on 127.0.0.1:${port} (${workers.map((w) => `rank ${w.rank} pid ${w.child.pid}`).join(', ')})`);
  const forward = (sig: NodeJS.Signals): void => {
    for (const w of workers) if (!w.done) w.child.kill(sig);
  };
  const onInt = (): void => forward('SIGINT');
  const onTerm = (): void => forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await new Promise<number>((resolve) => {
      let failure: number | null = null;
      let killTimer: NodeJS.Timeout | null = null;
      let left = n;
      for (const w of workers) {
        w.child.on('exit', (code, signal) => {
          w.done = true;
          left--;
          const ok = code === 0;
          if (!ok && failure === null) {
            const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
            failure = code === EXIT_CODES.interrupted ? EXIT_CODES.interrupted : code && code > 0 ? code : EXIT_CODES.peer;
            log(`batchcam: worker rank ${w.rank} (pid ${w.child.pid}) ${how}` + (left > 0 ? '; waiting for the other workers to stop' : ''));
            // The others fail on their own as soon as a collective reaches the dead peer; one still blocked (e.g. in the
            // rendezvous, which rank 0 never joined) is killed after the grace period.
            const grace = o.graceSeconds ?? 15;
            killTimer = setTimeout(() => {
              for (const x of workers) {
                if (x.done) continue;
                log(`batchcam: worker rank ${x.rank} (pid ${x.child.pid}) did not stop within ${grace} s; killing it`);
                x.child.kill('SIGKILL');
              }
            }, grace * 1000);
            killTimer.unref();
          }
          if (left === 0) {
            if (killTimer) clearTimeout(killTimer);
            resolve(failure ?? EXIT_CODES.ok);
          }
        });
      }
    });
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

/**
 * In a worker started by `launchWorkers`: exits (code 7) once the launcher is gone (e.g. killed with SIGKILL), so no
 * orphaned worker trains on. Checked once a second while the event loop turns (every training step yields to it).
 */
export function exitWithLauncher(): void {
  const pid = Number(process.env[LAUNCHER_PID_ENV]);
  if (!pid) return;
  const timer = setInterval(() => {
    if (process.ppid !== pid) {
      process.stderr.write(`batchcam: rank ${process.env.RANK ?? '?'}: the launcher (pid ${pid}) is gone; stopping\n`);
      process.exit(EXIT_CODES.peer);
    }
  }, 1000);
  timer.unref();
}
