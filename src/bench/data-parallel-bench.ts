import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One configuration of the data-parallel line: processes × threads each, and its measured training rate. */
export interface DataParallelRow {
  processes: number;
  threads: number;
  imagesPerSecond: number;
}

/** Options of {@link benchDataParallel}. */
export interface DataParallelBenchOptions {
  /** Timed optimiser steps (after `warmup` untimed ones). */
  steps: number;
  warmup?: number;
  /** Global batch (default 64). */
  batch?: number;
  model?: string;
  /** Cores to spread (default 2): `cores` processes × 1 thread against 1 process × `cores` threads. */
  cores?: number;
}

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** Runs `batchcam train ARGS` to completion; rejects with its stderr on failure. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'train', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`batchcam train ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/**
 * The bench's data-parallel line: the same training (SimpleCNN, CE + Prototype + Batch-CAM Loss, the same global
 * batch) as `cores` processes × 1 thread over c10d/Gloo and as 1 process × `cores` threads, each timed from its
 * per-step log (steps.jsonl's images/s, the first `warmup` steps dropped). Each run is a real `batchcam train`,
 * so the processes' start-up (loading libtorch and the data, the rendezvous) is not part of the rate.
 */
export async function benchDataParallel(o: DataParallelBenchOptions): Promise<DataParallelRow[]> {
  const warmup = o.warmup ?? 3;
  const batch = o.batch ?? 64;
  const cores = o.cores ?? 2;
  const steps = warmup + o.steps;
  const root = mkdtempSync(join(tmpdir(), 'batchcam-bench-dp-'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT']) delete env[k];
  const base = ['--model', o.model ?? 'simplecnn', '--train-limit', String(Math.max(10, batch * steps)), '--test-limit', '10',
    '--batch-size', String(batch), '--lambda-proto', '1', '--lambda-batch', '1', '--log-every', '1', '--checkpoint-every', '0', '--quiet'];
  const rows: DataParallelRow[] = [];
  try {
    for (const [processes, threads] of [[cores, 1], [1, cores]] as const) {
      const out = join(root, `${processes}x${threads}`);
      const args = [...base, '--threads', String(threads), '--out', out, ...(processes > 1 ? ['--nproc-per-node', String(processes)] : [])];
      await run(args, { ...env, OMP_NUM_THREADS: String(threads), BATCHCAM_THREADS: String(threads) });
      const rates = readFileSync(join(out, 'steps.jsonl'), 'utf8').trim().split('\n')
        .map((l) => (JSON.parse(l) as { imagesPerSecond: number }).imagesPerSecond).slice(warmup);
      // Harmonic mean of per-step rates = images / total seconds.
      rows.push({ processes, threads, imagesPerSecond: rates.length / rates.reduce((s, r) => s + 1 / r, 0) });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

/** The line `bench` prints. */
export function formatDataParallel(rows: DataParallelRow[], batch: number): string {
  const [dp, one] = rows as [DataParallelRow, DataParallelRow];
  return `data-parallel (simplecnn, CE + proto + batch, global batch ${batch}): ${dp.processes} processes × ${dp.threads} thread ` +
    `${dp.imagesPerSecond.toFixed(0)} img/s vs ${one.processes} process × ${one.threads} threads ${one.imagesPerSecond.toFixed(0)} img/s: ` +
    `ratio ${(dp.imagesPerSecond / one.imagesPerSecond).toFixed(2)}`;
}
