import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** SHA-256 of every file under `dir` (hidden ones included), by relative path: equal maps mean byte-identical trees. */
export function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel ? join(rel, name) : name;
      if (statSync(join(dir, r)).isDirectory()) {
        out.set(`${r}/`, 'dir');
        walk(r);
      } else {
        out.set(r, createHash('sha256').update(readFileSync(join(dir, r))).digest('hex'));
      }
    }
  };
  walk('');
  return out;
}
