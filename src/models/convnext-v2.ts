import { gelu, gelu_, isGradEnabled, scope, type Tensor } from '../torch/index.js';
import { Conv2d } from '../nn/conv2d.js';
import { DropPath } from '../nn/drop-path.js';
import { GRN } from '../nn/grn.js';
import { LayerNorm, LayerNorm2d } from '../nn/layer-norm.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { Classifier, type SplitForward } from './classifier.js';

/** ConvNeXt-V2 block: depthwise 7×7 → LayerNorm → Linear 4× → GELU → GRN → Linear → drop-path, residual. */
export class ConvNeXtBlock extends Module {
  readonly dwconv: Conv2d;
  readonly norm: LayerNorm;
  readonly pwconv1: Linear;
  readonly grn: GRN;
  readonly pwconv2: Linear;
  readonly dropPath: DropPath;

  constructor(readonly dim: number, dropPath = 0) {
    super();
    this.dwconv = this.child('dwconv', new Conv2d(dim, dim, 7, { padding: 3, groups: dim, init: 'trunc-normal' }));
    this.norm = this.child('norm', new LayerNorm(dim, 1e-6));
    this.pwconv1 = this.child('pwconv1', new Linear(dim, 4 * dim, 'trunc-normal'));
    this.grn = this.child('grn', new GRN(4 * dim));
    this.pwconv2 = this.child('pwconv2', new Linear(4 * dim, dim, 'trunc-normal'));
    this.dropPath = this.child('drop_path', new DropPath(dropPath));
  }

  /**
   * Channels-last inside: x is N×C×H×W stored as N×H×W×C (made so if it is not). The depthwise conv and the two
   * pointwise Linears (as 1×1 convs, `Linear.forwardChannels`) run in oneDNN's preferred layout, forward and backward;
   * LayerNorm, GELU and GRN work on the last dim and see the same storage permuted to N×H×W×C: no layout copies.
   */
  forward(x: Tensor): Tensor {
    return scope(() => {
      const xc = x.contiguous('channels-last');
      const h = this.norm.forward(this.dwconv.forward(xc).permute([0, 2, 3, 1])).permute([0, 3, 1, 2]); // LN over C, views
      const u = this.pwconv1.forwardChannels(h).permute([0, 2, 3, 1]); // N×H×W×4C
      if (!isGradEnabled()) {
        // Inference: no graph keeps the intermediates, so GELU, GRN and the residual add overwrite their inputs
        // (fewer N×H×W×4C buffers to write).
        const y = this.pwconv2.forwardChannels(this.grn.forward_(gelu_(u)).permute([0, 3, 1, 2]));
        return this.dropPath.forward(y).add_(xc);
      }
      const y = this.pwconv2.forwardChannels(this.grn.forward(gelu(u)).permute([0, 3, 1, 2]));
      return xc.add(this.dropPath.forward(y));
    });
  }

  macsAt(height: number, width: number): number {
    return this.dwconv.macsAt(height, width) + height * width * (this.pwconv1.weight.numel + this.pwconv2.weight.numel);
  }
}

/** Stage sizes of the 28-px layout: depths and widths of the three 28/14/7 stages. */
export const CONVNEXT_SIZES = {
  atto: { depths: [2, 2, 6], dims: [40, 80, 160] },
  tiny: { depths: [3, 3, 9], dims: [96, 192, 384] },
} as const;
export type ConvNeXtSize = keyof typeof CONVNEXT_SIZES;

/** Stage sizes of the official ImageNet layout (facebookresearch/ConvNeXt-V2, timm's convnextv2_*): four stages. */
export const CONVNEXT_IMAGENET_SIZES = {
  atto: { depths: [2, 2, 6, 2], dims: [40, 80, 160, 320] },
  femto: { depths: [2, 2, 6, 2], dims: [48, 96, 192, 384] },
  pico: { depths: [2, 2, 6, 2], dims: [64, 128, 256, 512] },
  nano: { depths: [2, 2, 8, 2], dims: [80, 160, 320, 640] },
  tiny: { depths: [3, 3, 9, 3], dims: [96, 192, 384, 768] },
} as const;
export type ConvNeXtImageNetSize = keyof typeof CONVNEXT_IMAGENET_SIZES;

/** 'small': our 28-px adaptation (3×3 stride-1 stem, three stages); 'imagenet': the official 4×4 stride-4 patchify stem and four stages. */
export type ConvNeXtLayout = 'small' | 'imagenet';

