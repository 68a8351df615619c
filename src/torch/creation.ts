import { native } from './native.js';
import { dtypeCode, dtypeOfArray, type AnyTypedArray, type DType } from './dtype.js';
import { op, Tensor } from './tensor.js';

/** Where and how a new tensor is made. */
export interface CreateOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
}

function finish(t: Tensor, o: CreateOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** A tensor holding a copy of a typed array; the dtype follows the array (BigInt64Array → int64). */
export function fromArray(data: AnyTypedArray, shape: readonly number[], opts: CreateOptions = {}): Tensor {
  let t = new Tensor(native.fromBuffer(data, shape, dtypeCode(dtypeOfArray(data))));
  if (opts.dtype && opts.dtype !== t.dtype) t = swap(t, t.to(opts.dtype));
  if (opts.device && opts.device !== 'cpu') t = swap(t, t.to(opts.device));
  return finish(t, opts);
}

/**
 * A tensor holding a copy of raw bytes read as `dtype` in the host's byte order (the inverse of `Tensor.bytes()`;
 * the way to make bool tensors). The byte count must be numel × the dtype's size.
 */
export function fromBytes(bytes: Uint8Array, shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(native.fromBuffer(bytes, shape, dtypeCode(dtype)));
}

function swap(old: Tensor, next: Tensor): Tensor {
  old.dispose();
  return next;
}

/** A tensor from nested plain numbers' flat values and a shape (float32 unless dtype says otherwise). */
export function tensor(values: readonly number[], shape: readonly number[] = [values.length], opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'float32';
  const arr = dtype === 'int64' ? BigInt64Array.from(values, (v) => BigInt(v)) : Float32Array.from(values);
  return fromArray(arr, shape, { ...opts, dtype });
}

const dt = (o: CreateOptions): number => dtypeCode(o.dtype ?? 'float32');
const dev = (o: CreateOptions): string | null => o.device ?? null;

export function zeros(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(op('aten::zeros', shape, dt(o), null, dev(o)), o);
}
export function ones(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(op('aten::ones', shape, dt(o), null, dev(o)), o);
}
export function full(shape: readonly number[], value: number, o: CreateOptions = {}): Tensor {
  return finish(op('aten::full', shape, value, dt(o), null, dev(o)), o);
}
export function zerosLike(t: Tensor): Tensor {
  return op('aten::zeros_like', t);
}
export function onesLike(t: Tensor): Tensor {
  return op('aten::ones_like', t);
}
/** start, start+step, … < end (int64 unless dtype says otherwise). */
export function arange(end: number, start = 0, step = 1, o: CreateOptions = {}): Tensor {
  return finish(op('aten::arange.start_step', start, end, step, dtypeCode(o.dtype ?? 'int64'), null, dev(o)), o);
}
/** Standard normal samples from the seeded default generator (see `manualSeed`). */
export function randn(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(op('aten::randn', shape, dt(o), null, dev(o)), o);
}
/** Uniform [0, 1) samples from the seeded default generator. */
export function rand(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(op('aten::rand', shape, dt(o), null, dev(o)), o);
}
/** Integers in [low, high) from the seeded default generator (int64). */
export function randint(low: number, high: number, shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(op('aten::randint.low', low, high, shape, dtypeCode(o.dtype ?? 'int64'), null, dev(o)), o);
}
