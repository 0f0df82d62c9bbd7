import { loadFashionMnist, type FashionMnist } from '../../lib/data/fashion-mnist';
import { takeRows } from '../../lib/data/split';
import { toTensors, type LabeledTensors } from '../../lib/data/tensors';
import { selectBackend } from '../../lib/engine/backend';

let cached: Promise<FashionMnist> | null = null;

/** The shipped Fashion-MNIST files, read once per test process. */
export function realData(): Promise<FashionMnist> {
  cached ??= loadFashionMnist({ download: false });
  return cached;
}

/** `count` consecutive training images from row `from`, as tensors on the project's backend. */
export async function realRows(from: number, count: number): Promise<LabeledTensors> {
  await selectBackend();
  const { train } = await realData();
  return toTensors(takeRows(train, Array.from({ length: count }, (_, i) => from + i)));
}

/** The first `trainCount` training images, and the `validationCount` after them. */
export async function smallData(trainCount: number, validationCount: number): Promise<{ train: LabeledTensors; validation: LabeledTensors }> {
  return { train: await realRows(0, trainCount), validation: await realRows(trainCount, validationCount) };
}
