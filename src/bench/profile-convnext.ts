/**
 * Where a ConvNeXt-V2 training step spends its time: each op class of a block (depthwise conv, LayerNorm, the two
 * pointwise Linears, GELU, GRN, the residual add), forward + backward, at each stage's shape, in the layout the
 * block receives (NCHW or channels-last), and whole blocks and the whole model for comparison.
 * `node dist/src/bench/profile-convnext.js [--batch 64] [--size atto] [--reps 5]` (under the libtorch lock).
 */
import { backward, conv2d, gelu, layerNorm, manualSeed, noGrad, randn, scope, setNumThreads, tuneAllocator, type Tensor } from '../torch/index.js';
import { ConvNeXtBlock, CONVNEXT_SIZES, ConvNeXtV2, type ConvNeXtSize } from '../models/convnext-v2.js';
import { GRN } from '../nn/grn.js';
import { median } from './timing.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

tuneAllocator(); // as `batchcam train` and `batchcam bench` run (src/torch/allocator.ts)
const batch = Number(arg('batch', '64'));
const size = arg('size', 'atto') as ConvNeXtSize;
const reps = Number(arg('reps', '5'));
setNumThreads(Number(arg('threads', '2')));
manualSeed(0);

/** Median ms of `f` (fwd+bwd when `train`) over reps, after one warm-up. */
function time(f: () => Tensor, train: boolean): number {
  const run = (): void => scope(() => {
    if (train) backward(f().sum());
    else noGrad(() => f());
  });
  run();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

const { dims, depths } = CONVNEXT_SIZES[size];
const hws = [28, 14, 7];
for (const train of [true, false]) {
  console.log(`\n## ${train ? 'forward + backward' : 'forward (no grad)'}, batch ${batch}, convnextv2-${size}; ms per call; x depth = per stage`);
  console.log(`${'stage'.padEnd(7)}${'layout'.padEnd(14)}${['dwconv', 'layernorm', 'pw1', 'gelu', 'grn', 'pw2', 'add', 'block', 'x depth'].map((s) => s.padStart(10)).join('')}`);
  dims.forEach((c, s) => {
    const hw = hws[s]!;
    const block = new ConvNeXtBlock(c);
    const grn = new GRN(4 * c);
    noGrad(() => { grn.gamma.add_(0.1); grn.beta.add_(0.1); });
    for (const layout of ['nchw', 'channels-last'] as const) {
      const base = randn([batch, c, hw, hw]);
      const x = (layout === 'nchw' ? base : base.contiguous('channels-last')).requiresGrad_();
      // The tensors each op sees inside the block, in the layout the block gives them.
      const dwOut = noGrad(() => block.dwconv.forward(x));
      const nhwc = dwOut.permute([0, 2, 3, 1]).requiresGrad_(false);
      const h = randn([batch, hw, hw, 4 * c]).requiresGrad_();
      const n = randn([batch, hw, hw, c]).requiresGrad_();
      const nhwcGrad = nhwc.detach().requiresGrad_();
      const yPerm = randn([batch, hw, hw, c]).permute([0, 3, 1, 2]).requiresGrad_();
      const t = {
        dwconv: time(() => conv2d(x, block.dwconv.weight, block.dwconv.bias, { padding: 3, groups: c }), train),
        layernorm: time(() => layerNorm(nhwcGrad, [c], block.norm.weight, block.norm.bias, 1e-6), train),
        pw1: time(() => block.pwconv1.forwardChannels(n.permute([0, 3, 1, 2])), train), // as the block runs it: a 1×1 conv
        gelu: time(() => gelu(h), train),
        grn: time(() => grn.forward(h), train),
        pw2: time(() => block.pwconv2.forwardChannels(h.permute([0, 3, 1, 2])), train),
        add: time(() => x.add(yPerm), train),
        block: time(() => block.forward(x), train),
      };
      const cells = Object.values(t).map((v) => v.toFixed(2).padStart(10)).join('');
      console.log(`${String(s + 1).padEnd(7)}${layout.padEnd(14)}${cells}${(t.block * depths[s]!).toFixed(1).padStart(10)}`);
    }
  });
  const model = new ConvNeXtV2(10, size);
  const xm = randn([batch, 1, 28, 28]);
  if (train) model.train(); else model.eval();
  console.log(`whole model: ${time(() => model.forward(xm), train).toFixed(1)} ms`);
}
