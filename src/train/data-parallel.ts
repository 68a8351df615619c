import { cat, noGrad, ProcessGroup, scope, zeros, type DistBackend, type Tensor } from '../torch/index.js';
import type { Module } from '../nn/module.js';
import type { PlainBatch } from '../data/batching/data-loader.js';
import { gatherRows } from '../data/sampling/gather-rows.js';
import { UsageError } from '../errors.js';
import { OptionError, type TrainConfig } from './options.js';

/** Gradient bucket size for the all-reduce (DDP's default, 25 MiB of float32). */
const BUCKET_ELEMENTS = (25 * 1024 * 1024) / 4;

/** Where this process sits in a data-parallel job: torchrun's environment variables. */
export interface DistEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
}

/**
 * The data-parallel job this process belongs to, from RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT
 * (what torchrun, `batchcam train --nproc-per-node`, SLURM wrappers and Kubeflow's PyTorchJob set); null when
 * WORLD_SIZE is unset or 1 (one process). A partial or malformed set is a UsageError naming the variable.
 */
export function distEnv(env: NodeJS.ProcessEnv = process.env): DistEnv | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '1') return null;
  const int = (name: string, min: number, max: number, def?: number): number => {
    const raw = env[name];
    if (raw === undefined && def !== undefined) return def;
    const v = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isInteger(v) || v < min || v > max) {
      throw new UsageError(`${name}=${raw ?? '(unset)'}: expected an integer in [${min}, ${max}] (WORLD_SIZE=${env.WORLD_SIZE} asks for data-parallel training; ` +
        'set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT as torchrun does, or use batchcam train --nproc-per-node N)');
    }
    return v;
  };
  const worldSize = int('WORLD_SIZE', 1, 65536);
  const rank = int('RANK', 0, worldSize - 1);
  const masterAddr = env.MASTER_ADDR ?? '';
  if (!masterAddr) throw new UsageError('MASTER_ADDR is unset: data-parallel training (WORLD_SIZE > 1) needs the address of rank 0, e.g. MASTER_ADDR=127.0.0.1');
  return { rank, worldSize, localRank: int('LOCAL_RANK', 0, 65535, rank), masterAddr, masterPort: int('MASTER_PORT', 1, 65535) };
}

/**
 * The device this rank computes on: `cuda` without an index means the local rank's GPU (`cuda:LOCAL_RANK`, one
 * process per GPU as torchrun and NCCL expect); `cpu` and an explicit `cuda:N` are kept.
 */
export function rankDevice(device: string, env: DistEnv | null): string {
  return env && device === 'cuda' ? `cuda:${env.localRank}` : device;
}

/** Refuses a data-parallel setting that cannot work (before anything on disk changes); nothing for one process. */
export function checkDataParallel(cfg: TrainConfig, env: DistEnv | null): void {
  if (!env) return;
  if (cfg.batchSize % env.worldSize !== 0) {
    throw new OptionError(`--batch-size ${cfg.batchSize} is the global batch of all ${env.worldSize} processes and must divide evenly among them; ` +
      `use a multiple of ${env.worldSize}, e.g. ${Math.max(1, Math.round(cfg.batchSize / env.worldSize)) * env.worldSize}`);
  }
  const unsupported = ([['lambdaProtoContrast', '--lambda-proto-contrast'], ['lambdaBatchContrast', '--lambda-batch-contrast'],
    ['lambdaBackground', '--lambda-background'], ['lambdaMining', '--lambda-mining']] as const).filter(([k]) => cfg[k] > 0).map(([, f]) => f);
  if (unsupported.length) {
    throw new OptionError(`${unsupported.join(', ')}: not available in data-parallel training yet (WORLD_SIZE=${env.worldSize}); train them in one process`);
  }
  if (cfg.dropPath > 0) {
    throw new OptionError(`--drop-path ${cfg.dropPath}: stochastic depth draws from each process's own generator, so data-parallel runs would ` +
      'not match one process; use --drop-path 0 with WORLD_SIZE > 1');
  }
}

