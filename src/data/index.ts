/**
 * Data layer of batchcam: verified MNIST / Fashion-MNIST loading, DecoyMNIST, image folders and IDX sets,
 * preprocessing, seeded shuffling and batching (in memory, or streamed from disk by decode worker threads).
 *
 * Folders: `builtin/` (the checksummed MNIST / Fashion-MNIST files and their decoy variants), `formats/` (IDX files,
 * image files through sharp), `user/` (image folders and IDX sets of the user's own), `preprocess/` (scaling,
 * standardising, labels), `sampling/` (seeded RNG, stratified subsets, row gathering), `batching/` (the in-memory
 * loader, tensor batches, device batches), `streaming/` (decode worker threads and the streamed loader). At the top:
 * what a dataset is (`dataset-info.ts`, `dataset.ts`), how it is named (`dataset-spec.ts`) and loaded (`load-dataset.ts`).
 */
export { DataError } from './errors.js';
export { parseIdx, readIdxFile, encodeIdx, decompressIfGzip, isGzip, type IdxData, type IdxDType, type IdxArray, type IdxExpectation } from './formats/idx.js';
export { CHECKSUMS, sha256Hex, identifyChecksum, type FileChecksum } from './builtin/checksums.js';
export { DATASETS, DATASET_NAMES, FILE_NAMES, datasetInfo, isDatasetName, splitFiles, type DataFileKind } from './builtin/datasets.js';
export type { BaseDatasetName, DatasetName, DatasetInfo, Split } from './dataset-info.js';
export { MNIST_CLASS_NAMES, FASHION_MNIST_CLASS_NAMES } from './builtin/class-names.js';
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
} from './builtin/sources.js';
export { fetchDownloader, type Downloader } from './builtin/download.js';
export { loadDataFile, loadRawSplit, type RawLoadOptions, type RawSplit, type LoadedFile } from './builtin/raw.js';
export {
  toUnitFloat, pixelStats, standardiseInPlace, blackValues, imagenetNormalisation, IMAGENET_NORMALISATION, NORMALIZE_MODES,
  type Normalisation, type NormalizeMode,
} from './preprocess/normalisation.js';
export { labelsToInt64, classCounts } from './preprocess/labels.js';
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
} from './builtin/decoy.js';
export { Rng, type RngState } from './sampling/rng.js';
export { stratifiedIndices, type StratifiedOptions } from './sampling/stratified.js';
export { DataLoader, epochOrder, type ArrayDataset, type PlainBatch, type LoaderOptions } from './batching/data-loader.js';
export { parseDatasetSpec, canonicalDatasetSpec, DATASET_SPEC_SYNTAX, type DatasetSpec } from './dataset-spec.js';
export { loadDataset, loadTrainingData, type LoadOptions, type TrainingLoadOptions } from './load-dataset.js';
export type { LoadedDataset, SplitData } from './dataset.js';
export { memoryBatchStream, type BatchStream } from './batching/batch-stream.js';
export { openBatchStream } from './streaming/open-batch-stream.js';
export { StreamedLoader, type StreamOptions } from './streaming/streamed-loader.js';
export { DecodePool, defaultDecodeWorkers } from './streaming/decode-pool.js';
export {
  STREAM_MODES, STREAM_AUTO_BYTES, inMemoryBytes, isStreamed, type StreamMode, type StreamedSplit, type StreamedDataset, type TrainingData,
} from './streaming/streamed-split.js';
export { toTensorBatch, tensorBatches, imagesToTensor, labelsToTensor, masksToTensor, type TensorBatch } from './batching/tensor-batch.js';
