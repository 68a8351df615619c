import { keep, logicalOr, noGrad, scope, stack, tensor, where, zeros, type Tensor } from '../torch/index.js';
import { StateDictError } from '../nn/module.js';
import type { BatchShards } from '../torch/index.js';
import { classMeanMaps } from './class-means.js';
import { scaleByMax } from './scale-by-max.js';

/**
 * Where prototypes come from (docs/method.md §3): an EMA of detached CAMs, the class-mean training image, or the
 * class's per-pixel median training image (robust to what only a minority of a class's images contain).
 */
export type PrototypeSource = 'cam' | 'image' | 'image-median';

export const PROTOTYPE_SOURCES: readonly PrototypeSource[] = ['cam', 'image', 'image-median'];

/** Whether a source's prototypes are fixed images computed once from the training split. */
export function isImageSource(source: PrototypeSource): boolean {
  return source !== 'cam';
}

/** Options of a prototype bank; the defaults are those of docs/method.md §3. */
export interface PrototypeBankOptions {
  /** C, the number of classes. */
  numClasses: number;
  /** H×W of the maps (the CAMs' size after upsampling, e.g. 28×28). */
  height: number;
  width: number;
  /**
   * 'cam' (default): EMA of the batch-mean CAM per class. 'image' / 'image-median': fixed class-mean / per-pixel
   * class-median images (see `initFromImages`).
   */
  source?: PrototypeSource;
  /** EMA momentum m in P ← m·P + (1 − m)·batch mean (default 0.9). */
  momentum?: number;
  /** Only correctly classified samples update the bank (default true). */
  correctOnly?: boolean;
  /** Device the bank lives on (default 'cpu'); `update` moves it to the CAMs' device if they differ. */
  device?: string;
}

/** The state-dict keys of a bank: prototypes (C×H×W float32) and initialised (C, uint8 0/1; the key keeps the spelling checkpoints have always used). */
export const PROTOTYPE_STATE_KEYS = ['prototypes', 'initialized'] as const;

/**
 * A bank of C class prototypes (C×H×W, float32) with a per-class initialised flag (docs/method.md §3). It holds plain
 * tensors outside autograd: updates run under noGrad on detached CAMs, and the prototypes never require grad, so
 * no loss back-propagates into them. The bank owns its tensors until `dispose()`.
 */
export class PrototypeBank {
  readonly numClasses: number;
  readonly height: number;
  readonly width: number;
  readonly source: PrototypeSource;
  readonly momentum: number;
  readonly correctOnly: boolean;
  #protos: Tensor;
  #init: Tensor;

