import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/engine/backend';
import { projectKernelConfig } from '../../lib/engine/wasm-kernels/index';
import { assertParity, forEachBuild, randomTensor } from '../helpers/wasm-parity';

before(async () => {
  assert.equal((await selectBackend()).name, 'wasm');
});

forEachBuild(() => describe('Conv2DBackpropInput', () => {
  test('is the project kernel', () => {
    const registered = tf.getKernel('Conv2DBackpropInput', 'wasm');
    assert.ok(registered !== undefined && registered === projectKernelConfig('Conv2DBackpropInput'));
  });

  const cases: { x: [number, number, number, number]; f: [number, number]; cout: number; s: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding }[] = [
    { x: [3, 7, 9, 5], f: [3, 3], cout: 6, s: 1, pad: 'valid' },
    { x: [3, 7, 9, 5], f: [3, 3], cout: 6, s: 1, pad: 'same' },
    { x: [3, 7, 9, 5], f: [3, 3], cout: 6, s: 2, pad: 'valid' },
    { x: [3, 7, 9, 5], f: [3, 3], cout: 6, s: 2, pad: 'same' },
    { x: [2, 8, 6, 21], f: [3, 3], cout: 19, s: 2, pad: 'same' },
    { x: [2, 9, 7, 37], f: [3, 2], cout: 11, s: 1, pad: 'same' },
    { x: [2, 7, 8, 3], f: [2, 3], cout: 4, s: [1, 2], pad: 'valid' },
    { x: [2, 6, 7, 5], f: [3, 3], cout: 4, s: 1, pad: [[0, 0], [3, 1], [0, 4], [0, 0]] },
  ];
  for (const [i, c] of cases.entries()) {
    test(`x ${c.x} filter ${c.f}x${c.cout} strides ${c.s} pad ${JSON.stringify(c.pad)}`, async (t) => {
      const filterShape: [number, number, number, number] = [c.f[0], c.f[1], c.x[3], c.cout];
      const used = await assertParity(`case ${i}`, () => {
        const w = randomTensor(filterShape, 100 + i) as tf.Tensor4D;
        const outShape = tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, w, c.s, c.pad).shape;
        const dy = randomTensor(outShape, 200 + i);
        return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w },
          { inputShape: c.x, strides: c.s, pad: c.pad, dataFormat: 'NHWC' }) as tf.Tensor;
      });
      t.diagnostic(`${(used * 100).toFixed(1)}% of the tolerance`);
    });
  }

  test('the gradient of tf.conv2d with respect to its input uses it', async () => {
    await assertParity('conv2d input gradient', () => {
      const x = randomTensor([3, 7, 9, 5], 7) as tf.Tensor4D;
      const w = randomTensor([3, 3, 5, 8], 8) as tf.Tensor4D;
      return tf.grad((input: tf.Tensor) => tf.sum(tf.square(tf.conv2d(input as tf.Tensor4D, w, 1, 'same'))))(x);
    });
  });
}));
