import { resolve } from 'node:path';
import { BIASED_DATASET_SYNTAX, DATASET_NAMES, datasetInfo, isDatasetName } from './builtin/datasets.js';
import type { DatasetName } from './dataset-info.js';

/**
 * What `--dataset` names: a built-in set (checksummed files; Biased-MNIST with its ρ), an image folder in torchvision's
 * ImageFolder layout (`folder:DIR`), or the four IDX files of any MNIST-format set (`idx:DIR`, not checksummed).
 */
export type DatasetSpec =
  | { readonly kind: 'builtin'; readonly name: DatasetName }
  | { readonly kind: 'folder'; readonly dir: string }
  | { readonly kind: 'idx'; readonly dir: string };

/** The spec syntax, for messages and help. */
export const DATASET_SPEC_SYNTAX = `${DATASET_NAMES.join('|')}|biased-mnist:RHO|biased-fashion-mnist:RHO|folder:DIR|idx:DIR`;

/** Why `spec` is not a dataset spec, or null when it is one. */
export function datasetSpecProblem(spec: string): string | null {
  if (isDatasetName(spec)) return null;
  const m = /^(folder|idx):(.*)$/.exec(spec);
  if (m) return m[2]!.length > 0 ? null : `"${spec}" names no directory: write ${m[1]}:DIR`;
  if (/^biased-/.test(spec)) return `unknown dataset "${spec}": write ${BIASED_DATASET_SYNTAX}`;
  return `unknown dataset "${spec}": expected one of ${DATASET_NAMES.join(', ')}, ${BIASED_DATASET_SYNTAX}, folder:DIR (image folders, ` +
    'DIR/<class>/* or DIR/train/<class>/* and DIR/test/<class>/*) or idx:DIR (the four IDX files of an MNIST-format set)';
}

/** Parses a spec already checked by {@link datasetSpecProblem}; a directory is made absolute against the cwd. */
export function parseDatasetSpec(spec: string): DatasetSpec {
  if (isDatasetName(spec)) return { kind: 'builtin', name: datasetInfo(spec).name };
  const m = /^(folder|idx):(.+)$/.exec(spec);
  if (!m) throw new RangeError(datasetSpecProblem(spec) ?? spec);
  return { kind: m[1] as 'folder' | 'idx', dir: resolve(m[2]!) };
}

/** The spec as written into a config: built-in names unchanged, directories absolute (a run must not depend on its cwd). */
export function canonicalDatasetSpec(spec: string): string {
  const s = parseDatasetSpec(spec);
  return s.kind === 'builtin' ? s.name : `${s.kind}:${s.dir}`;
}

/** `H` or `HxW` → [H, W], or null when `text` is neither (both at least 16). */
export function parseImageSize(text: string): [number, number] | null {
  const m = /^(\d+)(?:[x×](\d+))?$/.exec(text.trim());
  if (!m) return null;
  const h = Number(m[1]);
  const w = Number(m[2] ?? m[1]);
  return h >= 16 && w >= 16 && h <= 4096 && w <= 4096 ? [h, w] : null;
}
