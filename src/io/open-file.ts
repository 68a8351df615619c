import { closeSync, openSync } from 'node:fs';

/**
 * `read(fd)` on `path` opened for reading, closed afterwards whatever happens; `missing` when the file cannot be
 * opened (not there yet, or deleted meanwhile: files a running trainer writes and a watcher reads).
 */
export function withOpenFile<T>(path: string, missing: T, read: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return missing;
  }
  try {
    return read(fd);
  } finally {
    closeSync(fd);
  }
}
