import type { SplitData } from '../data/dataset.js';
import { loadDataset } from '../data/load-dataset.js';
import { inputOptions, type TrainConfig } from '../train/options.js';

/**
 * The full test split of a run's dataset, loaded exactly as `batchcam explain --indices` loads it (the run's own
 * input options, the whole test split, a token training subset — the statistics come from the full file), so an image
 * picked by index gets the CLI's numbers. Loading takes seconds, so splits are kept: the `keep` most recent, keyed by
 * what the load depends on (runs on the same data share one). Not reentrant: used from the server's JobQueue.
 */
export class TestSplitCache {
  #splits = new Map<string, SplitData>();

  constructor(private readonly keep = 2) {}

  async get(cfg: TrainConfig): Promise<SplitData> {
    const options = { dataDir: cfg.dataDir ?? undefined, ...inputOptions(cfg) };
    const key = JSON.stringify([cfg.dataset, options]);
    let split = this.#splits.get(key);
    if (split) {
      this.#splits.delete(key); // most recent last
    } else {
      split = (await loadDataset(cfg.dataset, { ...options, trainLimit: 10, testLimit: undefined })).test;
      while (this.#splits.size >= this.keep) this.#splits.delete(this.#splits.keys().next().value as string);
    }
    this.#splits.set(key, split);
    return split;
  }

  clear(): void {
    this.#splits.clear();
  }
}
