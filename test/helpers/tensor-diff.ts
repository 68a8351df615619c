import * as T from '../../src/torch/index.js';

/** max |a − b| over all elements of two tensors of one shape (broadcasting is the caller's business). */
export function maxTensorDiff(a: T.Tensor, b: T.Tensor): number {
  return T.scope(() => a.sub(b).abs().amax().item());
}
