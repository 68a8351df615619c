/**
 * Data layer of batchcam: verified MNIST / Fashion-MNIST loading, DecoyMNIST, image folders and IDX sets,
 * preprocessing, seeded shuffling and batching (in memory, or streamed from disk by decode worker threads).
 */
export { DataError } from './errors.js';
export { parseIdx, readIdxFile, encodeIdx, decompressIfGzip, isGzip, type IdxData, type IdxDType, type IdxArray, type IdxExpectation } from './idx.js';
export { CHECKSUMS, sha256Hex, identifyChecksum, type FileChecksum } from './checksums.js';
export {
  DATASETS,
  DATASET_NAMES,
  FILE_NAMES,
  datasetInfo,
  isDatasetName,
  splitFiles,
  type BaseDatasetName,
  type DatasetName,
  type DatasetInfo,
  type DataFileKind,
  type Split,
} from './datasets.js';
export { MNIST_CLASS_NAMES, FASHION_MNIST_CLASS_NAMES } from './class-names.js';
export {
  dataLocations,
  findDataFile,
  cacheRoot,
  mnistDataPackageDir,
  installHint,
  DEBIAN_FASHION_MNIST_DIR,
  type SourceOptions,
  type DataLocation,
  type DataEnv,
} from './sources.js';
export { fetchDownloader, writeFileAtomic, type Downloader } from './download.js';
export { loadDataFile, loadRawSplit, type RawLoadOptions, type RawSplit, type LoadedFile } from './raw.js';
export { toUnitFloat, pixelStats, standardiseInPlace, labelsToInt64, classCounts, type Normalisation } from './preprocess.js';
export {
  addDecoy,
  decoyGrey,
  decoyLabelOfGrey,
  cornerOrigin,
  cornerMasks,
  writeCornerMask,
  CORNER_NAMES,
  DECOY_PATCH_SIZE,
  DECOY_GREY_STEP,
  type Corner,
  type DecoyInfo,
  type DecoyResult,
  type DecoyOptions,
} from './decoy.js';
export { Rng, type RngState } from './rng.js';
export { stratifiedIndices, type StratifiedOptions } from './stratified.js';
export { DataLoader, epochOrder, gatherRows, type ArrayDataset, type PlainBatch, type LoaderOptions } from './loader.js';
export { loadDataset, loadTrainingData, type LoadOptions, type TrainingLoadOptions, type LoadedDataset, type SplitData } from './load.js';
export { openBatchStream, memoryBatchStream, type BatchStream } from './batch-stream.js';
export { StreamedLoader, type StreamOptions } from './streamed-loader.js';
export { DecodePool, defaultDecodeWorkers } from './decode-pool.js';
export {
  STREAM_MODES, STREAM_AUTO_BYTES, inMemoryBytes, isStreamed, type StreamMode, type StreamedSplit, type StreamedDataset, type TrainingData,
} from './streamed-split.js';
export { toTensorBatch, tensorBatches, imagesToTensor, labelsToTensor, masksToTensor, type TensorBatch } from './batch.js';
