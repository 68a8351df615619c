import { grad, noGrad, type Tensor } from '../../src/torch/index.js';

/**
 * Compares autograd's gradient of a scalar f(inputs) with central finite differences, element by element
 * (float64 inputs). Returns the largest absolute error relative to max(1, |numeric|).
 */
export function gradcheck(f: (inputs: Tensor[]) => Tensor, inputs: Tensor[], eps = 1e-6): number {
  for (const t of inputs) t.requiresGrad_(true);
  const out = f(inputs);
  const analytic = grad(out, inputs).map((g) => g!.data() as Float64Array);
  out.dispose();
  let worst = 0;
  // Perturb in place without recording; evaluate f with autograd on, since f may itself call grad().
  inputs.forEach((t, k) => {
      const flat = noGrad(() => t.view([-1]));
      const n = t.numel;
      for (let i = 0; i < n; i++) {
        const el = noGrad(() => flat.select(0, i));
        noGrad(() => el.add_(eps));
        const up = f(inputs);
        const fu = up.item();
        noGrad(() => el.add_(-2 * eps));
        const dn = f(inputs);
        const fd = dn.item();
        noGrad(() => el.add_(eps));
        const numeric = (fu - fd) / (2 * eps);
        worst = Math.max(worst, Math.abs(numeric - analytic[k]![i]!) / Math.max(1, Math.abs(numeric)));
        for (const u of [el, up, dn]) u.dispose();
      }
      flat.dispose();
  });
  return worst;
}
