import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { RunLockedError, StorageError } from '../../errors.js';

/** The lock file of a run directory: the holder's pid and host, one per line. */
export const LOCK_FILE = '.batchcam.lock';

/** A lock file still without its pid is a holder starting up; only one older than this counts as abandoned. */
const UNWRITTEN_GRACE_MS = 10_000;

/** Lock files this process holds (two trainers in one process are refused like two processes). */
const held = new Set<string>();

/** Exclusive ownership of a run directory for one trainer; `release()` is idempotent. */
export interface RunLock {
  readonly path: string;
  release(): void;
}

/** Removes `dir` and its parents up to `top`, as long as they are empty. */
function removeEmptyUpTo(dir: string, top: string): void {
  for (let d = dir; ; d = dirname(d)) {
    try { rmdirSync(d); } catch { return; /* not empty: the run's files are there */ }
    if (d === top || dirname(d) === d) return;
  }
}

/**
 * Whether `pid` is a live process (EPERM: alive but another user's). A zombie (killed, not yet reaped: e.g. a
 * data-parallel worker whose launcher was killed too, in a container whose init does not reap) is not alive.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/PID/stat: "pid (comm) state …"; comm may hold spaces and parentheses, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): kill(pid, 0) is all there is
  }
}

interface Holder {
  pid: number | null;
  host: string | null;
}

function readHolder(path: string): Holder | 'gone' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
  const [pidLine, host] = text.split('\n');
  const pid = Number(pidLine);
  return { pid: Number.isInteger(pid) && pid > 0 ? pid : null, host: host || null };
}

/**
 * Why the lock at `path` still binds, or null when it is stale: its pid is not alive on this host, or it never
 * got a pid and is older than the grace period. A lock from another host cannot be checked and binds.
 */
function liveHolder(path: string, h: Holder): { pid: number | null; detail: string } | null {
  if (h.pid === null) {
    let age = 0;
    try { age = Date.now() - statSync(path).mtimeMs; } catch { return null; }
    return age < UNWRITTEN_GRACE_MS ? { pid: null, detail: ' (starting up)' } : null;
  }
  if (h.host !== null && h.host !== hostname()) return { pid: h.pid, detail: ` on host ${h.host}` };
  if (h.pid === process.pid) return held.has(path) ? { pid: h.pid, detail: ' (this process)' } : null;
  return processAlive(h.pid) ? { pid: h.pid, detail: '' } : null;
}

/**
 * Takes `dir`'s lock (creating `dir` and its parents if needed): an exclusive create ('wx') of the lock file holding this pid.
 * A stale lock — its process is gone, e.g. after a kill — is replaced; a live one throws RunLockedError naming
 * the holder's pid. `release()` removes the lock file (and the directories this call created, if still empty);
 * it also runs on process exit, so only a kill can leave a stale lock behind.
 */
export function acquireRunLock(dir: string): RunLock {
  const path = join(dir, LOCK_FILE);
  let created: string | undefined;
  try {
    // The first directory this call created (undefined if `dir` existed): release() removes what it added.
    created = mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new StorageError(`cannot create run directory ${dir}: ${(e as Error).message}`, { cause: e });
  }
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StorageError(`cannot create the lock file ${path}: ${(e as Error).message}`, { cause: e });
      }
      const h = readHolder(path);
      const live = h === 'gone' ? null : liveHolder(path, h);
      if (live || attempt >= 3) throw new RunLockedError(dir, live?.pid ?? (h === 'gone' ? null : h.pid), path, live?.detail ?? '');
      // Stale: its owner is gone. Remove it and try the exclusive create again.
      try { unlinkSync(path); } catch { /* another process got there first */ }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n${hostname()}\n`);
    } finally {
      closeSync(fd);
    }
    break;
  }
  held.add(path);
  const onExit = (): void => release();
  process.on('exit', onExit);
  let released = false;
  function release(): void {
    if (released) return;
    released = true;
    process.off('exit', onExit);
    held.delete(path);
    // Only our own lock: never one a later holder took over after deciding ours was stale.
    const h = readHolder(path);
    if (h !== 'gone' && h.pid === process.pid) try { unlinkSync(path); } catch { /* already gone */ }
    if (created !== undefined) removeEmptyUpTo(resolve(dir), resolve(created));
  }
  return { path, release };
}
