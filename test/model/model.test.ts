import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_HYPERPARAMETERS } from '../../lib/model/hyperparams';
import { buildModel } from '../../lib/model/cnn';

test('the original CNN: layers, output shapes and 173,738 parameters', () => {
  const model = buildModel(DEFAULT_HYPERPARAMETERS);
  assert.equal(model.countParams(), 173_738);
  assert.deepEqual(
    model.layers.map((l) => [l.name, l.outputShape]),
    [
      ['conv', [null, 26, 26, 32]],
      ['pool', [null, 13, 13, 32]],
      ['dropout', [null, 13, 13, 32]],
      ['flatten', [null, 5408]],
      ['hidden', [null, 32]],
      ['output', [null, 10]],
    ],
  );
  model.dispose();
});

test('filters and dense units change the parameter count as the formula says', () => {
  const model = buildModel({ ...DEFAULT_HYPERPARAMETERS, filters: 8, denseUnits: 16 });
  // conv 8*9+8, hidden 13*13*8*16+16, output 16*10+10
  assert.equal(model.countParams(), 80 + 21_648 + 170);
  model.dispose();
});

test('the seed fixes the initial weights', () => {
  const weights = (seed: number) => {
    const m = buildModel({ ...DEFAULT_HYPERPARAMETERS, seed });
    const w = m.getWeights().map((t) => Array.from(t.dataSync()));
    m.dispose();
    return w;
  };
  assert.deepEqual(weights(7), weights(7));
  assert.notDeepEqual(weights(7), weights(8));
});

test('dropout: a new mask each training call, the same sequence for the same seed, none at inference', () => {
  const x = tf.ones([1, 28, 28, 1]);
  const masks = (seed: number) => {
    const m = buildModel({ ...DEFAULT_HYPERPARAMETERS, seed, dropout: 0.5 });
    const dropout = m.getLayer('dropout');
    const h = tf.ones([1, 13, 13, 32]);
    const out = [0, 1].map(() => Array.from((dropout.apply(h, { training: true }) as tf.Tensor).dataSync()));
    const inference = Array.from((dropout.apply(h, { training: false }) as tf.Tensor).dataSync());
    m.dispose();
    return { out, inference };
  };
  const a = masks(3);
  const b = masks(3);
  assert.deepEqual(a.out, b.out);
  assert.notDeepEqual(a.out[0], a.out[1]);
  const zeros = a.out[0].filter((v) => v === 0).length;
  assert.ok(zeros > 0.4 * 5408 && zeros < 0.6 * 5408, `about half dropped, got ${zeros} of 5408`);
  assert.ok(a.out[0].every((v) => v === 0 || Math.abs(v - 2) < 1e-6), 'kept units are scaled by 1 / (1 - rate)');
  assert.ok(a.inference.every((v) => v === 1));
  x.dispose();
});
