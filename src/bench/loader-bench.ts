import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { backward, crossEntropy, fromArray, manualSeed, randint, randn, scope, setNumThreads } from '../torch/index.js';
import { AdamW } from '../nn/adamw.js';
import { createModel } from '../models/registry.js';
import { loadTrainingData } from '../data/load-dataset.js';
import { defaultDecodeWorkers } from '../data/streaming/decode-pool.js';
import { StreamedLoader } from '../data/streaming/streamed-loader.js';
import type { StreamedDataset } from '../data/streaming/streamed-split.js';
import type { Augmentation } from '../data/augment/augmentation.js';
import { median } from './timing.js';

/** Options of {@link benchLoader}. */
export interface LoaderBenchOptions {
  /** PNGs in the generated folder (split over 10 classes). */
  readonly images: number;
  /** Side of the square RGB images. */
  readonly size: number;
  /** File format of the generated folder (default png). */
  readonly format?: 'png' | 'jpeg';
  /** Augmentation applied by the decode workers as training applies it (default none). */
  readonly augmentation?: Augmentation | null;
  /** The model whose training step the loader is compared with (default resnet18, the 28-px layout). */
  readonly model?: string;
  readonly batch: number;
  /** Decode worker threads (default: the loader's default). */
  readonly workers?: number;
  /** libtorch threads of the training step. */
  readonly threads: number;
  /** Timed passes over the folder / timed training steps. */
  readonly rounds: number;
  readonly log: (line: string) => void;
}

/** What {@link benchLoader} measured (images per second, medians over rounds). */
export interface LoaderBenchResult {
  readonly images: number;
  readonly size: number;
  readonly format: 'png' | 'jpeg';
  readonly augmented: boolean;
  readonly model: string;
  readonly batch: number;
  readonly workers: number;
  /** The streamed loader alone: PNG files to float batches. */
  readonly loaderImagesPerSecond: number;
  /** The model's training step (CE + AdamW) on a fixed batch of 3×size×size inputs. */
  readonly stepImagesPerSecond: number;
  /** The same step fed by the streamed loader (decoding overlapping the steps). */
  readonly fedStepImagesPerSecond: number;
  /** loaderImagesPerSecond / stepImagesPerSecond (target ≥ 3). */
  readonly loaderOverStep: number;
}

/**
 * A folder of `n` RGB PNGs (or JPEGs, quality 90) of side `size`: smooth colour fields with a bright shape and pixel
 * noise, which compress like photographs' small crops rather than like flat colour (so decoding is not flattered).
 */
async function writeImageFolder(root: string, n: number, size: number, format: 'png' | 'jpeg'): Promise<void> {
  let s = 12345;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / 16777216;
  for (let i = 0; i < n; i++) {
    const dir = join(root, `class${i % 10}`);
    mkdirSync(dir, { recursive: true });
    const px = new Uint8Array(size * size * 3);
    const [a, b, c] = [rnd(), rnd(), rnd()];
    const cx = size * rnd();
    const cy = size * rnd();
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inShape = (x - cx) ** 2 + (y - cy) ** 2 < (size / 5) ** 2;
        for (let k = 0; k < 3; k++) {
          const base = inShape ? 220 : 255 * (k === 0 ? a * x / size : k === 1 ? b * y / size : c);
          px[(y * size + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(base + 24 * (rnd() - 0.5))));
        }
      }
    }
    const image = sharp(px, { raw: { width: size, height: size, channels: 3 } });
    const bytes = format === 'png' ? await image.png().toBuffer() : await image.jpeg({ quality: 90 }).toBuffer();
    writeFileSync(join(dir, `${String(i).padStart(6, '0')}.${format === 'png' ? 'png' : 'jpg'}`), bytes);
  }
}

/**
 * `batchcam bench --modes loader`: the streamed loader's images/s on a generated folder of RGB PNGs beside
 * ResNet18's training step at that input size (issue 13's target: the loader at least 3× the step, so loading never
 * stalls training), and the step fed by the loader.
 */
