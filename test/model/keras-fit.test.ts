import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { takeRows } from '../../lib/data/split';
import { selectBackend } from '../../lib/engine/backend';
import { resolveHyperparameters } from '../../lib/model/hyperparams';
import { buildZooModel } from '../../lib/model/zoo';
import { disposeData, prepareData } from '../../lib/pipeline';
import { realData } from '../helpers/data-fixture';

/** The project's own tensors (prepareData), from the first images of the real files. */
async function preparedSubset(trainImages: number) {
  await selectBackend();
  const raw = await realData();
  const first = (n: number) => Array.from({ length: n }, (_, i) => i);
  return prepareData({ train: takeRows(raw.train, first(trainImages)), test: takeRows(raw.test, first(100)) }, resolveHyperparameters());
}

test('Keras habits: compile, then fit with early stopping on the project tensors, and the loss falls', async () => {
  const data = await preparedSubset(2560);
  const model = buildZooModel('seed', resolveHyperparameters());
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const history = await model.fit(data.train.x, data.train.y, {
    epochs: 4,
    batchSize: 128,
    validationData: [data.validation.x, data.validation.y],
    callbacks: [tf.callbacks.earlyStopping({ monitor: 'val_loss', patience: 2 })],
    verbose: 0,
  });
  const loss = history.history.loss as number[];
  assert.ok(loss.length >= 2, `at least two epochs ran: ${loss.length}`);
  assert.ok(loss[loss.length - 1] < loss[0] * 0.8, `the loss falls: ${loss.map((l) => l.toFixed(3)).join(' -> ')}`);
  assert.equal((history.history.val_loss as number[]).length, loss.length);
  const [testLoss, testAccuracy] = (model.evaluate(data.test.x, data.test.y) as tf.Scalar[]).map((t) => t.dataSync()[0]);
  assert.ok(testLoss < 2 && testAccuracy > 0.5, `test loss ${testLoss}, accuracy ${testAccuracy}`);
  model.dispose();
  disposeData(data);
});

// The reason the project's labels are float32 (lib/data/tensors.ts). When an upgrade of tfjs makes
// this fail, its sparseCategoricalCrossentropy takes int32 labels and the note there can go.
test('tfjs 4.22 still rejects int32 labels in sparseCategoricalCrossentropy', async () => {
  await selectBackend();
  const model = buildZooModel('mlp', resolveHyperparameters({ model: 'mlp' }));
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const [x, y] = [tf.zeros([4, 28, 28, 1]), tf.tensor1d([0, 1, 2, 3], 'int32')];
  await assert.rejects(model.fit(x, y, { epochs: 1, verbose: 0 }), /Argument 'x' passed to 'floor' must be float32 tensor, but got int32 tensor/);
  tf.dispose([x, y]);
  model.dispose();
});
