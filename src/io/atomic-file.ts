import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { WriteError, type WriteStage } from '../errors.js';

/**
 * Atomic file writes for every floor (checkpoints, run files, reports, the data cache). Floor-less like
 * src/errors.ts: it imports only node and that module.
 */

/** The name of the temp file beside `path` that a write of this process goes through. */
function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Temp files of atomic writes: `<name>.tmp-<pid>-<12 hex>`; group 1 is the writer's pid. */
export const TEMP_FILE_PATTERN = /\.tmp-(\d+)-[0-9a-f]{12}$/;

interface InjectedFailure {
  pattern: RegExp;
  stage: WriteStage;
  code: string;
}

const injected: InjectedFailure[] = [];

/**
 * Test hook: the next atomic write to a path matching `pattern` fails at `stage` with a system error `code`
 * (default ENOSPC, "no space left on device"), exactly as a real failure there would: the temp file is removed
 * and the file already at the path is left as it was. Each call arms one failure; returns a function that
 * disarms it if it has not fired. For tests only (a process never arms one by itself).
 */
export function failNextWrite(pattern: RegExp | string, stage: WriteStage = 'write', code = 'ENOSPC'): () => void {
  const f: InjectedFailure = { pattern: typeof pattern === 'string' ? new RegExp(escapeRegExp(pattern)) : pattern, stage, code };
  injected.push(f);
  return () => {
    const i = injected.indexOf(f);
    if (i >= 0) injected.splice(i, 1);
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function armed(path: string, stage: WriteStage): boolean {
  return injected.some((f) => f.stage === stage && f.pattern.test(path));
}

/** Throws the armed failure for (path, stage), if any, disarming it. */
function maybeFail(path: string, stage: WriteStage): void {
  const i = injected.findIndex((f) => f.stage === stage && f.pattern.test(path));
  if (i < 0) return;
  const { code } = injected.splice(i, 1)[0]!;
  const messages: Record<string, string> = { ENOSPC: 'no space left on device', EIO: 'i/o error', EACCES: 'permission denied' };
  const e = new Error(`${code}: ${messages[code] ?? 'injected failure'}, ${stage} '${path}' (injected by failNextWrite)`) as NodeJS.ErrnoException;
  e.code = code;
  throw e;
}

/**
 * Writes `bytes` to `path` so that a crash, kill or failed write at any moment leaves either the old file or the
 * complete new one: a temp file in the same directory, fsynced, then renamed over `path` (and the directory fsynced,
 * where possible). A failure throws a WriteError naming `path` and the stage; the temp file is removed.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  let stage: WriteStage = 'open';
  const tmp = tempName(path);
  let fd: number | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    maybeFail(path, stage);
    fd = openSync(tmp, 'wx', 0o644);
    stage = 'write';
    // An injected disk-full strikes half-way, as a real one would: the temp file holds a torn copy.
    const half = armed(path, stage) ? bytes.length >> 1 : bytes.length;
    for (let at = 0; at < half;) at += writeSync(fd, bytes, at, half - at);
    maybeFail(path, stage);
    for (let at = half; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
    stage = 'fsync';
    maybeFail(path, stage);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    stage = 'rename';
    maybeFail(path, stage);
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) try { closeSync(fd); } catch { /* already failing */ }
    try { unlinkSync(tmp); } catch { /* may not exist */ }
    throw new WriteError(path, stage, e);
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* best effort: not possible on every platform, and the data is already safe */ }
}
