import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../lib/engine/backend';
import { crossEntropyPerImage } from '../lib/model/loss';
import { trainableVariables } from '../lib/model/variables';
import { DEFAULT_HYPERPARAMETERS } from '../lib/model/hyperparams';
import { buildZooModel, type ModelName } from '../lib/model/zoo';

/** The zoo's models that the conv and batch-norm kernels carry. */
const CONV_MODELS: readonly ModelName[] = ['keras-convnet', 'bn-cnn'];
import { assertClose, forEachBuild, testImages } from './wasm-parity';

before(async () => {
  assert.equal((await selectBackend()).name, 'wasm');
});


async function gradients(name: ModelName, backend: 'cpu' | 'wasm', data: { x: Float32Array; y: Int32Array }) {
  await tf.setBackend(backend);
  const model = buildZooModel(name, { ...DEFAULT_HYPERPARAMETERS, seed: 3 });
  const variables = trainableVariables(model);
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor4d(data.x, [data.y.length, 28, 28, 1]);
    const y = tf.tensor1d(data.y, 'int32');
    return tf.variableGrads(() => tf.mean(crossEntropyPerImage(model.apply(x, { training: true }) as tf.Tensor2D, y)) as tf.Scalar, variables);
  });
  const out = {
    loss: value.dataSync()[0],
    // In trainableWeights order: names get numeric suffixes that differ between the two builds of the model.
    grads: model.trainableWeights.map((w, i) => ({ name: w.originalName, values: Float32Array.from(grads[variables[i].name].dataSync()), shape: w.shape as number[] })),
  };
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

forEachBuild(() => {
  for (const name of CONV_MODELS) {
    test(`${name}: wasm gradients of one training batch match cpu`, async (t) => {
      const data = testImages(24, 5);
      t.diagnostic(`batch: ${data.source}`);
      const expected = await gradients(name, 'cpu', data);
      const actual = await gradients(name, 'wasm', data);
      assert.ok(Math.abs(actual.loss - expected.loss) <= 1e-5 * Math.abs(expected.loss), `loss ${actual.loss} vs ${expected.loss}`);
      // Gradients are sums over the batch whose terms are as large as the model's largest gradient, not as each
      // element (a conv bias before batch norm has a gradient of pure rounding noise around 0).
      const scale = Math.max(...expected.grads.map((g) => g.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
      for (const [i, e] of expected.grads.entries()) {
        const used = assertClose(`gradient of ${e.name}`, actual.grads[i], e, 1e-4 * scale, 1e-4);
        t.diagnostic(`${e.name}: ${(used * 100).toFixed(1)}% of |a - b| <= 1e-4 max|g| + 1e-4 |b|`);
      }
    });
  }
});
