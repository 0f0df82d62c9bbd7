import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { selectBackend } from '../../lib/engine/backend';
import { type ModelName } from '../../lib/model/zoo';
import { assertClose, forEachBuild, modelGradients, testImages } from '../helpers/wasm-parity';

/** The zoo's models that the conv and batch-norm kernels carry. */
const CONV_MODELS: readonly ModelName[] = ['keras-convnet', 'bn-cnn'];

before(async () => {
  assert.equal((await selectBackend()).name, 'wasm');
});

forEachBuild(() => {
  for (const name of CONV_MODELS) {
    test(`${name}: wasm gradients of one training batch match cpu`, async (t) => {
      const data = testImages(24, 5);
      t.diagnostic(`batch: ${data.source}`);
      const expected = await modelGradients(name, 'cpu', data, 3);
      const actual = await modelGradients(name, 'wasm', data, 3);
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
