import { native, type NativeBinding } from './native.js';
import { Tensor } from './tensor.js';
import type { BatchShards } from './batch-shards.js';
import { PeerError, UsageError } from '../errors.js';

/** c10d backends: Gloo (CPU tensors) and NCCL (CUDA tensors). */
export type DistBackend = 'gloo' | 'nccl';

export const DIST_BACKENDS: readonly DistBackend[] = ['gloo', 'nccl'];

/** Where and how a process joins its group (torchrun's MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE). */
export interface ProcessGroupOptions {
  /** Host of rank 0's TCPStore (MASTER_ADDR). */
  host: string;
  /** Its port (MASTER_PORT). */
  port: number;
  rank: number;
  worldSize: number;
  backend?: DistBackend;
  /**
   * Bound on the rendezvous and on every collective, in ms (default 60 000): a peer that died or stopped answering
   * makes the waiting call throw within it instead of hanging.
   */
  timeoutMs?: number;
  /**
   * The network interface Gloo binds to (GLOO_SOCKET_IFNAME, as in PyTorch). Unset: the loopback address when
   * `host` is a loopback one (single machine), else the address this machine's hostname resolves to.
   */
  interface?: string;
}

/** Thrown when a collective or the rendezvous fails: a peer died, timed out, or the backend is missing. */
export class ProcessGroupError extends PeerError {}

type C10d = Required<Pick<NativeBinding, 'pgCreate' | 'pgDestroy' | 'pgBroadcast' | 'pgAllreduce' | 'pgAllgather' | 'pgBarrier' | 'pgAllreduceDiff'>> & Pick<NativeBinding, 'pgCreateNccl'>;

/**
 * Which c10d backends this build has (Gloo needs libgloo-dev at build time; NCCL a CUDA libtorch built with NCCL,
 * plus nccl.h and the CUDA headers, see native/configure.cjs). NCCL is bound but has not run on a GPU yet.
 */
export function distBackends(): { gloo: boolean; nccl: boolean } {
  return native.c10dBackends();
}

