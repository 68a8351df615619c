import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Folder (`src/x`) → floor, from the table of docs/architecture.md. */
function floorsFromDoc(): Map<string, number> {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const floors = new Map<string, number>();
  for (const m of doc.matchAll(/^\| (\d+) \| ([^|]+) \|/gm)) {
    for (const f of m[2]!.matchAll(/`(src\/[a-z-]+)\/`/g)) floors.set(f[1]!, Number(m[1]));
  }
  return floors;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** `src/x` for a file in a folder, `src` for a file directly in src/, null outside src/. */
function folderOf(file: string): string | null {
  const parts = relative(ROOT, file).split('/');
  if (parts[0] !== 'src') return null;
  return parts.length > 2 ? `src/${parts[1]}` : 'src';
}

test('every import under src/ points down the floors of docs/architecture.md', () => {
  const floors = floorsFromDoc();
  assert.ok(floors.size >= 10, `docs/architecture.md names ${floors.size} folders`);
  const files = sources(join(ROOT, 'src'));
  const problems: string[] = [];
  for (const f of new Set(files.map(folderOf))) {
    if (f && f !== 'src' && !floors.has(f)) problems.push(`${f}/ is on no floor: add it to docs/architecture.md`);
  }
  let arrows = 0;
  for (const file of files) {
    const from = folderOf(file)!;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.\.?\/[^']+)'/g)) {
      const to = folderOf(normalize(join(dirname(file), m[1]!)));
      if (to === from) continue;
      arrows++;
      const where = `${relative(ROOT, file)} imports ${m[1]}`;
      if (from === 'src' && file.endsWith('index.ts')) continue; // the public API sits on top
      if (to === null) problems.push(`${where}: outside src/`);
      else if (from === 'src') problems.push(`${where}: a file directly in src/ is ground floor`);
      else if (to !== 'src' && floors.get(to)! >= floors.get(from)!) {
        problems.push(`${where}: ${to}/ is on floor ${floors.get(to)}, not below ${from}/ (floor ${floors.get(from)})`);
      }
    }
  }
  assert.ok(arrows > 100, `${arrows} imports between folders checked`);
  assert.deepEqual(problems, []);
});

/** The relative imports (value and type) of each file under src/, resolved to files. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const to = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.\.?\/[^']+)'/g)]
      .map((m) => normalize(join(dirname(file), m[1]!.replace(/\.js$/, '.ts'))));
    graph.set(file, to);
  }
  return graph;
}

/** Every import circle of a graph, each as the chain of files that closes it (depth-first, one per back edge). */
function circles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    path.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 'open') found.push([...path.slice(path.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    path.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

test('the circle finder finds a circle inside one folder and none in a chain', () => {
  const c = circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]));
  assert.deepEqual(c, [['a', 'b', 'c', 'a']]);
  assert.deepEqual(circles(new Map([['a', ['b']], ['b', ['c']], ['c', []]])), []);
});

test('no import circle anywhere under src/, type-only imports and files of one folder included', () => {
  const graph = importGraph();
  assert.ok(graph.size > 150, `${graph.size} files read`);
  const found = circles(graph).map((c) => c.map((f) => relative(ROOT, f)).join(' → '));
  assert.deepEqual(found, []);
});
