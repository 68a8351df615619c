import { createHash } from 'node:crypto';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** A run or experiment directory found under the served root, known to clients only by its `id`. */
export interface CatalogEntry {
  /** Opaque id (a hash of the path relative to the root): what clients name it by, never a path. */
  id: string;
  kind: 'run' | 'experiment';
  /** The path relative to the root, shown as its name. */
  name: string;
  /** The resolved (realpath) directory, inside the root. */
  dir: string;
}

/** How deep under the root runs are looked for, and how many directories at most: a huge tree cannot stall a request. */
const MAX_DEPTH = 4;
const MAX_DIRS = 5000;

/** Files that make a directory a run (what `batchcam train` writes first) or an experiment. */
const RUN_MARKERS = ['config.json', 'checkpoint.safetensors', 'steps.jsonl'];
const EXPERIMENT_MARKERS = ['aggregate.json'];

/** Whether `p` is `root` or lies inside it (both resolved). */
export function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The runs and experiments under a root directory. Every lookup resolves symlinks and keeps only what lies inside the
 * root, so a link pointing out of it is never listed or read; the listing is rebuilt on each call (directories come
 * and go while training), tolerating entries that vanish mid-scan.
 */
export class RunCatalog {
  readonly root: string;

  constructor(root: string) {
    this.root = realpathSync(root);
  }

  /** Every run and experiment, by name. */
  list(): CatalogEntry[] {
    const out: CatalogEntry[] = [];
    const seen = new Set<string>();
    let visited = 0;
    const walk = (dir: string, depth: number): void => {
      if (visited++ > MAX_DIRS || seen.has(dir)) return;
      seen.add(dir);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return; // deleted or unreadable meanwhile
      }
      const name = relative(this.root, dir) || '.';
      if (EXPERIMENT_MARKERS.some((m) => names.includes(m))) out.push(this.#entry('experiment', name, dir));
      else if (RUN_MARKERS.some((m) => names.includes(m))) out.push(this.#entry('run', name, dir));
      if (depth >= MAX_DEPTH) return;
      for (const n of names.sort()) {
        if (n.startsWith('.')) continue;
        const real = this.resolve(join(dir, n));
        if (real && isDirectory(real)) walk(real, depth + 1);
      }
    };
    walk(this.root, 0);
    return out;
  }

  /** The entry of an id, or null (unknown, gone, or not of `kind`). */
  find(id: string, kind?: CatalogEntry['kind']): CatalogEntry | null {
    if (!/^[0-9a-f]{16}$/.test(id)) return null;
    return this.list().find((e) => e.id === id && (!kind || e.kind === kind)) ?? null;
  }

  /** The realpath of `p` when it exists and lies inside the root, else null. */
  resolve(p: string): string | null {
    try {
      const real = realpathSync(p);
      return isInside(this.root, real) ? real : null;
    } catch {
      return null;
    }
  }

  /** A file of an entry by its fixed name (never a client's path), resolved and inside the root, or null. */
  file(e: CatalogEntry, name: string): string | null {
    return this.resolve(join(e.dir, name));
  }

  #entry(kind: CatalogEntry['kind'], name: string, dir: string): CatalogEntry {
    return { id: createHash('sha256').update(name).digest('hex').slice(0, 16), kind, name, dir };
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
