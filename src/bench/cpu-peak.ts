import { readFileSync } from 'node:fs';

/**
 * A rough fp32 peak of `threads` cores from /proc/cpuinfo: GHz × FLOP/cycle, with FLOP/cycle = 2 FMA units ×
 * lanes × 2 (AVX-512: 16 lanes, AVX2+FMA: 8, else SSE: 4). Pass `--peak-gflops` when the true figure is known.
 */
export function estimatePeakGflops(threads: number): { gflops: number; basis: string } {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return { gflops: NaN, basis: 'unknown (/proc/cpuinfo unreadable)' };
  }
  const flags = /^flags\s*:\s*(.*)$/m.exec(text)?.[1]?.split(' ') ?? [];
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(text)?.[1] ?? NaN);
  const model = /^model name\s*:\s*(.*)$/m.exec(text)?.[1] ?? 'unknown CPU';
  const lanes = flags.includes('avx512f') ? 16 : flags.includes('avx2') && flags.includes('fma') ? 8 : 4;
  const perCycle = 2 * lanes * 2;
  const gflops = (mhz / 1000) * perCycle * threads;
  return { gflops, basis: `${model}, ${mhz.toFixed(0)} MHz × ${perCycle} FLOP/cycle × ${threads} threads` };
}