function c10d(backend: DistBackend): C10d {
  const have = distBackends();
  if (backend === 'nccl' && (!have.nccl || !native.pgCreateNccl)) {
    throw new UsageError('--dist-backend nccl: this build of batchcam has no NCCL process group (it needs the addon built ' +
      'against a CUDA libtorch with NCCL: LIBTORCH=/path/to/torch npm rebuild, README "More than one process"); use --dist-backend gloo');
  }
  if (!have.gloo || !native.pgCreate) {
    throw new UsageError('data-parallel training needs c10d/Gloo, which this build of the native addon lacks: ' +
      'install libgloo-dev (apt-get install -y libgloo-dev) and rebuild the addon (npm rebuild batchcam)');
  }
  return native as NativeBinding & C10d;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;

/**
 * A c10d process group of `worldSize` processes (torch.distributed's default group): rank 0 serves a TCPStore at
 * host:port, every rank joins it, and a ProcessGroupGloo (CPU tensors) or ProcessGroupNCCL (CUDA tensors, each rank
 * on its own GPU; in blocking-wait mode) connects them all. Collectives are synchronous; each waits at most
 * `timeoutMs`, so a dead peer surfaces as a ProcessGroupError.
 * Every rank must issue the same collectives in the same order, as with torch.distributed.
 */
export class ProcessGroup implements BatchShards {
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: DistBackend;
  readonly timeoutMs: number;
  readonly #c: C10d;
  #id: number | null;

  private constructor(c: C10d, id: number, rank: number, worldSize: number, backend: DistBackend, timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    this.#c = c;
    this.#id = id;
    this.rank = rank;
    this.worldSize = worldSize;
    this.backend = backend;
  }

  /** Joins (rank 0: creates) the group; returns once all `worldSize` ranks have arrived, or throws after the timeout. */
  static create(o: ProcessGroupOptions): ProcessGroup {
    const backend = o.backend ?? 'gloo';
    const c = c10d(backend);
    if (!Number.isInteger(o.worldSize) || o.worldSize < 1) throw new RangeError(`ProcessGroup: worldSize must be a positive integer, got ${o.worldSize}`);
    if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.worldSize) {
      throw new RangeError(`ProcessGroup: rank must be an integer in [0, ${o.worldSize}), got ${o.rank}`);
    }
    if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new RangeError(`ProcessGroup: port must be in [1, 65535], got ${o.port}`);
    const timeout = o.timeoutMs ?? 60_000;
    const deviceHost = o.interface ? '' : LOOPBACK.test(o.host) ? '127.0.0.1' : '';
    if (backend === 'nccl') {
      // Read by ProcessGroupNCCL: wait() then blocks and throws after the timeout, as Gloo's does; a user's value wins.
      process.env.NCCL_BLOCKING_WAIT ??= '1';
      process.env.TORCH_NCCL_BLOCKING_WAIT ??= '1';
    }
    try {
      const id = backend === 'nccl'
        ? c.pgCreateNccl!(o.host, o.port, o.rank, o.worldSize, timeout)
        : c.pgCreate(o.host, o.port, o.rank, o.worldSize, timeout, deviceHost, o.interface ?? '');
      return new ProcessGroup(c, id, o.rank, o.worldSize, backend, timeout);
    } catch (e) {
      throw new ProcessGroupError(`rank ${o.rank} of ${o.worldSize}: joining the process group at ${o.host}:${o.port} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  #call<T>(what: string, f: (id: number) => T): T {
    if (this.#id === null) throw new ProcessGroupError(`ProcessGroup.${what}: the group was destroyed`);
    try {
      return f(this.#id);
    } catch (e) {
      // With two ranks the peer is known; with more, Gloo does not say which one failed (the launcher does).
      const peer = this.worldSize === 2 ? `rank ${1 - this.rank}` : 'a peer';
      throw new ProcessGroupError(`rank ${this.rank} of ${this.worldSize}: ${what} failed: ${peer} died or did not answer within ` +
        `the timeout (${(e as Error).message.split('\n')[0]})`, { cause: e });
    }
  }

  /** Copies rank `root`'s tensors into every rank's (in place; shapes and dtypes must agree). */
  broadcast(tensors: readonly Tensor[], root = 0): void {
    this.#call('broadcast', (id) => this.#c.pgBroadcast(id, tensors.map((t) => t.handle), root));
  }

  /** Sums each tensor over the ranks, in place; several tensors (one dtype) travel as one coalesced collective. */
  allReduce(tensors: readonly Tensor[]): void {
    this.#call('all-reduce', (id) => this.#c.pgAllreduce(id, tensors.map((t) => t.handle)));
  }

  /** Every rank's `t`, in rank order (new tensors). */
  allGather(t: Tensor): Tensor[] {
    return this.#call('all-gather', (id) => this.#c.pgAllgather(id, t.handle).map((h) => new Tensor(h)));
  }

  /** The sum of `t` over the ranks as a new tensor, differentiable: its gradient is again summed over the ranks
   * (torch.distributed.nn.functional.all_reduce), so a loss built on it back-propagates into every rank's inputs. */
  allReduceSum(t: Tensor): Tensor {
    return this.#call('all-reduce', (id) => new Tensor(this.#c.pgAllreduceDiff(id, t.handle)));
  }

  /** BatchShards: one shard per rank. */
  get count(): number {
    return this.worldSize;
  }

  /** BatchShards: the differentiable sum over the ranks (`allReduceSum`). */
  sum(t: Tensor): Tensor {
    return this.allReduceSum(t);
  }

  /** Waits until every rank has reached it. */
  barrier(): void {
    this.#call('barrier', (id) => this.#c.pgBarrier(id));
  }

  /** Leaves the group and closes its connections (rank 0 also stops its store). */
  destroy(): void {
    if (this.#id === null) return;
    this.#c.pgDestroy(this.#id);
    this.#id = null;
  }
}
