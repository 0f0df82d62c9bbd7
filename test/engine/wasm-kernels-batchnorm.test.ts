import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/engine/backend';
import { projectGradientConfig, projectKernelConfig } from '../../lib/engine/wasm-kernels/index';
import { assertParity, forEachBuild, randomTensor } from '../helpers/wasm-parity';

before(async () => {
  assert.equal((await selectBackend()).name, 'wasm');
});

test('Mean and FusedBatchNorm run the project kernels and gradients', () => {
  for (const name of ['Mean', 'FusedBatchNorm', 'Sum']) {
    const registered = tf.getKernel(name, 'wasm');
    assert.ok(registered !== undefined && registered === projectKernelConfig(name), `${name} kernel`);
  }
  for (const name of ['Mean', 'FusedBatchNorm']) {
    assert.ok(tf.getGradient(name) === projectGradientConfig(name), `${name} gradient`);
  }
});

/** Batch norm as tfjs-layers computes it in training: batch moments, then tf.batchNorm. */
function trainingBatchNorm(x: tf.Tensor, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined): tf.Tensor {
  const axes = [...Array(x.rank - 1).keys()];
  const { mean, variance } = tf.moments(x, axes);
  return tf.batchNorm(x, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-3);
}

forEachBuild(() => {
  describe('Mean', () => {
    for (const [shape, axis] of [[[3, 7, 9, 5], [0, 1, 2]], [[5, 11], 0], [[3, 7, 9, 5], [1, 2]], [[3, 7, 9, 5], [0, 1, 2, 3]]] as const) {
      test(`of ${shape} over ${axis} and its gradient`, async () => {
        await assertParity('mean', () => tf.mean(randomTensor([...shape], 1), [...[axis].flat()]));
        await assertParity('mean gradient', () => {
          const dy = randomTensor(tf.mean(tf.zeros([...shape]), [...[axis].flat()]).shape, 2);
          return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.mean(x, [...[axis].flat()]), dy)))(randomTensor([...shape], 3));
        });
      });
    }
  });

  describe('batch normalisation', () => {
    for (const shape of [[3, 7, 9, 5], [6, 13], [2, 5, 4, 37]]) {
      for (const affine of [true, false]) {
        const c = shape[shape.length - 1];
        const label = `${shape}${affine ? '' : ' without scale and offset'}`;
        test(`forward ${label}`, async () => {
          await assertParity('forward', () =>
            trainingBatchNorm(randomTensor(shape, 4), affine ? randomTensor([c], 5) : undefined, affine ? randomTensor([c], 6) : undefined));
          await assertParity('inference', () =>
            tf.batchNorm(randomTensor(shape, 4), randomTensor([c], 7), tf.abs(randomTensor([c], 8)), randomTensor([c], 6), randomTensor([c], 5), 1e-3));
        });
        // Without scale tfjs's own gradient fails on every backend (it clones an undefined tensor); the layers always pass one.
        if (!affine) continue;
        test(`gradients ${shape}`, async () => {
          const grads = (wrt: number) => () => {
            const dy = randomTensor(shape, 9);
            const f = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.sum(tf.mul(trainingBatchNorm(tf.mul(x, 3), gamma, beta), dy));
            return tf.grads(f)([randomTensor(shape, 4), randomTensor([c], 5), randomTensor([c], 6)])[wrt];
          };
          await assertParity('dx', grads(0));
          await assertParity('dgamma', grads(1));
          await assertParity('dbeta', grads(2));
        });
      }
    }
  });
});
