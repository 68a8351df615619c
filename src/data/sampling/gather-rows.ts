/** Copies rows `indices` (each `rowSize` elements) of `source` into a new array of the same type. */
export function gatherRows<T extends Float32Array | Uint8Array | BigInt64Array | Int32Array>(
  source: T,
  indices: ArrayLike<number>,
  rowSize: number,
): T {
  const length = indices.length * rowSize;
  // Chosen by instanceof rather than source.constructor, so a Node Buffer yields a plain Uint8Array.
  const out = (source instanceof Float32Array ? new Float32Array(length)
    : source instanceof BigInt64Array ? new BigInt64Array(length)
    : source instanceof Int32Array ? new Int32Array(length)
    : new Uint8Array(length)) as T;
  for (let k = 0; k < indices.length; k++) {
    const start = indices[k]! * rowSize;
    // The union's subarray/set signatures don't unify, so go through one member type.
    (out as Uint8Array).set((source as Uint8Array).subarray(start, start + rowSize), k * rowSize);
  }
  return out;
}
