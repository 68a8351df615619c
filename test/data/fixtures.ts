import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { RawLoadOptions } from '../../src/data/builtin/raw.js';

/**
 * Shared test fixtures: temp directories removed after the file's tests, and
 * loader options that can never reach the network or the user's cache.
 */

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp directory, removed when the test file ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'batchcam-data-test-'));
  dirs.push(dir);
  return dir;
}

/** Options that use the installed copies and never download or read BATCHCAM_* from the real environment. */
export function offline(extra: RawLoadOptions = {}): RawLoadOptions {
  return { env: {}, cacheDir: join(tempDir(), 'cache'), download: false, ...extra };
}

/** Values measured with an independent reader (/usr/bin/python3 + numpy + gzip), not this library. */
export const REFERENCE = {
  mnist: {
    trainCounts: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    testCounts: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
    trainFirstLabels: [5, 0, 4, 1, 9, 2, 1, 3, 1, 4],
    testFirstLabels: [7, 2, 1, 0, 4, 1, 4, 9, 5, 9],
    // image 0: pixel sum, value at (14, 14), count of non-zero pixels, first non-zero flat index and value
    trainImage0: { sum: 27525, center: 240, nonzero: 166, firstNonzero: [152, 3] },
    testImage0: { sum: 18454, center: 0, nonzero: 116, firstNonzero: [202, 84] },
    trainMean: 0.1306604762738429,
    trainStd: 0.3081078038564622,
  },
  'fashion-mnist': {
    trainCounts: new Array<number>(10).fill(6000),
    testCounts: new Array<number>(10).fill(1000),
    trainFirstLabels: [9, 0, 0, 3, 0, 2, 7, 2, 5, 5],
    testFirstLabels: [9, 2, 1, 1, 6, 1, 4, 6, 5, 7],
    trainImage0: { sum: 76247, center: 217, nonzero: 433, firstNonzero: [96, 1] },
    testImage0: { sum: 33456, center: 110, nonzero: 267, firstNonzero: [215, 3] },
    trainMean: 0.2860405969887955,
    trainStd: 0.35302424451492237,
  },
} as const;
