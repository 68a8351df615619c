import { DataLoader, type ArrayDataset, type LoaderOptions } from '../batching/data-loader.js';
import { memoryBatchStream, type BatchStream } from '../batching/batch-stream.js';
import { StreamedLoader, type StreamOptions } from './streamed-loader.js';
import type { StreamedSplit } from './streamed-split.js';

/**
 * The batches of a training split: a {@link StreamedSplit} through a StreamedLoader (worker threads), a split in
 * memory through a DataLoader.
 */
export function openBatchStream(split: ArrayDataset | StreamedSplit, o: LoaderOptions & StreamOptions): BatchStream {
  return 'streamed' in split ? new StreamedLoader(split, o) : memoryBatchStream(new DataLoader(split, o));
}