/**
 * ConvNeXt-V2. The 'small' layout, for 1×28×28: stem conv3×3 stride 1 + LayerNorm (28×28), stages at 28, 14 and 7
 * joined by LayerNorm + conv2×2 stride 2; CAM layers 'stage3' (default) and 'stage2'. The 'imagenet' layout is the
 * official one: a 4×4 stride-4 patchify stem + LayerNorm and four stages (input/4 … input/32; 7×7 at 224 px, 2×2 from
 * 64 px); CAM layers 'stage4' (default) and 'stage3'. Both: head GAP → LayerNorm → FC (per-sample); keys follow the
 * official implementation (downsample_layers, stages, norm, head), so its checkpoints load as they are.
 */
export class ConvNeXtV2 extends Classifier {
  override readonly headPrefix = 'head.';
  override readonly stemKey = 'downsample_layers.0.0.weight';
  readonly camLayers: readonly string[];
  readonly downsample: Sequential[];
  readonly stages: Sequential[];
  readonly norm: LayerNorm;
  readonly head: Linear;
  readonly dims: readonly number[];
  readonly depths: readonly number[];

  constructor(readonly numClasses = 10, readonly size: ConvNeXtSize | ConvNeXtImageNetSize = 'atto', readonly inChannels = 1, dropPathRate = 0,
    readonly layout: ConvNeXtLayout = 'small') {
    super();
    const sizes: Readonly<Record<string, { depths: readonly number[]; dims: readonly number[] }>> = layout === 'imagenet' ? CONVNEXT_IMAGENET_SIZES : CONVNEXT_SIZES;
    if (!Object.prototype.hasOwnProperty.call(sizes, size)) throw new RangeError(`ConvNeXtV2: no size '${size}' in the ${layout} layout (${Object.keys(sizes).join(', ')})`);
    const { depths, dims } = sizes[size]!;
    const last = dims.length;
    this.camLayers = [`stage${last}`, `stage${last - 1}`];
    this.dims = dims;
    this.depths = depths;
    const total = depths.reduce((a, b) => a + b, 0);
    const dpr = (i: number): number => (total > 1 ? (dropPathRate * i) / (total - 1) : 0);
    const stem = layout === 'imagenet'
      ? new Conv2d(inChannels, dims[0]!, 4, { stride: 4, init: 'trunc-normal' })
      : new Conv2d(inChannels, dims[0]!, 3, { padding: 1, init: 'trunc-normal' });
    const down: Sequential[] = [new Sequential([stem, new LayerNorm2d(dims[0]!, 1e-6)])];
    for (let i = 1; i < dims.length; i++) {
      down.push(new Sequential([new LayerNorm2d(dims[i - 1]!, 1e-6), new Conv2d(dims[i - 1]!, dims[i]!, 2, { stride: 2, init: 'trunc-normal' })]));
    }
    const dsList = this.child('downsample_layers', new ModuleList(down));
    this.downsample = dsList.items;
    let k = 0;
    const stages = dims.map((d, i) => new Sequential(Array.from({ length: depths[i]! }, () => new ConvNeXtBlock(d, dpr(k++)))));
    this.stages = this.child('stages', new ModuleList(stages)).items;
    this.norm = this.child('norm', new LayerNorm(dims[dims.length - 1]!, 1e-6));
    this.head = this.child('head', new Linear(dims[dims.length - 1]!, numClasses, 'trunc-normal'));
  }

  forwardSplit(x: Tensor, layer = this.defaultCamLayer): SplitForward {
    this.checkLayer(layer);
    const stop = Number(layer.slice(5)) - 1;
    return scope(() => {
      let h = x;
      let activation: Tensor | null = null;
      for (let i = 0; i < this.stages.length; i++) {
        const d = this.downsample[i]!.forward(h);
        // Released stage by stage, not at the scope's end: without autograd one stage's input is alive, not all four.
        if (h !== x && h !== activation) h.dispose();
        h = this.stages[i]!.forward(d);
        d.dispose();
        if (i === stop) activation = h;
      }
      const logits = this.head.forward(this.norm.forward(h.mean([2, 3])));
      return { activation: activation!, logits };
    });
  }

  macsAt(height: number, width: number): number {
    let size: [number, number] = [height, width];
    let macs = this.head.weight.numel;
    this.stages.forEach((stage, i) => {
      const conv = this.downsample[i]!.layers.find((m): m is Conv2d => m instanceof Conv2d)!;
      macs += conv.macsAt(...size);
      size = conv.outputSize(...size);
      for (const b of stage.layers) macs += (b as ConvNeXtBlock).macsAt(...size);
    });
    return macs;
  }
}

/** Children named '0', '1', … without a forward of their own (PyTorch's nn.ModuleList). */
class ModuleList<M extends Module> extends Module {
  constructor(readonly items: M[]) {
    super();
    items.forEach((m, i) => this.child(String(i), m));
  }
}
