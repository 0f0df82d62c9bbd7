import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/engine/backend';
import { projectKernelConfig } from '../../lib/engine/wasm-kernels/index';
import { assertParity, forEachBuild, randomTensor } from '../helpers/wasm-parity';

before(async () => {
  assert.equal((await selectBackend()).name, 'wasm');
});

test('AvgPoolGrad and Mean (global average pooling) run the project kernels', () => {
  for (const name of ['AvgPoolGrad', 'Mean', 'ProjectMeanGrad']) {
    const registered = tf.getKernel(name, 'wasm');
    assert.ok(registered !== undefined && registered === projectKernelConfig(name), name);
  }
});

forEachBuild(() => {
  describe('average pooling', () => {
    const cases: { x: [number, number, number, number]; f: number | [number, number]; s: number | [number, number]; pad: 'valid' | 'same' }[] = [
      { x: [3, 7, 9, 5], f: 2, s: 2, pad: 'valid' },
      { x: [3, 7, 9, 5], f: 2, s: 2, pad: 'same' },
      { x: [3, 7, 9, 5], f: 3, s: 1, pad: 'same' },
      { x: [2, 9, 7, 8], f: [3, 2], s: [2, 1], pad: 'valid' },
      { x: [2, 8, 8, 3], f: 3, s: 2, pad: 'same' },
    ];
    for (const c of cases) {
      test(`x ${c.x} window ${c.f} strides ${c.s} ${c.pad}: forward and gradient`, async () => {
        const x = () => randomTensor(c.x, 1) as tf.Tensor4D;
        await assertParity('avgPool', () => tf.avgPool(x(), c.f, c.s, c.pad));
        await assertParity('avgPool gradient', () => {
          const dy = randomTensor(tf.avgPool(tf.zeros(c.x) as tf.Tensor4D, c.f, c.s, c.pad).shape, 2);
          return tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(input as tf.Tensor4D, c.f, c.s, c.pad), dy)))(x());
        });
      });
    }
  });

  describe('global average pooling (Mean over axes 1 and 2)', () => {
    for (const shape of [[3, 7, 9, 5], [2, 4, 4, 64]]) {
      test(`x ${shape}: the layer's output and gradient`, async () => {
        const layer = tf.layers.globalAveragePooling2d({});
        await assertParity('forward', () => layer.apply(randomTensor(shape, 3)) as tf.Tensor);
        await assertParity('gradient', () => {
          const dy = randomTensor([shape[0], shape[3]], 4);
          return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, dy)))(randomTensor(shape, 3));
        });
      });
    }
  });
});
