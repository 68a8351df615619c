import type { LoadedDataset } from '../data/load.js';

/** Datasets reused across consecutive runs with the same data options (loading MNIST again per run is wasted time). */
export class DataCache {
  #entries = new Map<string, LoadedDataset>();

  async get(key: unknown, load: () => Promise<LoadedDataset>): Promise<LoadedDataset> {
    const k = JSON.stringify(key);
    let d = this.#entries.get(k);
    if (!d) {
      // Two entries at most (the training view and the evaluation view of one dataset): memory stays bounded.
      if (this.#entries.size >= 2) this.#entries.clear();
      d = await load();
      this.#entries.set(k, d);
    }
    return d;
  }
}
