/** Round-robin timing: every mode runs in turn each round, so slow drifts of a shared CPU hit all modes alike. */
export function timeInterleaved(steps: Record<string, () => void>, o: { warmup: number; rounds: number; perRound: number }): Record<string, number[]> {
  for (const st of Object.values(steps)) for (let i = 0; i < o.warmup; i++) st();
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(steps).map((k) => [k, []]));
  for (let r = 0; r < o.rounds; r++) {
    for (const [k, st] of Object.entries(steps)) {
      for (let i = 0; i < o.perRound; i++) {
        const t0 = performance.now();
        st();
        times[k]!.push((performance.now() - t0) / 1000);
      }
    }
  }
  return times;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
