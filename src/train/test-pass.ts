import { crossEntropy, noGrad, scope, tensor } from '../torch/index.js';
import type { Classifier } from '../models/classifier.js';
import { DataLoader } from '../data/batching/data-loader.js';
import { deviceBatch } from '../data/batching/device-batch.js';
import type { LoadedDataset } from '../data/dataset.js';
import type { DataParallel } from './data-parallel.js';

/**
 * Test accuracy and mean CE in eval mode, in a stable order: the figures each epoch's metrics.jsonl line reports.
 * Data-parallel (`dp`): each rank evaluates every world-th batch and the sums are all-reduced, so every rank gets
 * the whole test set's figures. Every module's mode is restored afterwards (BatchNorm stays frozen under --freeze-bn).
 */
export function evaluateAccuracy(model: Classifier, data: Pick<LoadedDataset, 'test'>, batchSize = 256, dp?: DataParallel): { accuracy: number; loss: number } {
  const loader = new DataLoader(data.test, { batchSize });
  let correct = 0;
  let loss = 0;
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  model.eval();
  noGrad(() => {
    for (const b of loader.batches(0)) {
      if (dp && b.batchIndex % dp.worldSize !== dp.rank) continue;
      scope(() => {
        const t = deviceBatch(b, model.device);
        const logits = model.forward(t.x);
        correct += logits.argmax(1).eq(t.y).sum().item();
        loss += crossEntropy(logits, t.y, 'sum').item();
      });
    }
  });
  for (const [m, training] of modes) m.training = training;
  if (dp) {
    [correct, loss] = scope(() => {
      const t = tensor([correct, loss], [2], { dtype: 'float64' });
      dp.group.allReduce([t]);
      return t.toArray() as [number, number];
    });
  }
  return { accuracy: correct / data.test.n, loss: loss / data.test.n };
}
