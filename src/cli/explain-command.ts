import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { checkDevice, setNumThreads } from '../torch/index.js';
import { loadDataset } from '../data/load-dataset.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { OptionError } from '../train/options.js';
import { explainImages, explanationStrip, modelInput, type ImageExplanation } from '../report/explain.js';
import { overlayRaster } from '../report/colormap.js';
import { tileImages } from '../report/image-grid.js';
import { loadTrainedModel } from '../train/trained-model.js';
import { encodePng } from '../report/png.js';
import { decodeImage } from '../data/formats/image-file.js';
import { DataError } from '../errors.js';
import { inputOptions, normalizeModeOf } from '../train/options.js';
import { parseArgs, helpText, type FlagSpec } from './args.js';

const FLAGS: FlagSpec[] = [
  { flag: 'checkpoint', kind: 'string', def: null, help: 'checkpoint.safetensors or model.safetensors of a run, or the run directory (required)' },
  { flag: 'indices', kind: 'string', def: null, help: 'images of the dataset split to explain: 0,5,17 or ranges 0-9' },
  { flag: 'image', kind: 'string', def: null, help: 'PNG, JPEG or WebP file(s) to explain instead (resized to the model input with a Lanczos filter); more files may follow' },
  { flag: 'split', kind: 'string', def: 'test', help: 'split --indices refer to: test or train' },
  { flag: 'target', kind: 'string', def: 'pred', help: 'class each CAM explains: pred or label (label needs --indices)' },
  { flag: 'layer', kind: 'string', def: null, help: 'CAM layer (default: the run\'s --cam-layer, else the model\'s default)' },
  { flag: 'out', kind: 'string', def: null, help: 'output directory (default <run directory>/explain)' },
  { flag: 'alpha', kind: 'number', def: 0.5, help: 'overlay opacity of the CAM colours, 0…1' },
  { flag: 'scale', kind: 'int', def: 4, help: 'nearest-neighbour upscaling of the figures' },
  { flag: 'device', kind: 'string', def: 'cpu', help: 'cpu or cuda[:N]: where the model and Batch-CAM run (CUDA needs a CUDA libtorch via LIBTORCH)' },
  { flag: 'invert', kind: 'bool', def: false, help: 'invert --image inputs (for dark strokes on a light background; the datasets have light on dark)' },
];

export const EXPLAIN_USAGE = 'Usage: batchcam explain --checkpoint PATH (--indices 0,5,17 | --image a.png [b.png …]) [options]\n\n' +
  'Writes, per image, a PNG of input | CAM | overlay (Batch-CAM of the trained model), a grid of overlays per class\n' +
  'when several images are explained, and explanations.json listing predictions and files.';

/** Parses "0,5,17" and ranges "10-19" into indices, in order, without duplicates. */
export function parseIndices(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new OptionError(`--indices: '${part}' is not an index or a range like 10-19`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a) throw new OptionError(`--indices: range '${part}' runs backwards`);
    if (b - a > 100_000) throw new OptionError(`--indices: range '${part}' is too long`);
    for (let i = a; i <= b; i++) if (!out.includes(i)) out.push(i);
  }
  if (out.length === 0) throw new OptionError('--indices: no indices given');
  return out;
}

/** One input to explain: how it looks (in [0,1]; C×H×W, grey or R, G, B planes) and where it came from. */
interface Item {
  name: string;
  source: string;
  grey: Float32Array;
  label: number | null;
  index: number | null;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '') || 'image';
}

/**
 * Reads an image file (PNG, JPEG or WebP, through sharp) at the model's input shape, resized with a Lanczos filter:
 * C×H×W values in [0,1]. A file it cannot use is named in the error.
 */
async function readInputImage(path: string, shape: readonly [number, number, number], invert: boolean): Promise<Float32Array> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new OptionError(`--image ${path}: no such file`);
  try {
    const px = await decodeImage(path, shape);
    const x = Float32Array.from(px, (p) => p / 255);
    if (invert) for (let i = 0; i < x.length; i++) x[i] = 1 - x[i]!;
    return x;
  } catch (e) {
    // A bad argument, not a bug: one line and exit 2.
    if (e instanceof DataError) throw new OptionError(`--image ${e.message}`);
    throw e;
  }
}

