import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../lib/engine/backend';
import { localGradientEngine } from '../lib/engine/local-engine';
import { resolveHyperparameters } from '../lib/model/hyperparams';
import { buildModel } from '../lib/model/cnn';
import { disposeTensors, toTensors, type LabeledTensors } from '../lib/data/tensors';
import { takeRows } from '../lib/data/split';
import { train, TrainingDivergedError } from '../lib/training/train';
import { type EpochLog } from '../lib/training/epoch-log';
import { realData } from './data-fixture';
import { asResult, assertClose } from './wasm-parity';

const quiet = { onEpochEnd: () => {} };

async function smallData(trainCount: number, validationCount: number): Promise<{ train: LabeledTensors; validation: LabeledTensors }> {
  await selectBackend();
  const { train: t } = await realData();
  const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  return { train: toTensors(takeRows(t, ids(0, trainCount))), validation: toTensors(takeRows(t, ids(trainCount, validationCount))) };
}

test('a few Adam steps on real images lower the loss', async () => {
  const data = await smallData(1024, 256);
  const hp = resolveHyperparameters({ epochs: 4, batchSize: 128, learningRate: 0.003 });
  const model = buildModel(hp);
  const history = await train(model, data, hp, quiet);
  const losses = history.map((h) => h.loss);
  assert.ok(losses[3] < losses[0] * 0.8, `loss falls: ${losses.map((l) => l.toFixed(3)).join(' -> ')}`);
  assert.ok(history[3].val_accuracy > 0.5, `validation accuracy after 4 epochs: ${history[3].val_accuracy}`);
  assert.ok(history.every((h) => h.seconds > 0));
  model.dispose();
  disposeTensors(data.train, data.validation);
});

test('the same seed gives the identical history; another seed does not', async () => {
  const data = await smallData(512, 128);
  const run = async (seed: number): Promise<Omit<EpochLog, 'seconds'>[]> => {
    const hp = resolveHyperparameters({ epochs: 2, batchSize: 64, seed });
    const model = buildModel(hp);
    const history = await train(model, data, hp, quiet);
    model.dispose();
    return history.map(({ seconds: _, ...rest }) => rest);
  };
  const a = await run(5);
  assert.deepEqual(await run(5), a);
  assert.notDeepEqual(await run(6), a);
  disposeTensors(data.train, data.validation);
});

test('training three times in one process leaks no tensors', async () => {
  const data = await smallData(256, 64);
  const counts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const hp = resolveHyperparameters({ epochs: 1, batchSize: 64, seed: i });
    const model = buildModel(hp);
    await train(model, data, hp, quiet);
    model.dispose();
    counts.push(tf.memory().numTensors);
  }
  assert.equal(counts[1], counts[0], `tensor counts after each run: ${counts}`);
  assert.equal(counts[2], counts[0], `tensor counts after each run: ${counts}`);
  disposeTensors(data.train, data.validation);
});

test('a learning rate of 10 diverges: training stops with advice and keeps finite weights', async () => {
  const data = await smallData(1024, 64);
  const hp = resolveHyperparameters({ epochs: 5, batchSize: 64, learningRate: 10 });
  const model = buildModel(hp);
  const before = tf.memory().numTensors;
  await assert.rejects(train(model, data, hp, quiet), (e: unknown) => {
    assert.ok(e instanceof TrainingDivergedError);
    assert.match(e.message, /training diverged at epoch \d+, batch \d+\/16: the loss is/);
    assert.match(e.message, /Lower the learning rate \(it is 10; the original uses 0.001\)/);
    return true;
  });
  assert.equal(tf.memory().numTensors, before, 'nothing left behind');
  for (const w of model.getWeights()) assert.ok(w.dataSync().every(Number.isFinite), "weights stay finite");
  model.dispose();
  disposeTensors(data.train, data.validation);
});

test('micro-batches sum to the gradient of the whole batch', async () => {
  const data = await smallData(96, 1);
  const hp = resolveHyperparameters({ dropout: 0 });
  const model = buildModel(hp);
  const whole = await localGradientEngine(model, 96).gradients(data.train.x, data.train.y);
  const parts = await localGradientEngine(model, 40).gradients(data.train.x, data.train.y);
  assert.ok(Math.abs(whole.lossSum - parts.lossSum) < 1e-4 * whole.lossSum);
  assert.equal(whole.correct, parts.correct);
  for (const name of Object.keys(whole.grads)) {
    // Per element, a few times the errors measured: the parts sum in a different order.
    assertClose(name, asResult(parts.grads[name].dataSync()), asResult(whole.grads[name].dataSync()), 2e-8, 2e-6);
  }
  tf.dispose([...Object.values(whole.grads), ...Object.values(parts.grads)]);
  model.dispose();
  disposeTensors(data.train, data.validation);
});