export async function benchLoader(o: LoaderBenchOptions): Promise<LoaderBenchResult> {
  const root = mkdtempSync(join(tmpdir(), 'batchcam-loader-bench-'));
  const workers = o.workers ?? defaultDecodeWorkers();
  let loader: StreamedLoader | null = null;
  try {
    const format = o.format ?? 'png';
    o.log(`# loader: writing ${o.images} RGB ${format.toUpperCase()}s of ${o.size}×${o.size} to ${root}`);
    await writeImageFolder(root, o.images, o.size, format);
    const data = await loadTrainingData(`folder:${root}`, { stream: 'on', testFraction: 0.01 }) as StreamedDataset;
    const augment = o.augmentation ? { augmentation: o.augmentation, seed: 0, normalisation: data.normalisation ?? null } : null;
    loader = new StreamedLoader(data.train, { batchSize: o.batch, shuffle: true, seed: 0, workers, augment });
    const l = loader;
    const pass = async (epoch: number): Promise<number> => {
      const t0 = performance.now();
      let n = 0;
      for await (const b of l.batches(epoch)) n += b.size;
      return n / ((performance.now() - t0) / 1000);
    };
    await pass(0); // warm-up: workers start, files enter the page cache
    const loaderRates: number[] = [];
    for (let r = 0; r < o.rounds; r++) loaderRates.push(await pass(r + 1));

    setNumThreads(o.threads);
    manualSeed(0);
    const modelName = o.model ?? 'resnet18';
    const model = createModel(modelName, 10, { inputShape: [3, o.size, o.size] });
    const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0 });
    model.train();
    const step = (x: Float32Array | null, y: BigInt64Array | null, size: number): void => scope(() => {
      opt.zeroGrad();
      const xt = x ? fromArray(x, [size, 3, o.size, o.size]) : randn([size, 3, o.size, o.size]);
      const yt = y ? fromArray(y, [size]) : randint(0, 10, [size]);
      backward(crossEntropy(model.forward(xt), yt));
      opt.step();
    });
    const steps = Math.max(4, 2 * o.rounds);
    for (let i = 0; i < 2; i++) step(null, null, o.batch);
    const stepTimes: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      step(null, null, o.batch);
      stepTimes.push((performance.now() - t0) / 1000);
    }
    // The same step on the loader's batches, as the trainer takes them (decoding overlaps the steps).
    const fedTimes: number[] = [];
    let t0 = performance.now();
    let k = 0;
    for await (const b of l.batches(o.rounds + 1)) {
      step(b.x, b.y, b.size);
      const now = performance.now();
      if (k++ > 0 && b.size === o.batch) fedTimes.push((now - t0) / 1000);
      t0 = now;
      if (fedTimes.length >= steps) break;
    }
    model.dispose();
    const loaderImagesPerSecond = median(loaderRates);
    const stepImagesPerSecond = o.batch / median(stepTimes);
    const fedStepImagesPerSecond = o.batch / median(fedTimes);
    return {
      images: o.images, size: o.size, format, augmented: augment !== null, model: modelName, batch: o.batch, workers, loaderImagesPerSecond, stepImagesPerSecond, fedStepImagesPerSecond,
      loaderOverStep: loaderImagesPerSecond / stepImagesPerSecond,
    };
  } finally {
    await loader?.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/** The lines `batchcam bench` prints for the loader. */
export function formatLoaderBench(r: LoaderBenchResult): string {
  return [
    `loader  ${r.size}×${r.size} RGB ${r.format.toUpperCase()}${r.augmented ? ' + augmentation' : ''}, ${r.workers} worker(s), batch ${r.batch}: ${r.loaderImagesPerSecond.toFixed(0)} img/s`,
    `${r.model} train step at 3×${r.size}×${r.size}: ${r.stepImagesPerSecond.toFixed(1)} img/s on a fixed batch, ` +
      `${r.fedStepImagesPerSecond.toFixed(1)} img/s fed by the loader`,
    `# loader / step: ${r.loaderOverStep.toFixed(1)}x (target ≥ 3x)`,
  ].join('\n');
}
