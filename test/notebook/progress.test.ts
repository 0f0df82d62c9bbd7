import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES } from '../../lib/data/classes';
import { disposeTensors } from '../../lib/data/tensors';
import { buildModel } from '../../lib/model/cnn';
import { resolveHyperparameters } from '../../lib/model/hyperparams';
import { notebookProgress } from '../../lib/notebook/progress';
import { consoleProgress } from '../../lib/training/console-progress';
import { train } from '../../lib/training/train';
import { smallData } from '../helpers/data-fixture';

const row = /<tr><td>(\d+)<\/td><td>\d+\.\d<\/td>(<td>\d\.\d{4}<\/td>){4}<\/tr>/g;

test('notebookProgress in train()\'s callbacks: engine, a bar per batch, one table row per epoch, then done', async () => {
  const data = await smallData(256, 64);
  const hp = resolveHyperparameters({ epochs: 2, batchSize: 64 });
  const model = buildModel(hp);
  const frames: string[] = [];
  const logged: unknown[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void logged.push(args);
  try {
    await train(model, data, hp, { callbacks: notebookProgress(hp.epochs, { html: (s) => frames.push(s) }) });
  } finally {
    console.log = log;
  }
  assert.deepEqual(logged, [], 'the live display replaces the printed lines');
  // The default engine for a batch of one chunk; the second form on a single core.
  assert.match(frames[0], /<p>Training with (main thread for steps of 64 images \(one chunk\), \d+ worker threads? for evaluation|main thread, chunks of 64)<\/p>/);
  assert.ok(frames.some((f) => /Epoch 1\/2 █{15}░{15} batch 2\/4 - loss: \d\.\d{4} - accuracy: \d\.\d{4}/.test(f)));
  assert.ok(frames.some((f) => /Epoch 2\/2 █{30} batch 4\/4/.test(f)));
  const last = frames[frames.length - 1];
  assert.deepEqual([...last.matchAll(row)].map((m) => m[1]), ['1', '2']);
  assert.match(last, /Done: 2 epochs in \d+\.\d s/);
  model.dispose();
  disposeTensors(data.train, data.validation);
});

test('train() prints the engine and a Keras line per epoch unless verbose is 0; consoleProgress writes them where told', async () => {
  const data = await smallData(128, 64);
  const hp = resolveHyperparameters({ epochs: 2, batchSize: 64 });
  const model = buildModel(hp);
  const printed: string[] = [];
  const log = console.log;
  console.log = (line: string) => void printed.push(line);
  try {
    await train(model, data, hp);
    const byDefault = printed.splice(0);
    assert.equal(byDefault.length, 3, byDefault.join('\n'));
    assert.match(byDefault[0], /^training with /);
    assert.match(byDefault[1], /^Epoch 1\/2 - \d+\.\ds - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$/);
    await train(model, data, hp, { verbose: 0 });
    assert.deepEqual(printed, [], 'verbose 0 prints nothing');
    const elsewhere: string[] = [];
    await train(model, data, hp, { callbacks: consoleProgress((line) => elsewhere.push(line)) });
    assert.deepEqual(printed, [], 'its own progress display replaces the default lines');
    assert.equal(elsewhere.length, 3);
  } finally {
    console.log = log;
  }
  model.dispose();
  disposeTensors(data.train, data.validation);
});

test('notebookProgress as model.fit\'s callbacks, next to earlyStopping', async () => {
  const data = await smallData(128, 64);
  const model = buildModel(resolveHyperparameters({}));
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const oneHot = (y: tf.Tensor1D) => tf.oneHot(tf.cast(y, 'int32'), NUM_CLASSES);
  const [y, validationY] = [oneHot(data.train.y), oneHot(data.validation.y)];
  const frames: string[] = [];
  await model.fit(data.train.x, y, {
    epochs: 2,
    batchSize: 32,
    validationData: [data.validation.x, validationY],
    callbacks: [notebookProgress(undefined, { html: (s) => frames.push(s) }), tf.callbacks.earlyStopping({ patience: 5 })],
  });
  assert.match(frames[0], /<p>Training with model\.fit on \w+<\/p>/);
  assert.ok(frames.some((f) => /Epoch 1\/2 █+░* batch 1\/4 - loss: \d\.\d{4} - accuracy: \d\.\d{4}/.test(f)));
  const last = frames[frames.length - 1];
  assert.deepEqual([...last.matchAll(row)].map((m) => m[1]), ['1', '2'], 'every metric of both epochs is a number');
  assert.match(last, /Done: 2 epochs in \d+\.\d s/);
  tf.dispose([y, validationY]);
  model.dispose();
  disposeTensors(data.train, data.validation);
});
