import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/engine/backend';
import { Adam } from '../../lib/training/adam';

test('Adam takes the steps tf.train.adam takes from the flat gradients, and refuses gradients of another size', async () => {
  await selectBackend();
  const shapes = [[3, 4], [4], [5]];
  const start = shapes.map((shape, k) => tf.randomNormal(shape, 0, 1, 'float32', k + 1));
  const ours = start.map((t, k) => tf.variable(t, true, `ours_${k}`));
  const theirs = start.map((t, k) => tf.variable(t, true, `theirs_${k}`));
  const adam = new Adam(ours, 0.01);
  const reference = tf.train.adam(0.01);
  for (let step = 0; step < 5; step++) {
    const grads = shapes.map((shape, k) => tf.randomNormal(shape, 0, 1 + step, 'float32', 100 * step + k));
    adam.applyGradients({ lossSum: 0, correct: 0, values: Float32Array.from(grads.flatMap((g) => [...g.dataSync()])) });
    reference.applyGradients(grads.map((tensor, k) => ({ name: theirs[k].name, tensor })));
    tf.dispose(grads);
  }
  ours.forEach((v, k) => {
    const [a, b, s] = [v.dataSync(), theirs[k].dataSync(), start[k].dataSync()];
    assert.ok(a.some((x, i) => Math.abs(x - s[i]) > 1e-2), `${v.name} moved`);
    a.forEach((x, i) => {
      assert.ok(Math.abs(x - b[i]) <= 1e-5 * Math.max(1, Math.abs(b[i])), `${v.name}[${i}]: ${x} vs tf.train.adam's ${b[i]}`);
    });
  });
  assert.throws(() => adam.applyGradients({ lossSum: 0, correct: 0, values: new Float32Array(3) }), /the gradients hold 3 values; the variables Adam updates have \d+/);
  tf.dispose([...start, ...ours, ...theirs]);
  reference.dispose();
});
