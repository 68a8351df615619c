/** Anything a scope can free. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const stack: Set<Disposable>[] = [];

/** Records a newly created tensor in the innermost open scope (no scope: the GC finalizer is the owner). */
export function track(t: Disposable): void {
  const top = stack[stack.length - 1];
  if (top) top.add(t);
}

/** Removes t from every open scope: it then lives until its own `dispose()`. */
export function keep<T extends Disposable>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

function collect(v: unknown, out: Set<Disposable>, seen: Set<unknown>): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (typeof (v as Disposable).dispose === 'function' && 'isDisposed' in (v as object)) {
    out.add(v as Disposable);
    return;
  }
  if (Array.isArray(v)) for (const e of v) collect(e, out, seen);
  else if (v instanceof Map) for (const e of v.values()) collect(e, out, seen);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const e of Object.values(v)) collect(e, out, seen);
}

/**
 * Runs fn and frees every tensor created inside it, except those reachable from its result
 * (a tensor, or arrays, Maps and plain objects holding tensors), which move to the enclosing scope.
 * Like tf.tidy: the deterministic alternative to waiting for the GC.
 */
export function scope<T>(fn: () => T): T {
  const mine = new Set<Disposable>();
  stack.push(mine);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('scope(fn): fn must be synchronous');
  } catch (e) {
    stack.pop();
    for (const t of mine) t.dispose();
    throw e;
  }
  stack.pop();
  const kept = new Set<Disposable>();
  collect(result, kept, new Set());
  const parent = stack[stack.length - 1];
  for (const t of mine) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}
