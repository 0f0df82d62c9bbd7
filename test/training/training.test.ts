import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/engine/backend';
import type { GradientEngine } from '../../lib/engine/gradient-engine';
import { localGradientEngine } from '../../lib/engine/local-engine';
import { chunkSizeFor } from '../../lib/engine/chunk-size';
import { resolveHyperparameters } from '../../lib/model/hyperparams';
import { buildModel } from '../../lib/model/cnn';
import { disposeTensors, toTensors } from '../../lib/data/tensors';
import { takeRows } from '../../lib/data/split';
import { parallelGradientEngine } from '../../lib/engine/parallel-engine';
import { NUM_CLASSES } from '../../lib/data/classes';
import { predictProbabilities } from '../../lib/model/predict';
import { DIVERGED_LOSS } from '../../lib/training/divergence';
import { train, TrainingDivergedError } from '../../lib/training/train';
import { type EpochLog } from '../../lib/training/epoch-log';
import { realData, smallData } from '../helpers/data-fixture';
import { asResult, assertClose } from '../helpers/wasm-parity';

const quiet = { verbose: 0 } as const;

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
    assert.match(e.message, /training diverged at epoch \d+, batch \d+\/16: (the loss is NaN|the mean loss over the last \d+ steps \(\d+ images\) is \d+\.\d\d)\. The rule: /);
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
  const whole = await localGradientEngine(model, { chunkSize: 96 }).gradients(data.train.x, data.train.y);
  const parts = await localGradientEngine(model, { chunkSize: 40 }).gradients(data.train.x, data.train.y);
  assert.ok(Math.abs(whole.lossSum - parts.lossSum) < 1e-4 * whole.lossSum);
  assert.equal(whole.correct, parts.correct);
  // Per element, a few times the errors measured: the parts sum in a different order.
  assertClose('gradients', asResult(parts.values), asResult(whole.values), 2e-8, 2e-6);
  model.dispose();
  disposeTensors(data.train, data.validation);
});

test('batch size 1: one confidently wrong image does not stop healthy training', async () => {
  const { train: t } = await realData();
  const data = await smallData(2048, 256);
  const model = buildModel(resolveHyperparameters({}));
  // A model sure enough of its answers that a wrong label costs more than DIVERGED_LOSS.
  await train(model, data, resolveHyperparameters({ epochs: 3, batchSize: 64, learningRate: 0.003 }), quiet);
  const rows = Array.from({ length: 256 }, (_, i) => i);
  const probabilities = await predictProbabilities(model, data.train.x.slice(0, 256));
  let worst = { row: 0, label: 0, p: 1 };
  probabilities.forEach((p, i) => {
    if (p < worst.p) worst = { row: Math.floor(i / NUM_CLASSES), label: i % NUM_CLASSES, p };
  });
  assert.ok(-Math.log(worst.p) > DIVERGED_LOSS, `the most confidently wrong label costs only ${-Math.log(worst.p)}`);
  const images = takeRows(t, rows);
  images.labels[worst.row] = worst.label;
  const mislabelled = { train: toTensors(images), validation: data.validation };
  let highest = 0;
  const history = await train(model, mislabelled, resolveHyperparameters({ epochs: 1, batchSize: 1, learningRate: 1e-5 }), {
    verbose: 0,
    callbacks: { onBatchEnd: async (_batch, logs) => void (highest = Math.max(highest, logs!.loss as number)) },
  });
  assert.ok(highest > DIVERGED_LOSS, `a step's loss reached ${highest}: the old one-batch rule would have stopped here`);
  assert.equal(history.length, 1);
  assert.ok(history[0].loss < 1, `training stayed healthy: loss ${history[0].loss}`);
  model.dispose();
  disposeTensors(data.train, data.validation, mislabelled.train);
});

test('tf.callbacks.earlyStopping stops when val_loss stops improving', async () => {
  // 128 training images and a high learning rate: the model soon overfits and val_loss rises.
  const data = await smallData(128, 512);
  const hp = resolveHyperparameters({ epochs: 20, batchSize: 32, learningRate: 0.01 });
  const model = buildModel(hp);
  const history = await train(model, data, hp, { verbose: 0, callbacks: [tf.callbacks.earlyStopping({ patience: 0 })] });
  const val = history.map((h) => h.val_loss);
  assert.ok(history.length < hp.epochs, `trained all ${hp.epochs} epochs: ${val.map((v) => v.toFixed(3)).join(' ')}`);
  // patience 0: every epoch but the last improved on the best so far; the last did not.
  for (let e = 1; e < val.length - 1; e++) assert.ok(val[e] < Math.min(...val.slice(0, e)), `epoch ${e + 1} improved: ${val}`);
  assert.ok(val[val.length - 1] >= Math.min(...val.slice(0, -1)), `the last epoch did not improve: ${val}`);
  model.dispose();
  disposeTensors(data.train, data.validation);
});

