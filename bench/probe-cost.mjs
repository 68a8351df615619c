// The cost of the CAM timeline at its default setting (--probe-every 50, 2 probes per class): the same training run
// with and without probes, wall-clock seconds, alternating to even out machine noise. Usage (after npm run build):
//   node bench/probe-cost.mjs [steps=400] [repeats=2]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../dist/src/train/trainer.js';
import { loadConfigData } from '../dist/src/train/session.js';
import { resolveConfig } from '../dist/src/train/options.js';

const steps = Number(process.argv[2] ?? 400);
const repeats = Number(process.argv[3] ?? 2);
const base = { trainLimit: steps * 32, testLimit: 1000, batchSize: 32, epochs: 1, seed: 0 };
const data = await loadConfigData(resolveConfig(base));
const time = { on: 0, off: 0 };
for (let r = 0; r < repeats; r++) {
  for (const mode of ['off', 'on']) {
    const dir = mkdtempSync(join(tmpdir(), `probe-cost-${mode}-`));
    const t0 = performance.now();
    const res = await train({ ...base, probeEvery: mode === 'on' ? 50 : 0 }, { outDir: dir, quiet: true, data });
    time[mode] += (performance.now() - t0) / 1000;
    res.model.dispose();
  }
}
console.log(`${steps} steps × ${repeats}: without probes ${time.off.toFixed(1)} s, with probes (every 50 steps) ${time.on.toFixed(1)} s, ` +
  `cost ${(100 * (time.on / time.off - 1)).toFixed(2)} %`);
