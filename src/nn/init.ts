import { rand, randn, type Tensor } from '../torch/index.js';

/** U(−bound, bound): PyTorch's default for Conv2d/Linear is bound = 1/√fan_in (kaiming_uniform with a=√5). */
export function uniform(shape: readonly number[], bound: number): Tensor {
  const u = rand(shape);
  const scaled = u.mul(2 * bound);
  const t = scaled.sub(bound);
  u.dispose();
  scaled.dispose();
  return t;
}

/** N(0, std²) truncated to ±2·std, as timm's trunc_normal_ for ConvNeXt. */
export function truncNormal(shape: readonly number[], std: number): Tensor {
  const n = randn(shape);
  const t = n.clamp(-2, 2);
  const s = t.mul(std);
  n.dispose();
  t.dispose();
  return s;
}

/** N(0, 2/fan_out): torchvision ResNet's kaiming_normal_(mode='fan_out', nonlinearity='relu') for its convolutions. */
export function kaimingNormalFanOut(shape: readonly number[]): Tensor {
  const fanOut = shape[0]! * shape.slice(2).reduce((a, b) => a * b, 1);
  const n = randn(shape);
  const t = n.mul(Math.sqrt(2 / fanOut));
  n.dispose();
  return t;
}