test('Keras callbacks see every epoch and batch, with fit()-style logs; tf.Callback instances get the model and params', async () => {
  const data = await smallData(256, 64);
  const hp = resolveHyperparameters({ epochs: 2, batchSize: 64 });
  const model = buildModel(hp);
  const events: string[] = [];
  const logKeys = (logs?: tf.Logs) => Object.keys(logs ?? {}).sort().join(',');
  const custom: tf.CustomCallbackArgs = {
    onTrainBegin: () => void events.push('trainBegin'),
    onEpochBegin: (epoch) => void events.push(`epochBegin ${epoch}`),
    onBatchBegin: (batch, logs) => void events.push(`batchBegin ${batch} size ${logs?.size}`),
    onBatchEnd: (batch, logs) => void events.push(`batchEnd ${batch} ${logKeys(logs)}`),
    onEpochEnd: (epoch, logs) => void events.push(`epochEnd ${epoch} ${logKeys(logs)}`),
    onTrainEnd: () => void events.push('trainEnd'),
  };
  class Probe extends tf.Callback {
    seen: { model: unknown; params: tf.Callback['params'] } | null = null;
    async onTrainBegin() {
      this.seen = { model: this.model, params: this.params };
    }
  }
  const probe = new Probe();
  const history = await train(model, data, hp, { verbose: 0, callbacks: [custom, probe] });
  const batchEvents = (epoch: number) => [
    `epochBegin ${epoch}`,
    ...[0, 1, 2, 3].flatMap((b) => [`batchBegin ${b} size 64`, `batchEnd ${b} acc,accuracy,batch,loss,size`]),
    `epochEnd ${epoch} acc,accuracy,loss,val_acc,val_accuracy,val_loss`,
  ];
  assert.deepEqual(events, ['trainBegin', ...batchEvents(0), ...batchEvents(1), 'trainEnd']);
  assert.equal(history.length, 2);
  assert.equal(probe.seen?.model, model);
  assert.equal(probe.seen?.params.epochs, 2);
  assert.equal(probe.seen?.params.samples, 256);
  assert.equal(probe.seen?.params.batchSize, 64);
  assert.match(String(probe.seen?.params.engine), /main thread|worker thread/);
  model.dispose();
  disposeTensors(data.train, data.validation);
});

test('model.stopTraining set in onBatchEnd stops after that batch; the cut epoch is logged with its validation', async () => {
  const data = await smallData(256, 64);
  const hp = resolveHyperparameters({ epochs: 3, batchSize: 64 });
  const model = buildModel(hp);
  const batches: number[] = [];
  const epochs: number[] = [];
  const history = await train(model, data, hp, {
    verbose: 0,
    callbacks: {
      onBatchEnd: (batch) => {
        batches.push(batch);
        if (batch === 1) model.stopTraining = true;
      },
      onEpochEnd: (epoch) => void epochs.push(epoch),
    },
  });
  assert.deepEqual(batches, [0, 1]);
  assert.deepEqual(epochs, [0]);
  assert.equal(history.length, 1);
  assert.ok(Number.isFinite(history[0].val_loss) && Number.isFinite(history[0].loss));
  model.dispose();
  disposeTensors(data.train, data.validation);
});

test('a seed gives the bit-identical history on the main thread and on 1 or 2 worker threads', async () => {
  const data = await smallData(512, 128);
  const hp = resolveHyperparameters({ epochs: 2, batchSize: 128, seed: 3 });
  const chunkSize = 48; // 3 chunks a batch, the last one short: the workers get different shares
  const histories: Omit<EpochLog, 'seconds'>[][] = [];
  for (const workers of [0, 1, 2]) {
    const model = buildModel(hp);
    const engine =
      workers === 0 ? localGradientEngine(model, { seed: hp.seed, chunkSize }) : await parallelGradientEngine(model, { seed: hp.seed, workers, chunkSize });
    try {
      histories.push((await train(model, data, hp, { verbose: 0, engine })).map(({ seconds: _, ...rest }) => rest));
    } finally {
      await engine.dispose();
      model.dispose();
    }
  }
  assert.deepEqual(histories[1], histories[0], 'one worker');
  assert.deepEqual(histories[2], histories[0], 'two workers');
  // The default engine (whatever it picks on this machine) with the chunks of its batch size, against the main thread's.
  const withDefaults = async (engineFor?: (model: tf.LayersModel) => GradientEngine) => {
    const model = buildModel(hp);
    const engine = engineFor?.(model);
    const history = await train(model, data, hp, { verbose: 0, ...(engine && { engine }) });
    model.dispose();
    return history.map(({ seconds: _, ...rest }) => rest);
  };
  assert.deepEqual(await withDefaults(), await withDefaults((model) => localGradientEngine(model, { seed: hp.seed, chunkSize: chunkSizeFor(hp.batchSize) })), 'default engine');
  disposeTensors(data.train, data.validation);
});

test('a validation loss far above chance is overfitting, not divergence: training goes on', async () => {
  await selectBackend();
  const { train: t } = await realData();
  const rows = Array.from({ length: 128 }, (_, i) => i);
  const images = takeRows(t, rows);
  // The same images with every label moved to the next class: the better the model learns
  // the training set, the higher this "validation" loss climbs.
  const wrong = { ...images, labels: images.labels.map((y) => (y + 1) % NUM_CLASSES) };
  const data = { train: toTensors(images), validation: toTensors(wrong) };
  const hp = resolveHyperparameters({ epochs: 15, batchSize: 32, learningRate: 0.01 });
  const model = buildModel(hp);
  const history = await train(model, data, hp, quiet);
  const highest = Math.max(...history.map((h) => h.val_loss));
  assert.ok(highest > DIVERGED_LOSS, `val_loss peaked at ${highest}: the old validation rule would have stopped`);
  assert.equal(history.length, hp.epochs);
  model.dispose();
  disposeTensors(data.train, data.validation);
});
