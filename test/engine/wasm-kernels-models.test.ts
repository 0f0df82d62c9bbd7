import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { selectBackend } from '../../lib/engine/backend';
import { ZOO_MODELS, type ModelName } from '../../lib/model/settings';
import { assertClose, forEachConvPath, modelGradients, testImages } from '../helpers/wasm-parity';

before(async () => {
  assert.equal((await selectBackend()).name, 'wasm');
});

const data = testImages(24, 5);
const expected = new Map<ModelName, ReturnType<typeof modelGradients>>();
/** The cpu backend's loss and gradients, computed once per model for every path. */
const cpuGradients = (name: ModelName) => {
  if (!expected.has(name)) expected.set(name, modelGradients(name, 'cpu', data, 3));
  return expected.get(name) as ReturnType<typeof modelGradients>;
};

forEachConvPath(() => {
  for (const name of ZOO_MODELS) {
    test(`${name}: wasm gradients of one training batch match cpu`, async (t) => {
      t.diagnostic(`batch: ${data.source}`);
      const reference = await cpuGradients(name);
      const actual = await modelGradients(name, 'wasm', data, 3);
      assert.ok(Math.abs(actual.loss - reference.loss) <= 1e-5 * Math.abs(reference.loss), `loss ${actual.loss} vs ${reference.loss}`);
      // Gradients are sums over the batch whose terms are as large as the model's largest gradient, not as each
      // element (a conv bias before batch norm has a gradient of pure rounding noise around 0).
      const scale = Math.max(...reference.grads.map((g) => g.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
      let worst = 0;
      for (const [i, e] of reference.grads.entries()) {
        worst = Math.max(worst, assertClose(`gradient of ${e.name}`, actual.grads[i], e, 1e-5 * scale, 1e-5));
      }
      t.diagnostic(`${(worst * 100).toFixed(1)}% of |a - b| <= 1e-5 max|g| + 1e-5 |b| at most (measured: under 50%)`);
    });
  }
});
