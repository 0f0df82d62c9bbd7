/**
 * In a file of its own: node --test runs each file in its own process, so the
 * peak measured is this training step's, whatever other tests ran or will run.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../lib/util/rng';
import { selectBackend } from '../../lib/engine/backend';
import { localGradientEngine } from '../../lib/engine/local-engine';
import { buildModel } from '../../lib/model/cnn';
import { DEFAULT_HYPERPARAMETERS } from '../../lib/model/hyperparams';

before(async () => {
  const info = await selectBackend();
  assert.equal(info.name, 'wasm', `expected the wasm backend, got ${info.name}: ${info.reason}`);
});

test('one training step at batch 4096 stays under 3 GB of peak RSS on wasm', async (t) => {
  await tf.setBackend('wasm');
  const model = buildModel(DEFAULT_HYPERPARAMETERS);
  const engine = localGradientEngine(model);
  const rng = new Rng(11);
  const x = tf.tensor4d(Float32Array.from({ length: 4096 * 784 }, () => rng.next()), [4096, 28, 28, 1]);
  const y = tf.tensor1d(Float32Array.from({ length: 4096 }, () => rng.int(10)));
  const { lossSum } = await engine.gradients(x, y);
  assert.ok(Number.isFinite(lossSum), `loss ${lossSum}`);
  const peakMB = process.resourceUsage().maxRSS / 1024;
  t.diagnostic(`peak RSS ${peakMB.toFixed(0)} MB`);
  assert.ok(peakMB < 3000, `peak RSS ${peakMB.toFixed(0)} MB, expected < 3000 MB`);
  tf.dispose([x, y]);
  model.dispose();
});