/** `batchcam explain`: Batch-CAM overlays of dataset images or PNG files for a trained model. */
export async function explainCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText(EXPLAIN_USAGE, FLAGS, false));
    return;
  }
  const { flags, positional } = parseArgs(argv, FLAGS, false);
  const checkpoint = flags.checkpoint as string | undefined;
  if (!checkpoint) throw new OptionError('--checkpoint is required (a run directory or its checkpoint.safetensors); see --help');
  const images = flags.image !== undefined ? [flags.image as string, ...positional] : [];
  if (flags.image === undefined && positional.length) {
    throw new OptionError(`unexpected argument '${positional[0]}'; PNG files go after --image`);
  }
  if ((flags.indices === undefined) === (images.length === 0)) throw new OptionError('give either --indices or --image (one of them)');
  const split = flags.split as string;
  if (split !== 'test' && split !== 'train') throw new OptionError(`--split: got '${split}', expected test or train`);
  const target = flags.target as string;
  if (target !== 'pred' && target !== 'label') throw new OptionError(`--target: got '${target}', expected pred or label`);
  if (target === 'label' && images.length) throw new OptionError('--target label needs --indices: PNG files carry no label');
  const alpha = flags.alpha as number;
  if (!(alpha >= 0 && alpha <= 1)) throw new OptionError(`--alpha: got ${alpha}, expected a number in [0, 1]`);
  const scale = flags.scale as number;
  if (scale < 1 || scale > 32) throw new OptionError(`--scale: got ${scale}, expected 1…32`);
  const indices = flags.indices !== undefined ? parseIndices(flags.indices as string) : null;
  const device = flags.device as string;
  checkDevice(device);

  const loaded = loadTrainedModel(checkpoint);
  const { model, config: cfg, classNames } = loaded;
  setNumThreads(cfg.threads);
  // The checkpoint loads on the CPU (it is device-independent) and moves in place.
  if (device !== 'cpu') model.toDevice(device);
  const layer = (flags.layer as string | undefined) ?? cfg.camLayer ?? model.defaultCamLayer;
  if (!model.camLayers.includes(layer)) {
    throw new OptionError(`--layer: model '${cfg.model}' has no layer '${layer}'; choose one of ${model.camLayers.join(', ')}`);
  }
  const [channels, height, width] = loaded.imageShape;
  const size = channels * height * width;
  const outDir = (flags.out as string | undefined) ?? join(dirname(loaded.path), 'explain');

  // The dataset is needed for --indices, and for --image only to standardise like training did when the
  // checkpoint predates the recorded normalisation.
  const needData = indices !== null || (normalizeModeOf(cfg) === 'dataset' && !loaded.normalisation);
  const data = needData
    ? await loadDataset(cfg.dataset, {
      dataDir: cfg.dataDir ?? undefined, ...inputOptions(cfg),
      // Only the chosen split is needed in full; the other is cut to a token subset (statistics use the full file).
      trainLimit: split === 'train' && indices ? undefined : 10, testLimit: split === 'test' && indices ? undefined : 10,
    })
    : null;
  const normalisation = loaded.normalisation ?? data?.normalisation ?? null;

  const items: Item[] = [];
  let x: Float32Array;
  if (indices) {
    const part = data![split];
    const bad = indices.filter((i) => i >= part.n);
    if (bad.length) throw new OptionError(`--indices: ${bad.join(', ')} out of range; the ${cfg.dataset} ${split} split has ${part.n} images (0…${part.n - 1})`);
    x = new Float32Array(indices.length * size);
    indices.forEach((idx, k) => {
      x.set(part.images.subarray(idx * size, (idx + 1) * size), k * size);
      const grey = Float32Array.from(part.pixels.subarray(idx * size, (idx + 1) * size), (p) => p / 255);
      items.push({ name: `${split}-${idx}`, source: `${cfg.dataset} ${split} #${idx}`, grey, label: part.classes[idx]!, index: idx });
    });
  } else {
    const used = new Set<string>();
    for (const path of images) {
      const grey = await readInputImage(path, loaded.imageShape, flags.invert === true);
      let name = safeName(basename(path, extname(path)));
      for (let k = 2; used.has(name); k++) name = `${safeName(basename(path, extname(path)))}-${k}`;
      used.add(name);
      items.push({ name, source: path, grey, label: null, index: null });
    }
    const grey = new Float32Array(items.length * size);
    items.forEach((it, k) => grey.set(it.grey, k * size));
    x = modelInput(grey, normalisation, height * width);
  }

  const labels = indices ? items.map((it) => it.label!) : null;
  const ex: ImageExplanation[] = explainImages(model, x, items.length, height, width, labels, { layer, target, norm: cfg.camNorm, channels });
  const name = (c: number): string => classNames[c] ?? String(c);
  const records = [];
  for (const [k, it] of items.entries()) {
    const e = ex[k]!;
    const file = `${it.name}.png`;
    writeFileAtomic(join(outDir, file), await encodePng(explanationStrip(it.grey, e.cam, width, height, { scale, alpha })));
    const p = e.probabilities[e.pred] ?? NaN;
    console.log(`${it.source}: ${it.label !== null ? `label ${name(it.label)}, ` : ''}predicted ${name(e.pred)} (p = ${p.toFixed(3)}); ` +
      `CAM of ${name(e.target)} → ${join(outDir, file)}`);
    records.push({ source: it.source, index: it.index, label: it.label, pred: e.pred, target: e.target, probabilities: e.probabilities.map((v) => Number(v.toFixed(6))), file });
  }

  // Several images: one overlay grid per class (by label for dataset images, by prediction for files).
  const grids: { class: number; file: string; items: number }[] = [];
  if (items.length > 1) {
    const byClass = new Map<number, number[]>();
    items.forEach((it, k) => {
      const c = it.label ?? ex[k]!.pred;
      byClass.set(c, [...(byClass.get(c) ?? []), k]);
    });
    for (const [c, ks] of [...byClass].sort((a, b) => a[0] - b[0])) {
      // The class name is added where it says more than the number (Fashion-MNIST), not for digits.
      const file = `grid-${indices ? split : 'images'}-class-${c}${name(c) === String(c) ? '' : `-${safeName(name(c))}`}.png`;
      const tiles = ks.map((k) => overlayRaster(items[k]!.grey, ex[k]!.cam, width, height, alpha));
      writeFileAtomic(join(outDir, file), await encodePng(tileImages(tiles, { columns: Math.min(8, tiles.length), scale, spacing: 2 })));
      grids.push({ class: c, file, items: ks.length });
      console.log(`class ${name(c)}: grid of ${ks.length} overlay(s) → ${join(outDir, file)}`);
    }
  }
  const summary = {
    checkpoint: loaded.path, model: cfg.model, dataset: cfg.dataset, split: indices ? split : null, layer, target, norm: cfg.camNorm,
    classNames, figure: 'input | CAM (jet, 0 blue … 1 red) | overlay', alpha, scale, items: records, grids,
  };
  writeFileAtomic(join(outDir, 'explanations.json'), Buffer.from(JSON.stringify(summary, null, 2) + '\n'));
  console.log(`explanations written to ${outDir}`);
  model.dispose();
}
