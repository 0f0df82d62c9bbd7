import { loadFashionMnist, type FashionMnist } from '../lib/data/fashion-mnist';

let cached: Promise<FashionMnist> | null = null;

/** The shipped Fashion-MNIST files, read once per test process. */
export function realData(): Promise<FashionMnist> {
  cached ??= loadFashionMnist({ download: false });
  return cached;
}
