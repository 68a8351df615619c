import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque libtorch tensor reference owned by the addon. */
export type Handle = { readonly __handle: unique symbol };
/** A resolved ATen operator schema. */
export type OpRef = { readonly __op: unique symbol };
/** A JS value the addon converts by the op's schema: tensors, numbers, BigInt ints, strings, lists, null. */
export type OpArg = Handle | number | bigint | boolean | string | null | undefined | readonly OpArg[];
export type OpResult = Handle | number | boolean | null | undefined | OpResult[];

/** The addon's surface; see native/ (ops.cc, tensors.cc, c10d.cc, init.cc). */
export interface NativeBinding {
  opHandle(name: string, overload: string): OpRef;
  opSchema(op: OpRef): string;
  call(op: OpRef, ...args: OpArg[]): OpResult;
  fromBuffer(data: ArrayBufferView, shape: readonly number[], scalarType: number): Handle;
  toBuffer(t: Handle): ArrayBuffer;
  shape(t: Handle): number[];
  scalarType(t: Handle): number;
  device(t: Handle): string;
  requiresGrad(t: Handle): boolean;
  setRequiresGrad(t: Handle, on: boolean): void;
  isLeaf(t: Handle): boolean;
  gradOf(t: Handle): Handle | null;
  setGrad(t: Handle, g: Handle | null): void;
  item(t: Handle): number;
  setData(t: Handle, src: Handle): void;
  dispose(t: Handle): void;
  isDisposed(t: Handle): boolean;
  liveTensors(): number;
  dataPtr(t: Handle): number;
  grad(outputs: Handle[], inputs: Handle[], gradOutputs: (Handle | null)[] | null, retainGraph: boolean,
    createGraph: boolean, allowUnused: boolean): (Handle | null)[];
  backward(tensors: Handle[], grads: (Handle | null)[] | null, retainGraph: boolean, createGraph: boolean): void;
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  manualSeed(seed: number | bigint): void;
  getRngState(): Handle;
  setRngState(state: Handle): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  cudaAvailable(): boolean;
  config(): { version: string; parallel: string; mkldnn: boolean; cuda: boolean };
  /** Which c10d backends this build of the addon has. */
  c10dBackends(): { gloo: boolean; nccl: boolean };
  /** c10d bindings (absent when the addon was built without Gloo). */
  pgCreate?(host: string, port: number, rank: number, worldSize: number, timeoutMs: number, deviceHost: string,
    deviceInterface: string): number;
  /** NCCL (absent unless the addon was built against a CUDA libtorch with NCCL: USE_C10D_NCCL). */
  pgCreateNccl?(host: string, port: number, rank: number, worldSize: number, timeoutMs: number): number;
  pgDestroy?(id: number): void;
  pgBroadcast?(id: number, tensors: Handle[], root: number): void;
  pgAllreduce?(id: number, tensors: Handle[]): void;
  pgAllgather?(id: number, t: Handle): Handle[];
  pgBarrier?(id: number): void;
  pgAllreduceDiff?(id: number, t: Handle): Handle;
  /** glibc mallopt(M_MMAP_THRESHOLD, M_TRIM_THRESHOLD); true when glibc took both (see allocator.ts). */
  tuneAllocator(mmapThreshold: number, trimThreshold: number): boolean;
}

function load(): NativeBinding {
  const here = dirname(fileURLToPath(import.meta.url));
  // src/torch in the source tree and dist/src/torch after tsc both sit below the package root.
  const candidates = [join(here, '..', '..', 'native'), join(here, '..', '..', '..', 'native')]
    .map((d) => join(d, 'build', 'Release', 'batchcam_native.node'));
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error('batchcam: the native addon is not built (native/build/Release/batchcam_native.node is missing). ' +
      'Install libtorch (`apt-get install libtorch-dev`, or set LIBTORCH) and run `npm ci` or `npm run install`.');
  }
  const binding = createRequire(import.meta.url)(path) as NativeBinding;
  // libtorch 1.13 starts with one intra-op thread on small machines; use the cores we have.
  const threads = Number(process.env.BATCHCAM_THREADS ?? 0) || Math.max(1, Math.min(2, binding.getNumThreads() * 2));
  binding.setNumThreads(threads);
  return binding;
}

/** The loaded addon. */
export const native: NativeBinding = load();
