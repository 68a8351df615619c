import { native, type Handle, type OpArg, type OpRef, type OpResult } from './native.js';
import { dtypeCode, dtypeName, viewAs, type AnyTypedArray, type DType } from './dtype.js';
import { track, type Disposable } from './scope.js';

/** A tensor, or a JS number used as a scalar operand. */
export type TensorLike = Tensor | number;
/** Arguments of `callOp`: tensors and lists of tensors are passed by handle, the rest as the schema expects. */
export type Arg = Tensor | OpArg | readonly (Tensor | null)[];

const refs = new Map<string, OpRef>();

function opRef(qualified: string): OpRef {
  let r = refs.get(qualified);
  if (!r) {
    const dot = qualified.indexOf('.');
    r = dot < 0 ? native.opHandle(qualified, '') : native.opHandle(qualified.slice(0, dot), qualified.slice(dot + 1));
    refs.set(qualified, r);
  }
  return r;
}

function toNative(a: Arg): OpArg {
  if (a instanceof Tensor) return a.handle;
  if (Array.isArray(a)) return a.map((e: Arg) => toNative(e));
  return a as OpArg;
}

function fromNative(r: OpResult): unknown {
  if (Array.isArray(r)) return r.map(fromNative);
  if (r !== null && typeof r === 'object') return new Tensor(r as Handle);
  return r;
}

/** The ATen schema of an operator, e.g. `schemaOf('aten::conv2d')`. */
export function schemaOf(qualified: string): string {
  return native.opSchema(opRef(qualified));
}

/**
 * Calls an ATen operator by its schema name (`aten::name` or `aten::name.overload`) through the dispatcher,
 * so autograd, dtype promotion and device dispatch are libtorch's own. Positional arguments in schema order;
 * missing trailing ones take the schema's defaults.
 */
export function callOp(qualified: string, ...args: Arg[]): unknown {
  const ref = opRef(qualified);
  const nargs = args.length;
  let r: OpResult;
  switch (nargs) {
    // Spelled out for the common arities: spreading a mapped array costs more than the kernel of a small op.
    case 1: r = native.call(ref, toNative(args[0])); break;
    case 2: r = native.call(ref, toNative(args[0]), toNative(args[1])); break;
    case 3: r = native.call(ref, toNative(args[0]), toNative(args[1]), toNative(args[2])); break;
    default: r = native.call(ref, ...args.map(toNative));
  }
  return fromNative(r);
}

/** `callOp` for operators that return one tensor. */
export function op(qualified: string, ...args: Arg[]): Tensor {
  return callOp(qualified, ...args) as Tensor;
}

/** `callOp` for operators that return several tensors. */
export function opList(qualified: string, ...args: Arg[]): Tensor[] {
  return callOp(qualified, ...args) as Tensor[];
}

/** Memory layouts of a tensor (c10::MemoryFormat). */
export type MemoryFormat = 'contiguous' | 'channels-last';
const MEMORY_FORMATS: Record<MemoryFormat, number> = { contiguous: 0, 'channels-last': 2 };

/** A dimension list argument: one dim or several. */
export type Dims = number | readonly number[];
const dimList = (d: Dims): number[] => (typeof d === 'number' ? [d] : [...d]);

/**
 * A libtorch tensor. Memory is freed by `dispose()`, by the enclosing `scope()`, or, as a safety net only,
 * by the GC. Methods return new tensors; the ones ending in `_` work in place, like PyTorch's.
 */
export class Tensor implements Disposable {
  readonly handle: Handle;
  #disposed = false;

  /** Wraps an addon handle; use the factory functions instead. */
  constructor(handle: Handle) {
    this.handle = handle;
    track(this);
  }

  /** Frees the tensor's reference to its storage now. Idempotent. */
  dispose(): void {
    if (!this.#disposed) {
      this.#disposed = true;
      native.dispose(this.handle);
    }
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  get shape(): number[] {
    return native.shape(this.handle);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get dtype(): DType {
    return dtypeName(native.scalarType(this.handle));
  }

  get device(): string {
    return native.device(this.handle);
  }

  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }

  /** Marks a leaf tensor as a variable autograd tracks; returns this. */
  requiresGrad_(on = true): this {
    native.setRequiresGrad(this.handle, on);
    return this;
  }

  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }

