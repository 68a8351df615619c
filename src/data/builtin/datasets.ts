import { FASHION_MNIST_CLASS_NAMES, MNIST_CLASS_NAMES } from './class-names.js';
import { DataError } from '../errors.js';
import type { BaseDatasetName, DatasetInfo, DatasetName, Split } from '../dataset-info.js';

/** One of the four IDX files of a dataset. */
export type DataFileKind = 'train-images' | 'train-labels' | 'test-images' | 'test-labels';

const base = {
  numClasses: 10,
  imageShape: [1, 28, 28] as const,
  trainSize: 60000,
  testSize: 10000,
};

/** The registry of datasets, by name. */
export const DATASETS: Readonly<Record<'mnist' | 'fashion-mnist' | 'decoy-mnist' | 'decoy-fashion-mnist' | 'color-mnist', DatasetInfo & { name: DatasetName; base: BaseDatasetName }>> = {
  mnist: {
    ...base,
    name: 'mnist',
    base: 'mnist',
    decoy: false,
    title: 'MNIST',
    classNames: MNIST_CLASS_NAMES,
    downloadBase: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
  },
  'fashion-mnist': {
    ...base,
    name: 'fashion-mnist',
    base: 'fashion-mnist',
    decoy: false,
    title: 'Fashion-MNIST',
    classNames: FASHION_MNIST_CLASS_NAMES,
    downloadBase: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  },
  'decoy-mnist': {
    ...base,
    name: 'decoy-mnist',
    base: 'mnist',
    decoy: true,
    bias: { region: 'patch' },
    title: 'DecoyMNIST',
    classNames: MNIST_CLASS_NAMES,
    downloadBase: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
  },
  'decoy-fashion-mnist': {
    ...base,
    name: 'decoy-fashion-mnist',
    base: 'fashion-mnist',
    decoy: true,
    bias: { region: 'patch' },
    title: 'DecoyFMNIST',
    classNames: FASHION_MNIST_CLASS_NAMES,
    downloadBase: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  },
  'color-mnist': {
    ...base,
    imageShape: [3, 28, 28] as const,
    name: 'color-mnist',
    base: 'mnist',
    decoy: false,
    bias: { region: 'object' },
    title: 'ColorMNIST',
    classNames: MNIST_CLASS_NAMES,
    downloadBase: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
  },
};

/** All fixed dataset names, in registry order (Biased-MNIST's take a ρ: {@link BIASED_DATASET_SYNTAX}). */
export const DATASET_NAMES: readonly DatasetName[] = Object.keys(DATASETS) as DatasetName[];

/** How Biased-MNIST is named, with its training split's ρ. */
export const BIASED_DATASET_SYNTAX = 'biased-mnist:RHO, biased-fashion-mnist:RHO (0 < RHO ≤ 1, e.g. 0.997)';

const BIASED = /^biased-(mnist|fashion-mnist):(.*)$/;

/** Biased-MNIST / Biased-FMNIST at the ρ `name` gives, or null when `name` is not one (or its ρ is not in (0, 1]). */
function biasedInfo(name: string): (DatasetInfo & { name: DatasetName; base: BaseDatasetName }) | null {
  const m = BIASED.exec(name);
  if (!m || !/^(0(\.\d+)?|1(\.0*)?|\.\d+)$/.test(m[2]!)) return null;
  const rho = Number(m[2]);
  if (!(rho > 0 && rho <= 1)) return null;
  const base = m[1] as BaseDatasetName;
  const plain = DATASETS[base];
  return {
    ...plain,
    imageShape: [3, 28, 28],
    // One spelling per ρ (0.990 and 0.99 are one dataset), so configs and experiment directories agree.
    name: `biased-${base}:${rho}`,
    decoy: false,
    bias: { region: 'background', rho },
    title: `Biased-${plain.title === 'MNIST' ? 'MNIST' : 'FMNIST'} (ρ = ${rho})`,
  };
}

/** True when `name` is a built-in dataset (a registered name or a Biased-MNIST name with a valid ρ). */
export function isDatasetName(name: string): name is DatasetName {
  return Object.prototype.hasOwnProperty.call(DATASETS, name) || biasedInfo(name) !== null;
}

/** Looks a dataset up by name; unknown names get a message listing the valid ones. */
export function datasetInfo(name: string): DatasetInfo & { name: DatasetName; base: BaseDatasetName } {
  if (Object.prototype.hasOwnProperty.call(DATASETS, name)) return DATASETS[name as keyof typeof DATASETS];
  const biased = biasedInfo(name);
  if (biased) return biased;
  throw new DataError(`unknown dataset "${name}": expected one of ${DATASET_NAMES.join(', ')}, ${BIASED_DATASET_SYNTAX}`);
}

/** The standard (uncompressed) file name of each IDX file; a `.gz` suffix is also accepted. */
export const FILE_NAMES: Readonly<Record<DataFileKind, string>> = {
  'train-images': 'train-images-idx3-ubyte',
  'train-labels': 'train-labels-idx1-ubyte',
  'test-images': 't10k-images-idx3-ubyte',
  'test-labels': 't10k-labels-idx1-ubyte',
};

/** The image and label file kinds of a split. */
export function splitFiles(split: Split): { images: DataFileKind; labels: DataFileKind } {
  return split === 'train'
    ? { images: 'train-images', labels: 'train-labels' }
    : { images: 'test-images', labels: 'test-labels' };
}
