/** Datasets reused across consecutive runs with the same data options (loading MNIST again per run is wasted time). */
export class DataCache {
  #entries = new Map<string, unknown>();

  /** The dataset under `key` (JSON-compared), loaded by `load` the first time; a key always holds one kind of data. */
  async get<T>(key: unknown, load: () => Promise<T>): Promise<T> {
    const k = JSON.stringify(key);
    let d = this.#entries.get(k) as T | undefined;
    if (!d) {
      // Two entries at most (the training view and the evaluation view of one dataset): memory stays bounded.
      if (this.#entries.size >= 2) this.#entries.clear();
      d = await load();
      this.#entries.set(k, d);
    }
    return d;
  }
}
