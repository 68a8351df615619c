import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

// mallopt is process-wide, so each setting is observed in a fresh node process: it calls tuneAllocator(), then
// writes a 24 MiB tensor (below the 32 MiB mmap threshold) and frees it, reporting RSS before, after filling, after
// freeing. glibc's defaults serve such a block with mmap() and unmap it on free; tuned, it comes from the heap and
// stays resident for reuse.
const PROBE = `
import * as T from ${JSON.stringify(new URL('../../src/torch/index.js', import.meta.url).href)};
const applied = T.tuneAllocator();
const mb = () => process.memoryUsage().rss / 2 ** 20;
const before = mb();
const t = T.zeros([6 * 2 ** 20]);
const filled = mb();
t.dispose();
const freed = mb();
console.log(JSON.stringify({ applied, allocatedMb: filled - before, keptMb: freed - before }));
`;

interface Probe { applied: boolean; allocatedMb: number; keptMb: number }

const runs = new Map<string, Probe>();
function probe(malloc: string | undefined): Probe {
  const key = malloc ?? '(unset)';
  if (!runs.has(key)) {
    const env = { ...process.env };
    delete env.BATCHCAM_MALLOC;
    if (malloc !== undefined) env.BATCHCAM_MALLOC = malloc;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout.trim().split('\n').pop()!) as Probe;
    assert.ok(p.allocatedMb > 20, `writing the 24 MiB tensor raised RSS by only ${p.allocatedMb.toFixed(1)} MiB`);
    runs.set(key, p);
  }
  return runs.get(key)!;
}

test('tuneAllocator() reports the settings applied when BATCHCAM_MALLOC is unset', () => {
  assert.equal(probe(undefined).applied, true);
});

test('tuneAllocator() reports nothing applied with BATCHCAM_MALLOC=default', () => {
  assert.equal(probe('default').applied, false);
});

test('tuned, a freed 24 MiB tensor stays resident for reuse (glibc keeps it in the heap)', () => {
  const p = probe(undefined);
  assert.ok(p.keptMb > 20, `RSS after freeing is ${p.keptMb.toFixed(1)} MiB above the start (${p.allocatedMb.toFixed(1)} allocated)`);
});

test('with BATCHCAM_MALLOC=default, a freed 24 MiB tensor goes back to the kernel (glibc defaults)', () => {
  const p = probe('default');
  assert.ok(p.keptMb < 4, `RSS after freeing is ${p.keptMb.toFixed(1)} MiB above the start (${p.allocatedMb.toFixed(1)} allocated)`);
});
