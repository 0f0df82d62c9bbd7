import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_HYPERPARAMETERS, epochsFromEnvironment, HYPERPARAMETER_RANGES, HyperparameterError, resolveHyperparameters } from '../../lib/model/hyperparams';

test('defaults are the original notebook settings', () => {
  assert.deepEqual(resolveHyperparameters(), {
    model: 'seed',
    epochs: 25,
    batchSize: 4096,
    learningRate: 0.001,
    dropout: 0.2,
    filters: 32,
    denseUnits: 32,
    validationFraction: 0.2,
    seed: 42,
  });
  assert.equal(resolveHyperparameters({ epochs: 3 }).epochs, 3);
  assert.equal(resolveHyperparameters({ epochs: 3 }).batchSize, DEFAULT_HYPERPARAMETERS.batchSize);
});

test('every bad value is refused with its name and value', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ epochs: 0 }, /epochs must be a positive integer, got 0/],
    [{ epochs: 2.5 }, /epochs must be a positive integer, got 2.5/],
    [{ batchSize: -1 }, /batchSize must be a positive integer, got -1/],
    [{ learningRate: 0 }, /learningRate must be a finite number > 0, got 0/],
    [{ learningRate: Number.NaN }, /learningRate .* got NaN$/],
    [{ learningRate: Infinity }, /learningRate must be a finite number > 0, got Infinity$/],
    [{ epochs: -Infinity }, /epochs must be a positive integer, got -Infinity$/],
    [{ dropout: 1 }, /dropout must be a number in \[0, 1\), got 1/],
    [{ dropout: -0.1 }, /dropout .* got -0.1/],
    [{ validationFraction: 0 }, /validationFraction must be a number in \(0, 1\), got 0/],
    [{ filters: 0 }, /filters must be a positive integer/],
    [{ denseUnits: '32' }, /denseUnits must be a positive integer, got "32"/],
    [{ seed: -1 }, /seed must be an integer in \[0, 2\^32\), got -1/],
    [{ learningrate: 0.1 }, /unknown hyperparameter "learningrate"/],
    [{ model: 'resnet' }, /hyperparameter model must be one of seed, keras-convnet, bn-cnn, mlp, better, got "resnet"/],
    [{ model: null }, /hyperparameter model must be one of .*, got null/],
    [{ model: 'mlp', filters: 64 }, /filters is 64, but it shapes only the seed and better models; model "mlp" is a fixed architecture/],
    [{ model: 'bn-cnn', dropout: 0.5 }, /dropout is 0.5, but it shapes only the seed and better models/],
  ];
  for (const [overrides, message] of cases) {
    assert.throws(() => resolveHyperparameters(overrides as never), message, JSON.stringify(overrides));
  }
});

test('each range is one entry of one table: its check refuses, its words are the message, its key is on the error', () => {
  for (const [key, { range }] of Object.entries(HYPERPARAMETER_RANGES)) {
    assert.throws(
      () => resolveHyperparameters({ [key]: Number.NaN }),
      (e: Error) => e instanceof HyperparameterError && e.key === key && e.message === `hyperparameter ${key} must be ${range}, got NaN`,
      key,
    );
  }
  assert.throws(() => resolveHyperparameters({ model: 'mlp', denseUnits: 8 }), (e: Error) => e instanceof HyperparameterError && e.key === 'denseUnits');
  assert.throws(() => resolveHyperparameters({ model: 'vgg' as never }), (e: Error) => e instanceof HyperparameterError && e.key === 'model');
});

test('EPOCHS from the environment overrides the epoch count, and only a valid one', () => {
  assert.deepEqual(epochsFromEnvironment({}), {});
  assert.deepEqual(epochsFromEnvironment({ EPOCHS: '' }), {});
  assert.deepEqual(epochsFromEnvironment({ EPOCHS: '2' }), { epochs: 2 });
  assert.throws(() => epochsFromEnvironment({ EPOCHS: 'two' }), /EPOCHS must be a positive integer, got "two"/);
  assert.throws(() => epochsFromEnvironment({ EPOCHS: '0' }), /EPOCHS must be a positive integer, got "0"/);
});