  /** The gradient accumulated by `backward()`, or null. */
  get grad(): Tensor | null {
    const g = native.gradOf(this.handle);
    return g ? new Tensor(g) : null;
  }

  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g ? g.handle : null);
  }

  /** The value of a one-element tensor. */
  item(): number {
    return native.item(this.handle);
  }

  /** A copy of the contents as a typed array of the tensor's dtype (float32 → Float32Array, int64 → BigInt64Array…). */
  data(): AnyTypedArray {
    return viewAs(native.toBuffer(this.handle), this.dtype);
  }

  /** A copy of the contents as raw bytes: contiguous, in the host's byte order (the inverse of `fromBytes`). */
  bytes(): Uint8Array {
    return new Uint8Array(native.toBuffer(this.handle));
  }

  /**
   * The address of the tensor's first element: two wrappers of one tensor (or views that start at the same element)
   * share it, so it tells whether two tensors are the same storage. Meaningless for a tensor with no elements.
   */
  dataPtr(): number {
    return native.dataPtr(this.handle);
  }

  /** Contents as float32, whatever the dtype. */
  toFloat32(): Float32Array {
    if (this.dtype === 'float32') return this.data() as Float32Array;
    const t = this.to('float32');
    const d = t.data() as Float32Array;
    t.dispose();
    return d;
  }

  /** Contents as plain numbers (int64 converted). */
  toArray(): number[] {
    return Array.from(this.data() as ArrayLike<number | bigint>, Number);
  }

  // ---------------------------------------------------------------- arithmetic (broadcasting)
  add(o: TensorLike, alpha = 1): Tensor {
    return typeof o === 'number' ? op('aten::add.Scalar', this, o, alpha) : op('aten::add.Tensor', this, o, alpha);
  }
  sub(o: TensorLike, alpha = 1): Tensor {
    return typeof o === 'number' ? op('aten::sub.Scalar', this, o, alpha) : op('aten::sub.Tensor', this, o, alpha);
  }
  mul(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('aten::mul.Scalar', this, o) : op('aten::mul.Tensor', this, o);
  }
  div(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('aten::div.Scalar', this, o) : op('aten::div.Tensor', this, o);
  }
  pow(e: TensorLike): Tensor {
    return typeof e === 'number' ? op('aten::pow.Tensor_Scalar', this, e) : op('aten::pow.Tensor_Tensor', this, e);
  }
  neg(): Tensor { return op('aten::neg', this); }
  abs(): Tensor { return op('aten::abs', this); }
  sqrt(): Tensor { return op('aten::sqrt', this); }
  exp(): Tensor { return op('aten::exp', this); }
  log(): Tensor { return op('aten::log', this); }
  square(): Tensor { return op('aten::square', this); }
  matmul(o: Tensor): Tensor { return op('aten::matmul', this, o); }
  clamp(min: number | null, max: number | null = null): Tensor { return op('aten::clamp', this, min, max); }
  relu(): Tensor { return op('aten::relu', this); }
  sigmoid(): Tensor { return op('aten::sigmoid', this); }
  isfinite(): Tensor { return op('aten::isfinite', this); }

  // ---------------------------------------------------------------- comparisons (bool results)
  eq(o: TensorLike): Tensor { return typeof o === 'number' ? op('aten::eq.Scalar', this, o) : op('aten::eq.Tensor', this, o); }
  ne(o: TensorLike): Tensor { return typeof o === 'number' ? op('aten::ne.Scalar', this, o) : op('aten::ne.Tensor', this, o); }
  gt(o: TensorLike): Tensor { return typeof o === 'number' ? op('aten::gt.Scalar', this, o) : op('aten::gt.Tensor', this, o); }
  ge(o: TensorLike): Tensor { return typeof o === 'number' ? op('aten::ge.Scalar', this, o) : op('aten::ge.Tensor', this, o); }
  lt(o: TensorLike): Tensor { return typeof o === 'number' ? op('aten::lt.Scalar', this, o) : op('aten::lt.Tensor', this, o); }
  le(o: TensorLike): Tensor { return typeof o === 'number' ? op('aten::le.Scalar', this, o) : op('aten::le.Tensor', this, o); }

  // ---------------------------------------------------------------- reductions
  /** Sum over all elements, or over `dims`. */
  sum(dims?: Dims, keepdim = false): Tensor {
    return dims === undefined ? op('aten::sum', this) : op('aten::sum.dim_IntList', this, dimList(dims), keepdim);
  }
  mean(dims?: Dims, keepdim = false): Tensor {
    return dims === undefined ? op('aten::mean', this) : op('aten::mean.dim', this, dimList(dims), keepdim);
  }
  amax(dims: Dims = [], keepdim = false): Tensor { return op('aten::amax', this, dimList(dims), keepdim); }
  amin(dims: Dims = [], keepdim = false): Tensor { return op('aten::amin', this, dimList(dims), keepdim); }
  /** The median along `dim` (the lower of the two middle values for an even count, as torch.median). */
  median(dim: number, keepdim = false): Tensor {
    const [values, indices] = opList('aten::median.dim', this, dim, keepdim);
    indices!.dispose();
    return values!;
  }
  argmax(dim: number | null = null, keepdim = false): Tensor { return op('aten::argmax', this, dim, keepdim); }
  /** True where every element is non-zero (bool scalar). */
  all(): Tensor { return op('aten::all', this); }
  /** Euclidean norm over `dims`. */
  norm(dims: Dims, keepdim = false): Tensor {
    return op('aten::linalg_vector_norm', this, 2, dimList(dims), keepdim);
  }

  // ---------------------------------------------------------------- shape
  reshape(shape: readonly number[]): Tensor { return op('aten::reshape', this, shape); }
  view(shape: readonly number[]): Tensor { return op('aten::view', this, shape); }
  flatten(start = 0, end = -1): Tensor { return op('aten::flatten.using_ints', this, start, end); }
  permute(dims: readonly number[]): Tensor { return op('aten::permute', this, dims); }
  transpose(d0: number, d1: number): Tensor { return op('aten::transpose.int', this, d0, d1); }
  unsqueeze(dim: number): Tensor { return op('aten::unsqueeze', this, dim); }
  squeeze(dim: number): Tensor { return op('aten::squeeze.dim', this, dim); }
  expand(shape: readonly number[]): Tensor { return op('aten::expand', this, shape); }
  /**
   * This tensor in the given memory layout, copied only if it is not already: 'contiguous' (row-major) or
   * 'channels-last' (a 4-D N×C×H×W tensor stored as N×H×W×C, the layout oneDNN's convolutions prefer).
   */
  contiguous(format: MemoryFormat = 'contiguous'): Tensor { return op('aten::contiguous', this, MEMORY_FORMATS[format]); }
  /**
   * Whether the tensor is stored in the given memory layout (see `contiguous`): aten::contiguous returns the tensor
   * itself then (is_contiguous is no dispatcher op). Copies when it is not, so meant for checks, not hot loops.
   */
  isContiguous(format: MemoryFormat = 'contiguous'): boolean {
    const c = this.contiguous(format);
    const same = c.dataPtr() === this.dataPtr();
    c.dispose();
    return same;
  }
  /** Elements start ≤ i < end (step) along dim; negative indices count from the end. */
  slice(dim: number, start: number | null, end: number | null = null, step = 1): Tensor {
    return op('aten::slice.Tensor', this, dim, start, end, step);
  }
  select(dim: number, index: number): Tensor { return op('aten::select.int', this, dim, index); }
  indexSelect(dim: number, index: Tensor): Tensor { return op('aten::index_select', this, dim, index); }
  gather(dim: number, index: Tensor): Tensor { return op('aten::gather', this, dim, index); }

  // ---------------------------------------------------------------- autograd and copies
  /** A view that autograd does not track. */
  detach(): Tensor { return op('aten::detach', this); }
  clone(): Tensor { return op('aten::clone', this); }
  /** Converts dtype and/or device ('cpu', 'cuda', 'cuda:1'). */
  to(target: DType | string): Tensor {
    if (isDType(target)) return op('aten::to.dtype', this, dtypeCode(target));
    return op('aten::to.device', this, target, native.scalarType(this.handle));
  }
  /** A copy on `device`; `nonBlocking` lets a copy from pinned host memory overlap with the device's work. */
  toDevice(device: string, nonBlocking = false): Tensor {
    return op('aten::to.device', this, device, native.scalarType(this.handle), nonBlocking);
  }
  /** A copy in page-locked host memory (the source of non-blocking host-to-GPU copies; needs a CUDA libtorch). */
  pinMemory(): Tensor { return op('aten::pin_memory', this); }
  /**
   * Moves this tensor to `device` in place, keeping its identity (a parameter stays the object modules and
   * optimisers hold), as `param.data = param.data.to(device)` does in PyTorch. A no-op when it is there already.
   */
  moveTo_(device: string): this {
    if (this.device === device || (device === 'cuda' && this.device === 'cuda:0')) return this;
    const moved = op('aten::to.device', this, device, native.scalarType(this.handle));
    native.setData(this.handle, moved.handle);
    moved.dispose();
    return this;
  }
  float(): Tensor { return this.to('float32'); }
  long(): Tensor { return this.to('int64'); }

  // ---------------------------------------------------------------- in place (optimisers, buffers, activations)
  zero_(): this { callOp('aten::zero_', this); return this; }
  /** In-place ReLU; autograd allows it where nothing saved the input for backward (after a conv, BN or add). */
  relu_(): this { callOp('aten::relu_', this); return this; }
  copy_(src: Tensor): this { callOp('aten::copy_', this, src); return this; }
  mul_(s: TensorLike): this {
    callOp(typeof s === 'number' ? 'aten::mul_.Scalar' : 'aten::mul_.Tensor', this, s); return this;
  }
  /** In-place add; a BigInt operand keeps integer tensors integral. */
  add_(o: TensorLike | bigint, alpha = 1): this {
    if (typeof o === 'bigint') callOp('aten::add_.Scalar', this, o, BigInt(alpha));
    else callOp(typeof o === 'number' ? 'aten::add_.Scalar' : 'aten::add_.Tensor', this, o, alpha);
    return this;
  }

  toString(): string {
    return `Tensor(${this.dtype}[${this.shape.join(', ')}], ${this.device})`;
  }
}

const DTYPES = new Set<string>(['uint8', 'int32', 'int64', 'float32', 'float64', 'bool']);
function isDType(s: string): s is DType {
  return DTYPES.has(s);
}
