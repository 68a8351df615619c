import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../io/atomic-file.js';
import { UsageError } from '../errors.js';
import { checkDevice } from '../torch/index.js';
import { KNOWN_MODES, formatBench, runBench } from '../bench/run-bench.js';
import { benchLoader, formatLoaderBench, type LoaderBenchResult } from '../bench/loader-bench.js';
import { IMAGENET_AUGMENTATION } from '../data/augment/augmentation.js';
import type { BenchMode } from '../bench/training-steps.js';
import { helpText, parseArgs, type FlagSpec } from './args.js';
import { benchDataParallel, formatDataParallel } from '../bench/data-parallel-bench.js';

// The idiomatic-PyTorch baseline kept in the repository (dist/src/cli/ → bench/torch_reference.py).
const here = dirname(fileURLToPath(import.meta.url));
const DEFAULT_REFERENCE = join(here, '..', '..', '..', 'bench', 'torch_reference.py');

const FLAGS: FlagSpec[] = [
  { flag: 'models', kind: 'string', def: 'simplecnn,resnet18,convnextv2-atto', help: 'comma-separated models (also resnet18-imagenet, resnet50-imagenet: torchvision\'s in the reference)' },
  { flag: 'image-size', kind: 'int', def: 224, help: 'side of the RGB inputs of the ImageNet-layout models (the others take 1×28×28)' },
  { flag: 'batch', kind: 'int', def: 64, help: 'batch size' },
  { flag: 'threads', kind: 'int', def: 2, help: 'libtorch threads (the reference gets the same)' },
  { flag: 'rounds', kind: 'int', def: 3, help: 'round-robin rounds (2 timed steps per mode per round)' },
  { flag: 'warmup', kind: 'int', def: 2, help: 'untimed steps per mode first' },
  { flag: 'modes', kind: 'string', def: 'all', help: `comma-separated modes to time, or all: ${KNOWN_MODES.join(',')}` },
  { flag: 'loop-steps', kind: 'int', def: 5, help: 'timed steps of the slow per-sample explain-loop mode' },
  { flag: 'reference-budget', kind: 'number', def: 20, help: 'seconds of timing per model for the PyTorch reference (soft)' },
  { flag: 'reference', kind: 'string', def: DEFAULT_REFERENCE, help: 'PyTorch reference script (torch_reference.py); "none" to skip' },
  { flag: 'reference-channels-last', kind: 'bool', def: false, help: 'the reference runs channels-last (model and inputs), as a PyTorch user tuning for CPU would, instead of NCHW' },
  { flag: 'python', kind: 'string', def: '/usr/bin/python3', help: 'Python with Debian\'s python3-torch' },
  { flag: 'peak-gflops', kind: 'number', def: null, help: 'this CPU\'s fp32 peak for the efficiency line (default: estimated)' },
  { flag: 'loader-images', kind: 'int', def: 2048, help: 'loader mode: RGB images in the generated folder' },
  { flag: 'loader-size', kind: 'int', def: 64, help: 'loader mode: side of the images (and of the --loader-model input they are compared with)' },
  { flag: 'loader-format', kind: 'string', def: 'png', help: 'loader mode: png or jpeg (quality 90) files' },
  { flag: 'loader-augment', kind: 'bool', def: false, help: 'loader mode: the workers apply torchvision\'s ImageNet augmentation (RandomResizedCrop, flip) as train --augment does' },
  { flag: 'loader-model', kind: 'string', def: 'resnet18', help: 'loader mode: the model whose training step the loader is compared with (resnet18-imagenet at ImageNet sizes)' },
  { flag: 'loader-workers', kind: 'int', def: null, help: 'loader mode: decode worker threads (default: one per core but one, at most 4)' },
  { flag: 'json', kind: 'string', def: 'bench.json', help: 'where to write the results' },
  { flag: 'device', kind: 'string', def: 'cpu', help: 'cpu or cuda[:N] (a CUDA libtorch; the reference runs there too)' },
  { flag: 'dp-steps', kind: 'int', def: 20, help: 'timed steps of the data-parallel line (2 processes × 1 thread vs 1 process × 2 threads; 0 = skip)' },
  { flag: 'dp-only', kind: 'bool', def: false, help: 'only the data-parallel line' },
];

