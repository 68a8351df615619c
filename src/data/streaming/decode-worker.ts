import { parentPort } from 'node:worker_threads';
import { decodeImage, mapLimit, type ImageShape } from '../formats/image-file.js';
import { augmentBatch, type BatchAugmentation } from '../augment/augmentation.js';
import { channelHistograms, standardiseInPlace, toUnitFloat, type Normalisation } from '../preprocess/normalisation.js';

/**
 * A decode worker of {@link DecodePool}: decodes a batch of image files through sharp and hands back the batch as
 * the in-memory path would hold it (uint8 C×H×W → [0, 1] → optionally standardised, the very same functions), or
 * the histogram of its uint8 pixels (for the training statistics). Touches no libtorch.
 */

/** A request: which files, at which size, into what. */
export interface DecodeRequest {
  readonly id: number;
  readonly paths: readonly string[];
  readonly shape: ImageShape;
  readonly normalisation: Normalisation | null;
  /** Augment the decoded images as the in-memory loader does (the files' positions in the split, and the epoch). */
  readonly augment?: { readonly with: BatchAugmentation; readonly indices: Int32Array; readonly epoch: number } | null;
  /** 'images': n×C×H×W float32; 'histogram': 256 counts of each channel's uint8 pixels. */
  readonly output: 'images' | 'histogram';
}

/** The answer to one request: exactly one of `images`, `histogram`, `error`. */
export interface DecodeReply {
  readonly id: number;
  readonly images?: Float32Array;
  readonly histogram?: Float64Array;
  /** The DataError message, which names the file. */
  readonly error?: string;
}

// Images of one batch decoded at once; sharp runs each on libuv's thread pool.
const IN_FLIGHT = 4;

async function handle(req: DecodeRequest): Promise<DecodeReply> {
  const size = req.shape[0] * req.shape[1] * req.shape[2];
  const pixels = new Uint8Array(req.paths.length * size);
  await mapLimit(req.paths, IN_FLIGHT, async (path, i) => { pixels.set(await decodeImage(path, req.shape), i * size); });
  if (req.output === 'histogram') {
    return { id: req.id, histogram: channelHistograms(pixels, req.shape[0], req.shape[1] * req.shape[2]) };
  }
  const images = toUnitFloat(pixels);
  if (req.normalisation) standardiseInPlace(images, req.normalisation, req.shape[1] * req.shape[2]);
  if (req.augment) augmentBatch(images, req.shape, req.augment.indices, req.augment.epoch, req.augment.with);
  return { id: req.id, images };
}

const port = parentPort;
if (port) {
  port.on('message', (req: DecodeRequest) => {
    handle(req).then(
      (reply) => port.postMessage(reply, [(reply.images ?? reply.histogram)!.buffer as ArrayBuffer]),
      (e: unknown) => port.postMessage({ id: req.id, error: (e as Error).message } satisfies DecodeReply),
    );
  });
}
