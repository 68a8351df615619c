/**
 * `fn` run once, on first use (its value or its error); every test that needs its result shares that one run. An
 * async `fn` is run once too: every caller gets its one promise.
 */
export function once<T>(fn: () => T): () => T {
  let v: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  return () => {
    if (!v) {
      try {
        v = { ok: true, value: fn() };
      } catch (error) {
        v = { ok: false, error };
      }
    }
    if (!v.ok) throw v.error;
    return v.value;
  };
}
