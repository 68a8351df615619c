import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Fetches a URL's bytes; injectable so tests (and offline machines) never touch the network. */
export type Downloader = (url: string) => Promise<Uint8Array>;

/** Per-request limit: the largest file is 26 MB, so two minutes means the network is not really there. */
const DOWNLOAD_TIMEOUT_MS = 120_000;

/** The default downloader: global `fetch`, failing on any non-2xx status. */
export const fetchDownloader: Downloader = async (url) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
};

/**
 * Writes `bytes` to `path` atomically: a temp file in the same directory,
 * then a rename, so an interrupted download never leaves a half file that a
 * later run would take for the real one.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.${process.pid}.partial`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
