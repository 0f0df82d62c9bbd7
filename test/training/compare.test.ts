import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/engine/backend';
import { compareSettings } from '../../lib/training/compare';
import { resolveHyperparameters } from '../../lib/model/hyperparams';
import { disposeTensors, toTensors } from '../../lib/data/tensors';
import { takeRows } from '../../lib/data/split';
import { realData } from '../helpers/data-fixture';

test('compare settings: one history per setting, a diverging one flagged, no models left behind', async () => {
  await selectBackend();
  const { train } = await realData();
  const rows = (from: number, n: number) => takeRows(train, Array.from({ length: n }, (_, i) => from + i));
  const data = { train: toTensors(rows(0, 256)), validation: toTensors(rows(256, 64)) };
  const base = resolveHyperparameters({ epochs: 2, batchSize: 64 });
  const tensorsBefore = tf.memory().numTensors;
  const names: string[] = [];
  const runs = await compareSettings(
    base,
    { 'lr 0.001': {}, 'lr 0.003': { learningRate: 0.003 }, 'lr 10000': { learningRate: 1e4 } },
    data,
    (name) => ({ verbose: 0, callbacks: { onEpochEnd: async () => void names.push(name) } }),
  );
  assert.equal(tf.memory().numTensors, tensorsBefore, 'every model is disposed');
  assert.deepEqual(
    runs.map((r) => [r.name, r.hp.learningRate, r.hp.batchSize, r.diverged]),
    [
      ['lr 0.001', 0.001, 64, false],
      ['lr 0.003', 0.003, 64, false],
      ['lr 10000', 1e4, 64, true],
    ],
  );
  assert.deepEqual(
    runs.slice(0, 2).map((r) => r.history.map((h) => h.epoch)),
    [
      [1, 2],
      [1, 2],
    ],
  );
  assert.notDeepEqual(runs[0].history, runs[1].history, 'the settings differ');
  assert.ok(runs[2].history.length < 2, 'the diverged run stops early');
  assert.deepEqual(names.slice(0, 4), ['lr 0.001', 'lr 0.001', 'lr 0.003', 'lr 0.003'], 'progress is reported per setting');
  await assert.rejects(compareSettings(base, { typo: { learningRate: -1 } }, data), /hyperparameter learningRate must be a finite number > 0, got -1/);
  disposeTensors(data.train, data.validation);
});