export async function benchCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help')) {
    console.log(helpText('Usage: batchcam bench [options]\n\nTraining-step, inference and explanation throughput of batchcam beside PyTorch (same machine, same run), as ratios.', FLAGS, false));
    return;
  }
  const { flags } = parseArgs(argv, FLAGS, false);
  checkDevice(String(flags.device));
  const ref = String(flags.reference);
  const modeList = String(flags.modes) === 'all' ? null : String(flags.modes).split(',');
  const unknown = (modeList ?? []).filter((m) => !(KNOWN_MODES as readonly string[]).includes(m));
  if (unknown.length) throw new UsageError(`--modes: unknown mode(s) ${unknown.join(', ')}; expected some of ${KNOWN_MODES.join(',')} or all`);
  const stepModes = modeList === null ? null : modeList.filter((m) => m !== 'loader');
  const withLoader = modeList === null || modeList.includes('loader');
  const dpSteps = Number(flags['dp-steps']);
  const dp = dpSteps > 0 ? await benchDataParallel({ steps: dpSteps, batch: Number(flags.batch), cores: Number(flags.threads) }) : null;
  const dpLine = dp ? formatDataParallel(dp, Number(flags.batch)) : null;
  if (flags['dp-only'] === true) {
    if (!dpLine) throw new UsageError('--dp-only needs --dp-steps > 0');
    console.log(dpLine);
    writeFileAtomic(String(flags.json), Buffer.from(JSON.stringify({ dataParallel: dp }, null, 2) + '\n'));
    return;
  }
  const { rows, info } = stepModes !== null && stepModes.length === 0 ? { rows: [], info: {} } : runBench({
    models: String(flags.models).split(','), batch: Number(flags.batch), threads: Number(flags.threads),
    rounds: Number(flags.rounds), warmup: Number(flags.warmup), modes: stepModes as BenchMode[] | null,
    loopSteps: Number(flags['loop-steps']), referenceBudget: Number(flags['reference-budget']), reference: ref === 'none' ? null : ref,
    referenceChannelsLast: flags['reference-channels-last'] === true,
    python: String(flags.python), device: String(flags.device), imageSize: imageSize(flags['image-size']), peakGflops: typeof flags['peak-gflops'] === 'number' ? flags['peak-gflops'] : null,
    log: (l) => console.log(l),
  });
  if (rows.length) console.log(formatBench(rows, info));
  let loader: LoaderBenchResult | null = null;
  if (withLoader) {
    const size = Number(flags['loader-size']);
    if (!(size >= 16 && size <= 1024)) throw new UsageError(`--loader-size: got ${size}, expected 16…1024`);
    const format = String(flags['loader-format']);
    if (format !== 'png' && format !== 'jpeg') throw new UsageError(`--loader-format: got '${format}', expected png or jpeg`);
    loader = await benchLoader({
      images: Number(flags['loader-images']), size, batch: Number(flags.batch), threads: Number(flags.threads),
      rounds: Math.max(2, Number(flags.rounds)), log: (l) => console.log(l), format, model: String(flags['loader-model']),
      augmentation: flags['loader-augment'] === true ? IMAGENET_AUGMENTATION : null,
      ...(typeof flags['loader-workers'] === 'number' ? { workers: flags['loader-workers'] } : {}),
    });
    console.log(formatLoaderBench(loader));
  }
  if (dpLine) console.log(dpLine);
  writeFileAtomic(String(flags.json), Buffer.from(JSON.stringify({ info, rows, ...(loader ? { loader } : {}), dataParallel: dp }, null, 2) + '\n'));
  console.log(`# results written to ${String(flags.json)}`);
}

/** --image-size, checked: the ImageNet layouts need ≥ 64 px for a CAM with spatial extent at their last stage. */
function imageSize(v: unknown): number {
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 64 && n <= 1024)) throw new UsageError(`--image-size: got ${String(v)}, expected an integer in 64…1024`);
  return n;
}
