import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DataError } from '../errors.js';
import type { ImageShape } from '../formats/image-file.js';
import type { Normalisation } from '../preprocess/normalisation.js';
import type { DecodeReply, DecodeRequest } from './decode-worker.js';
import type { BatchAugmentation } from '../augment/augmentation.js';

/** Default number of decode workers: one core is left to the training step, at most four. */
export function defaultDecodeWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

interface Pending {
  readonly resolve: (r: DecodeReply) => void;
  readonly reject: (e: Error) => void;
  readonly worker: Worker;
}

/**
 * Worker threads (node:worker_threads) that decode image files through sharp, off the main thread. A worker keeps
 * the process alive only while it has work (it is unref'd when idle), so a pool nobody closed never hangs an exit;
 * `close()` terminates them all and fails what is still pending.
 */
export class DecodePool {
  readonly size: number;
  readonly #workers: Worker[] = [];
  readonly #load = new Map<Worker, number>();
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #closed = false;

  constructor(workers = defaultDecodeWorkers()) {
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`DecodePool: expected a positive number of workers, found ${workers}`);
    this.size = workers;
    for (let k = 0; k < workers; k++) {
      // The worker is a module file: an --input-type flag of the parent (node -e) would make it refuse to start.
      const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
      const w = new Worker(new URL('./decode-worker.js', import.meta.url), { execArgv });
      w.unref();
      w.on('message', (r: DecodeReply) => this.#settle(w, r));
      // A worker that dies (out of memory, a native crash) fails its requests instead of leaving them hanging.
      w.on('error', (e) => this.#failWorker(w, e));
      w.on('exit', (code) => { if (!this.#closed) this.#failWorker(w, new Error(`decode worker exited with code ${code}`)); });
      this.#workers.push(w);
      this.#load.set(w, 0);
    }
  }

  #settle(w: Worker, r: DecodeReply): void {
    const p = this.#pending.get(r.id);
    if (!p) return;
    this.#pending.delete(r.id);
    this.#done(w);
    if (r.error !== undefined) p.reject(new DataError(r.error));
    else p.resolve(r);
  }

  #done(w: Worker): void {
    const load = (this.#load.get(w) ?? 1) - 1;
    this.#load.set(w, load);
    if (load === 0) w.unref();
  }

  #failWorker(w: Worker, e: Error): void {
    for (const [id, p] of this.#pending) {
      if (p.worker !== w) continue;
      this.#pending.delete(id);
      p.reject(new Error(`image decoding failed: ${e.message}`, { cause: e }));
    }
    this.#load.set(w, 0);
    const i = this.#workers.indexOf(w);
    if (i >= 0) this.#workers.splice(i, 1);
  }

  #request(req: Omit<DecodeRequest, 'id'>): Promise<DecodeReply> {
    if (this.#closed) return Promise.reject(new Error('DecodePool: closed'));
    if (this.#workers.length === 0) return Promise.reject(new Error('DecodePool: every decode worker has died'));
    // The least loaded worker takes the request.
    const w = this.#workers.reduce((a, b) => (this.#load.get(b)! < this.#load.get(a)! ? b : a));
    const id = this.#nextId++;
    this.#load.set(w, this.#load.get(w)! + 1);
    w.ref();
    return new Promise<DecodeReply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, worker: w });
      w.postMessage({ ...req, id } satisfies DecodeRequest);
    });
  }

  /**
   * The files decoded to n×C×H×W float32 in [0, 1], standardised with `normalisation` when given, then augmented
   * when `augment` is given (the files' positions in their split, and the epoch, key the draws).
   */
  async images(paths: readonly string[], shape: ImageShape, normalisation: Normalisation | null,
    augment: { readonly with: BatchAugmentation; readonly indices: Int32Array; readonly epoch: number } | null = null): Promise<Float32Array> {
    return (await this.#request({ paths, shape, normalisation, augment, output: 'images' })).images!;
  }

  /** The histogram of each channel of the files' uint8 pixels at `shape` (C×256 counts). */
  async histogram(paths: readonly string[], shape: ImageShape): Promise<Float64Array> {
    return (await this.#request({ paths, shape, normalisation: null, output: 'histogram' })).histogram!;
  }

  /** Terminates every worker; pending requests fail. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) p.reject(new Error('DecodePool: closed'));
    this.#pending.clear();
    await Promise.all(this.#workers.map((w) => w.terminate()));
    this.#workers.length = 0;
  }
}