  constructor(o: PrototypeBankOptions) {
    for (const k of ['numClasses', 'height', 'width'] as const) {
      const v = o[k];
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`PrototypeBank: ${k} must be a positive integer, got ${v}`);
    }
    const momentum = o.momentum ?? 0.9;
    if (!(momentum >= 0 && momentum <= 1)) throw new RangeError(`PrototypeBank: momentum must be in [0, 1], got ${momentum}`);
    const source = o.source ?? 'cam';
    if (!PROTOTYPE_SOURCES.includes(source)) throw new RangeError(`PrototypeBank: unknown source '${String(source)}'`);
    this.numClasses = o.numClasses;
    this.height = o.height;
    this.width = o.width;
    this.source = source;
    this.momentum = momentum;
    this.correctOnly = o.correctOnly ?? true;
    const device = o.device ?? 'cpu';
    this.#protos = keep(zeros([o.numClasses, o.height, o.width], { device }));
    this.#init = keep(zeros([o.numClasses], { dtype: 'uint8', device }));
  }

  /**
   * A new image-source bank filled by `initFromImages` (docs/method.md §3, `--prototype-source image`).
   * `images` N×1×H×W or N×H×W, `labels` int64 N.
   */
  static fromImages(images: Tensor, labels: Tensor, numClasses: number,
    o: { device?: string; source?: 'image' | 'image-median' } = {}): PrototypeBank {
    const [h, w] = images.shape.slice(-2) as [number, number];
    const bank = new PrototypeBank({ numClasses, height: h, width: w, source: o.source ?? 'image', device: o.device ?? images.device });
    try {
      return bank.initFromImages(images, labels);
    } catch (e) {
      bank.dispose();
      throw e;
    }
  }

  /**
   * Sets every class present in `labels` to its mean image ('image'; one one-hot matmul) or its per-pixel median
   * image ('image-median'; the lower median, as torch.median) scaled to [0,1] by its max, and marks it initialised
   * (classes absent from `labels` are left as they were). Computed once, from the whole training split. `images` N×C×H×W (channels averaged) or N×H×W of non-negative intensities — raw pixels (uint8 or [0,1] floats), not
   * mean/std-standardised ones; `labels` int64 N. Returns this.
   */
  initFromImages(images: Tensor, labels: Tensor): this {
    const n = images.shape[0]!;
    const { numClasses: c, height: h, width: w } = this;
    if (!((images.ndim === 3 || images.ndim === 4) && images.shape.slice(-2).join(',') === `${h},${w}`)) {
      throw new RangeError(`PrototypeBank.initFromImages: expected N×C×${h}×${w} or N×${h}×${w} images, got [${images.shape}]`);
    }
    // Colour images: the prototype is of the intensity, the mean over channels (a single channel is used as is).
    if (images.ndim === 4 && images.shape[1]! > 1) {
      const grey = noGrad(() => images.to('float32').mean([1]));
      try {
        return this.initFromImages(grey, labels);
      } finally {
        grey.dispose();
      }
    }
    checkLabels(labels, n, 'initFromImages');
    // A standardised image has negative pixels and no meaningful "scaled by its max": refuse it.
    if (noGrad(() => scope(() => images.amin().item())) < 0) {
      throw new RangeError('PrototypeBank.initFromImages: images have negative values; pass raw (unstandardised) intensities');
    }
    noGrad(() => scope(() => {
      const x = images.reshape([n, h * w]).to('float32').to(this.device);
      const y = labels.to(this.device);
      const { means, counts } = classMeanMaps(x, y, c); // C×HW, C
      const scaled = scaleByMax(this.source === 'image-median' ? classMedians(x, y, c) : means);
      const present = counts.gt(0);
      const p = this.#protos.view([c, h * w]);
      p.copy_(where(present.unsqueeze(1), scaled, p));
      this.#init.copy_(logicalOr(present, this.#init.ne(0)).to('uint8'));
    }));
    return this;
  }

  /** The device the bank's tensors live on. */
  get device(): string {
    return this.#protos.device;
  }

  /** The bank's own C×H×W float32 prototypes (read them, do not dispose or modify them). */
  get prototypes(): Tensor {
    return this.#protos;
  }

  /** The bank's own C uint8 initialised flags (1 = initialised). */
  get initialised(): Tensor {
    return this.#init;
  }

  /** The initialised flags as JS booleans (reads the tensor back to the host). */
  initialisedClasses(): boolean[] {
    return this.#init.toArray().map((v) => v !== 0);
  }

  /** Moves the bank to a device; returns this. */
  to(device: string): this {
    if (device !== this.device) {
      const p = keep(this.#protos.to(device));
      const i = keep(this.#init.to(device));
      this.#protos.dispose();
      this.#init.dispose();
      this.#protos = p;
      this.#init = i;
    }
    return this;
  }

  /**
   * One EMA step from a batch: for each class c with samples in the batch (correct ones only when `correctOnly`),
   * m_c = mean of their detached CAMs; an uninitialised class takes P_c = m_c and becomes initialised, an
   * initialised one P_c ← momentum·P_c + (1 − momentum)·m_c; other classes are untouched. Vectorised: per-class sums
   * are one one-hot matmul. `cams` B×H×W (or B×1×H×W), `labels` int64 B, `correct` bool B (needed when
   * `correctOnly`). A no-op for an image bank, whose prototypes are fixed. With `shards` (data-parallel), the per-class
   * sums and counts are summed over every process's shard first, so the bank stays identical on every process and
   * equal to one process's bank updated from the whole batch.
   */
  update(cams: Tensor, labels: Tensor, correct?: Tensor, shards?: BatchShards): void {
    if (isImageSource(this.source)) return;
    const b = cams.shape[0]!;
    const hw = this.height * this.width;
    if (cams.numel !== b * hw || cams.shape.slice(-2).join(',') !== `${this.height},${this.width}`) {
      throw new RangeError(`PrototypeBank.update: expected B×${this.height}×${this.width} CAMs, got [${cams.shape}]`);
    }
    checkLabels(labels, b, 'update');
    if (this.correctOnly && !correct) {
      throw new Error('PrototypeBank.update: the bank is correctOnly, so it needs the B-vector of correct predictions');
    }
    if (correct && (correct.ndim !== 1 || correct.shape[0] !== b)) {
      throw new RangeError(`PrototypeBank.update: expected a correct mask of shape [${b}], got [${correct.shape}]`);
    }
    this.to(cams.device);
    const dev = this.device;
    noGrad(() => scope(() => {
      const x = cams.detach().reshape([b, hw]).to('float32');
      const { means: mean, counts } = classMeanMaps(x, labels.to(dev), this.numClasses, {
        ...(this.correctOnly && correct && { weights: correct }), ...(shards && { shards }),
      }); // C×HW, C
      const present = counts.gt(0).unsqueeze(1); // C×1
      const init = this.#init.ne(0).unsqueeze(1);
      const p = this.#protos.view([this.numClasses, hw]);
      const ema = p.mul(this.momentum).add(mean.mul(1 - this.momentum));
      const next = where(present, where(init, ema, mean), p);
      p.copy_(next);
      this.#init.copy_(logicalOr(present.squeeze(1), init.squeeze(1)).to('uint8'));
    }));
  }

  /** P_{y_i} for each label: B×H×W float32 on the bank's device, outside autograd. */
  prototypesFor(labels: Tensor): Tensor {
    return scope(() => this.#protos.indexSelect(0, labels.to(this.device)));
  }

  /** Whether each label's class is initialised: bool B on the bank's device. */
  initialisedMask(labels: Tensor): Tensor {
    return scope(() => this.#init.indexSelect(0, labels.to(this.device)).ne(0));
  }

  /**
   * The bank's checkpoint state: `prototypes` (C×H×W float32) and `initialised` (C uint8). The tensors are the
   * bank's own, as in `Module.stateDict`: read or save them, do not dispose them.
   */
  stateDict(): Map<string, Tensor> {
    return new Map([['prototypes', this.#protos], ['initialized', this.#init]]);
  }

  /** Copies a saved state into the bank (cast to its dtypes and device); both keys must be present with its shapes. */
  loadStateDict(sd: Map<string, Tensor>): void {
    const problems: string[] = [];
    for (const [k, own] of [['prototypes', this.#protos], ['initialized', this.#init]] as const) {
      const src = sd.get(k);
      if (!src) problems.push(`missing key '${k}' (expected shape [${own.shape}])`);
      else if (src.shape.join(',') !== own.shape.join(',')) problems.push(`key '${k}': expected shape [${own.shape}], found [${src.shape}]`);
    }
    for (const k of sd.keys()) if (!(PROTOTYPE_STATE_KEYS as readonly string[]).includes(k)) problems.push(`unexpected key '${k}'`);
    if (problems.length) throw new StateDictError(`state dict does not fit PrototypeBank: ${problems.join('; ')}`);
    noGrad(() => scope(() => {
      this.#protos.copy_(sd.get('prototypes')!.to('float32').to(this.device));
      // Any non-zero flag counts as initialised, whatever dtype it was saved in.
      this.#init.copy_(sd.get('initialized')!.ne(0).to('uint8').to(this.device));
    }));
  }

  /** Frees the bank's tensors. */
  dispose(): void {
    this.#protos.dispose();
    this.#init.dispose();
  }
}

function checkLabels(labels: Tensor, n: number, what: string): void {
  if (labels.ndim !== 1 || labels.shape[0] !== n || labels.dtype !== 'int64') {
    throw new RangeError(`PrototypeBank.${what}: expected int64 labels of shape [${n}], got ${labels.dtype} [${labels.shape}]`);
  }
}

/** C×HW per-pixel medians of the rows of `x` (N×HW) in each class of `y` (int64 N); zeros for an absent class. */
function classMedians(x: Tensor, y: Tensor, c: number): Tensor {
  const labels = y.toArray();
  const rows: number[][] = Array.from({ length: c }, () => []);
  labels.forEach((label, i) => rows[label]!.push(i));
  const hw = x.shape[1]!;
  return stack(rows.map((r) => (r.length === 0
    ? zeros([hw], { device: x.device })
    : x.indexSelect(0, tensor(r, [r.length], { dtype: 'int64', device: x.device })).median(0))));
}
