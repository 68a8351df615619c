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
export const DATASETS: Readonly<Record<DatasetName, DatasetInfo & { name: DatasetName; base: BaseDatasetName }>> = {
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
    title: 'DecoyMNIST',
    classNames: MNIST_CLASS_NAMES,
    downloadBase: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
  },
  'decoy-fashion-mnist': {
    ...base,
    name: 'decoy-fashion-mnist',
    base: 'fashion-mnist',
    decoy: true,
    title: 'DecoyFMNIST',
    classNames: FASHION_MNIST_CLASS_NAMES,
    downloadBase: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  },
};

/** All dataset names, in registry order. */
export const DATASET_NAMES: readonly DatasetName[] = Object.keys(DATASETS) as DatasetName[];

/** True when `name` is a registered dataset. */
export function isDatasetName(name: string): name is DatasetName {
  return Object.prototype.hasOwnProperty.call(DATASETS, name);
}

/** Looks a dataset up by name; unknown names get a message listing the valid ones. */
export function datasetInfo(name: string): DatasetInfo & { name: DatasetName; base: BaseDatasetName } {
  if (!isDatasetName(name)) {
    throw new DataError(`unknown dataset "${name}": expected one of ${DATASET_NAMES.join(', ')}`);
  }
  return DATASETS[name];
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