/**
 * A process of a data-parallel job, the DistributedDataParallel of this trainer: every rank holds the whole model,
 * trains on its shard of each (global) batch, and after backward the gradients are summed in flattened buckets
 * and averaged, so every rank takes the same optimiser step. The losses see the whole batch through the group
 * (`BatchShards`), so world × (1/world-sized shard) is the same step as one process on the whole batch.
 */
export class DataParallel {
  constructor(readonly group: ProcessGroup, readonly env: DistEnv, readonly device = 'cpu') {}

  /** Joins the job's process group (rank 0 hosts the TCPStore at MASTER_ADDR:MASTER_PORT). */
  static join(env: DistEnv, backend: DistBackend, timeoutMs: number, device = 'cpu'): DataParallel {
    if (backend === 'nccl' && !device.startsWith('cuda')) {
      throw new UsageError(`--dist-backend nccl reduces CUDA tensors only; train with --device cuda (rank r then uses cuda:LOCAL_RANK), or use --dist-backend gloo on the CPU`);
    }
    const group = ProcessGroup.create({
      host: env.masterAddr, port: env.masterPort, rank: env.rank, worldSize: env.worldSize, backend, timeoutMs,
      interface: process.env.GLOO_SOCKET_IFNAME || undefined,
    });
    return new DataParallel(group, env, rankDevice(device, env));
  }

  get rank(): number {
    return this.env.rank;
  }

  get worldSize(): number {
    return this.env.worldSize;
  }

  /** Copies rank 0's parameters and buffers into every rank's model (torch DDP does this at construction). */
  broadcastModel(model: Module): void {
    this.group.broadcast([...model.stateDict().values()]);
  }

  /**
   * Rank `rank`'s shard of a global batch: samples rank, rank + world, … (DistributedSampler's interleaving, so
   * the shards of a batch are the batch). Sizes differ by at most one when the batch does not divide evenly.
   */
  shard(batch: PlainBatch): PlainBatch {
    const w = this.worldSize;
    const pick = Int32Array.from({ length: Math.max(0, Math.ceil((batch.size - this.rank) / w)) }, (_, k) => this.rank + k * w);
    const [, c, h, wd] = batch.shape;
    const row = c * h * wd;
    return {
      x: gatherRows(batch.x, pick, row), y: gatherRows(batch.y, pick, 1), indices: gatherRows(batch.indices, pick, 1),
      size: pick.length, shape: [pick.length, c, h, wd], epoch: batch.epoch, batchIndex: batch.batchIndex,
    };
  }

  /**
   * Sums every gradient over the ranks and divides by the world size, in flattened buckets of ≤ 25 MiB (one
   * coalesced all-reduce); a parameter without a gradient counts as zero and gets one, so all ranks agree.
   */
  allReduceGradients(params: readonly Tensor[]): void {
    noGrad(() => scope(() => {
      for (const p of params) if (p.grad === null) p.grad = zeros(p.shape, { dtype: p.dtype, device: p.device });
      const grads = params.map((p) => p.grad!);
      const buckets: Tensor[][] = [];
      let size = Infinity;
      for (const g of grads) {
        if (size + g.numel > BUCKET_ELEMENTS) {
          buckets.push([]);
          size = 0;
        }
        buckets[buckets.length - 1]!.push(g);
        size += g.numel;
      }
      const flat = buckets.map((b) => cat(b.map((g) => g.reshape([-1]))));
      this.group.allReduce(flat);
      flat.forEach((f, i) => {
        f.mul_(1 / this.worldSize);
        let at = 0;
        for (const g of buckets[i]!) {
          g.copy_(f.slice(0, at, at + g.numel).reshape(g.shape));
          at += g.numel;
        }
      });
    }));
  }

  /** Whether any rank asks to stop (one tiny all-reduce), so all ranks stop after the same step. */
  anyRank(flag: boolean): boolean {
    return scope(() => {
      // On the group's side of the bus: NCCL reduces only CUDA tensors.
      const t = zeros([1], { device: this.group.backend === 'nccl' ? this.device : 'cpu' }).add(flag ? 1 : 0);
      this.group.allReduce([t]);
      return t.item() > 0;
    });
  }

  /** Leaves the group. */
  destroy(): void {
    this.group.destroy();
  }
}
