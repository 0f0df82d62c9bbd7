import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageLimitFromEnvironment, loadFashionMnist } from '../../lib/data/fashion-mnist';

test('FASHION_MNIST_IMAGES keeps the first N images of each split, the same bytes as a full load', async () => {
  const full = await loadFashionMnist({ download: false });
  const few = await loadFashionMnist({ download: false, limit: 7 });
  for (const split of ['train', 'test'] as const) {
    assert.equal(few[split].count, 7);
    assert.deepEqual(few[split].labels, full[split].labels.subarray(0, 7));
    assert.deepEqual(few[split].images, full[split].images.subarray(0, 7 * 784));
  }
  assert.equal((await loadFashionMnist({ download: false, limit: 100_000 })).test.count, 10_000, 'a limit above the split size keeps it whole');
  await assert.rejects(loadFashionMnist({ download: false, limit: 0 }), /limit must be a positive integer, got 0/);
});

test('FASHION_MNIST_IMAGES is read from the environment and checked', () => {
  assert.equal(imageLimitFromEnvironment({}), undefined);
  assert.equal(imageLimitFromEnvironment({ FASHION_MNIST_IMAGES: '' }), undefined);
  assert.equal(imageLimitFromEnvironment({ FASHION_MNIST_IMAGES: '3000' }), 3000);
  assert.throws(() => imageLimitFromEnvironment({ FASHION_MNIST_IMAGES: '1e3x' }), /FASHION_MNIST_IMAGES must be a positive integer, got "1e3x"/);
});
