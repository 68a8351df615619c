/**
 * Memory soak (issue 7): N regularised ResNet18 training steps on a small real-MNIST slice, recording RSS and the
 * live-tensor count. After warm-up both must stay flat: RSS within ±5 %, live tensors constant.
 * Usage: node dist/src/bench/soak.js [--steps 5000] [--batch 8] [--model resnet18] [--json soak.json]
 */
import { writeFileSync } from 'node:fs';
import * as T from '../torch/index.js';
import { createModel } from '../models/registry.js';
import { AdamW } from '../nn/adamw.js';
import { loadDataset } from '../data/load-dataset.js';
import { DataLoader } from '../data/batching/data-loader.js';
import { toTensorBatch } from '../data/batching/tensor-batch.js';
import { PrototypeBank } from '../losses/prototype-bank.js';
import { resolveConfig } from '../train/options.js';
import { objective } from '../train/objective.js';

// Tuned as `batchcam train` runs (src/torch/allocator.ts), so the soak measures the RSS users get.
T.tuneAllocator();

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const steps = Number(arg('steps', '5000'));
const batch = Number(arg('batch', '8'));
const modelName = arg('model', 'resnet18');
const warmup = Math.min(200, Math.floor(steps / 10));

const data = await loadDataset('mnist', { trainLimit: 512, testLimit: 100 });
T.manualSeed(0);
const model = createModel(modelName);
const cfg = resolveConfig({ model: modelName, lambdaProto: 1, lambdaBatch: 1 });
const opt = new AdamW(model.parameters(), { lr: 1e-3 });
const bank = new PrototypeBank({ numClasses: 10, height: 28, width: 28 });
const loader = new DataLoader(data.train, { batchSize: batch, shuffle: true, seed: 0, dropLast: true });
const samples: { step: number; rssMb: number; live: number }[] = [];
let step = 0;
const t0 = performance.now();
for (let epoch = 0; step < steps; epoch++) {
  for (const plain of loader.batches(epoch)) {
    if (step >= steps) break;
    if (step % 16 === 0) await T.yieldToEventLoop();
    T.scope(() => {
      const b = toTensorBatch(plain);
      const terms = objective(model, b.x, b.y, cfg, bank, { epoch: 0, step: 0 });
      opt.zeroGrad();
      T.backward(terms.loss);
      opt.step();
    });
    step++;
    if (step % 50 === 0 || step === warmup) {
      samples.push({ step, rssMb: process.memoryUsage().rss / 2 ** 20, live: T.liveTensors() });
      if (step % 500 === 0) console.log(`step ${step}: RSS ${samples[samples.length - 1]!.rssMb.toFixed(1)} MB, live tensors ${T.liveTensors()}, ${(step / ((performance.now() - t0) / 1000)).toFixed(1)} steps/s`);
    }
  }
}
const after = samples.filter((s) => s.step >= warmup);
const base = after[0]!;
const rss = after.map((s) => s.rssMb);
const result = {
  model: modelName, steps, batch, warmup,
  rssAtWarmupMb: base.rssMb, rssMinMb: Math.min(...rss), rssMaxMb: Math.max(...rss),
  rssDriftPercent: { min: (100 * (Math.min(...rss) - base.rssMb)) / base.rssMb, max: (100 * (Math.max(...rss) - base.rssMb)) / base.rssMb },
  liveTensors: { atWarmup: base.live, min: Math.min(...after.map((s) => s.live)), max: Math.max(...after.map((s) => s.live)) },
  seconds: (performance.now() - t0) / 1000,
};
const ok = Math.abs(result.rssDriftPercent.min) <= 5 && Math.abs(result.rssDriftPercent.max) <= 5 && result.liveTensors.min === result.liveTensors.max;
console.log(JSON.stringify(result, null, 2));
console.log(ok ? 'soak: PASS (RSS within ±5 %, live tensors constant)' : 'soak: FAIL');
writeFileSync(arg('json', 'soak.json'), JSON.stringify({ ...result, samples }, null, 1));
process.exitCode = ok ? 0 : 1;
