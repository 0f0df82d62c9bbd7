import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { disposeTensors } from '../../lib/data/tensors';
import { selectBackend } from '../../lib/engine/backend';
import { localGradientEngine } from '../../lib/engine/local-engine';
import { parallelGradientEngine } from '../../lib/engine/parallel-engine';
import { buildBetterModel } from '../../lib/model/better';
import { BETTER_HYPERPARAMETERS, betterHyperparameters, resolveHyperparameters } from '../../lib/model/hyperparams';
import { evaluate } from '../../lib/model/predict';
import { classificationReport } from '../../lib/report/metrics';
import { f1Changes, mistakeChanges } from '../../lib/report/model-comparison';
import { defaultTrainingLayout } from '../../lib/engine/default-engine';
import { checkZooModelFits, zooEntry } from '../../lib/model/zoo';
import { oneCycle } from '../../lib/training/schedule';
import { train } from '../../lib/training/train';
import { realRows, smallData } from '../helpers/data-fixture';

const quiet = { verbose: 0 } as const;

const small = () => buildBetterModel({ filters: 4, denseUnits: 8, dropout: 0, seed: 7 });
const movingStats = (model: tf.LayersModel) => Promise.all(model.nonTrainableWeights.map(async (w) => Array.from(await w.read().data())));

describe('the better model', () => {
  test('two batch-normalised convolution blocks, 28x28x1 in, 10 probabilities out', async () => {
    await selectBackend();
    const model = buildBetterModel(betterHyperparameters());
    assert.deepEqual(model.inputs[0].shape, [null, 28, 28, 1]);
    assert.deepEqual(model.outputs[0].shape, [null, 10]);
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.getConfig().filters);
    assert.deepEqual(convs, [16, 32]);
    assert.equal(model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length, 3);
    // Trainable: 144 + 4,608 + 200,704 + 1,290 weights, 2 x (16 + 32 + 128) batch-norm scales and offsets;
    // then the 2 x 176 moving statistics.
    assert.equal(model.countParams(), 207_098 + 352);
    model.dispose();
  });

  test('its hyperparameters are the named defaults, overridable and checked', () => {
    assert.deepEqual(betterHyperparameters(), { model: 'better', ...BETTER_HYPERPARAMETERS });
    // The model's defaults are the better model's whichever way it is named.
    assert.deepEqual(resolveHyperparameters({ model: 'better' }), betterHyperparameters());
    assert.equal(zooEntry('better').defaults, BETTER_HYPERPARAMETERS, 'its zoo entry holds them');
    assert.equal(betterHyperparameters({ epochs: 1 }).epochs, 1);
    assert.throws(() => betterHyperparameters({ model: 'seed' }), /^RangeError: betterHyperparameters makes the better model's settings, but model is "seed"; use resolveHyperparameters/);
    assert.throws(() => betterHyperparameters({ dropout: 1 }), /hyperparameter dropout must be a number in \[0, 1\), got 1/);
  });

  test('the memory check sizes the better model, not the seed CNN', () => {
    // At 4,096 filters its second block alone needs tens of GB of activations per pass.
    const hp = betterHyperparameters({ filters: 4096 });
    assert.throws(() => checkZooModelFits('better', hp, defaultTrainingLayout(hp.batchSize, 70_000)), /^ModelTooLargeError: model "better" with filters 4096 and denseUnits 128 has /);
  });

  test('train() gives it its one-cycle schedule (its zoo entry says so) unless told another', async () => {
    await selectBackend();
    const data = await smallData(256, 64);
    const hp = betterHyperparameters({ epochs: 2, batchSize: 64, filters: 4, denseUnits: 8, learningRate: 0.01 });
    const run = async (options: object) => {
      const model = buildBetterModel(hp);
      try {
        return (await train(model, data, hp, { ...quiet, ...options })).map((e) => [e.loss, e.val_loss]);
      } finally {
        model.dispose();
      }
    };
    const byEntry = await run({});
    assert.deepEqual(byEntry, await run({ learningRateSchedule: oneCycle(hp.learningRate) }), 'the same steps as oneCycle(hp.learningRate)');
    assert.notDeepEqual(byEntry, await run({ learningRateSchedule: () => hp.learningRate }), 'a constant rate trains otherwise');
    disposeTensors(data.train, data.validation);
  });
});

describe('batch-norm statistics on worker threads', () => {
  test('move as one update per step from the mean of the chunks, whatever the worker count', async () => {
    const data = await realRows(0, 96);
    // Chunks of 40, 40 and 16 images, each normalised by its own statistics.
    const chunks = [0, 40, 80].map((start) => [start, Math.min(96, start + 40)]);
    const reference = small();
    const initial = reference.nonTrainableWeights.map((w) => w.read().clone());
    const perChunk: number[][][] = [];
    for (const [start, end] of chunks) {
      reference.nonTrainableWeights.forEach((w, i) => w.write(initial[i]));
      await localGradientEngine(reference).gradients(data.x.slice(start, end - start), data.y.slice(start, end - start));
      perChunk.push(await movingStats(reference));
    }
    const expected = perChunk[0].map((w, i) => w.map((_, j) => perChunk.reduce((s, c) => s + c[i][j], 0) / chunks.length));

    const runWith = async (workers: number) => {
      const model = small();
      const engine = await parallelGradientEngine(model, { seed: 1, workers, chunkSize: 40 });
      try {
        await engine.gradientsAt(data, Int32Array.from({ length: 96 }, (_, i) => i));
        return await movingStats(model);
      } finally {
        await engine.dispose();
        model.dispose();
      }
    };
    const two = await runWith(2);
    assert.deepEqual(await runWith(1), two, 'the same statistics with one worker or two');
    assert.equal(two.length, 6, 'moving mean and variance of three batch norms');
    two.forEach((w, i) =>
      w.forEach((v, j) => assert.ok(Math.abs(v - expected[i][j]) <= 1e-5 + 1e-4 * Math.abs(expected[i][j]), `weight ${i}[${j}]: ${v} vs ${expected[i][j]}`)),
    );
    assert.notDeepEqual(two, await Promise.all(initial.map(async (t) => Array.from(await t.data()))), 'the statistics moved');
    reference.dispose();
    tf.dispose(initial);
    disposeTensors(data);
  });

  test('so the trained model evaluates in inference mode as well as it trained', async () => {
    const data = await smallData(1024, 512);
    const hp = betterHyperparameters({ epochs: 3, batchSize: 64, filters: 8, denseUnits: 32 });
    const model = buildBetterModel(hp);
    // Worker threads, as train() picks them by default on two cores or more.
    const engine = await parallelGradientEngine(model, { seed: hp.seed, workers: 2, chunkSize: 32 });
    try {
      const history = await train(model, data, hp, { ...quiet, engine, learningRateSchedule: oneCycle(hp.learningRate) });
      const last = history[history.length - 1];
      assert.ok(last.val_accuracy > 0.7, `validation accuracy after 3 epochs on 1,024 images: ${last.val_accuracy}`);
      // The main thread's own inference pass reads the moving statistics the engine wrote back.
      const local = await evaluate(model, data.validation);
      assert.ok(Math.abs(local.accuracy - last.val_accuracy) < 1e-9, `${local.accuracy} vs ${last.val_accuracy}`);
    } finally {
      await engine.dispose();
      model.dispose();
      disposeTensors(data.train, data.validation);
    }
  });
});

describe('oneCycle', () => {
  const total = 1000;
  const rate = oneCycle(0.003);
  test("rises from peak / 25 to the peak over 30 % of the steps, then falls to nearly zero, as PyTorch's OneCycleLR", () => {
    assert.ok(Math.abs(rate(0, total) - 0.003 / 25) < 1e-12);
    assert.ok(Math.abs(rate(299, total) - 0.003) < 1e-12);
    assert.ok(Math.abs(rate(999, total) - 0.003 / 25 / 1e4) < 1e-12);
    const rates = Array.from({ length: total }, (_, s) => rate(s, total));
    for (let s = 1; s < total; s++) {
      assert.ok(s <= 299 ? rates[s] > rates[s - 1] : rates[s] < rates[s - 1], `step ${s}: ${rates[s - 1]} -> ${rates[s]}`);
    }
  });
  test('refuses a peak or warm-up out of range, naming it', () => {
    assert.throws(() => oneCycle(0), /oneCycle peak must be a finite number > 0, got 0/);
    assert.throws(() => oneCycle(0.01, { warmupFraction: 1 }), /warmupFraction must be in \(0, 1\), got 1/);
  });
  test('train() asks the schedule once per step, counting over the whole run', async () => {
    const data = await smallData(256, 64);
    const asked: [number, number][] = [];
    const model = small();
    await train(model, data, { epochs: 2, batchSize: 128, learningRate: 0.001, seed: 1 }, {
      ...quiet,
      learningRateSchedule: (step, steps) => (asked.push([step, steps]), 0.001),
    });
    assert.deepEqual(asked, [[0, 4], [1, 4], [2, 4], [3, 4]]);
    model.dispose();
    disposeTensors(data.train, data.validation);
  });
});

describe('comparing two models', () => {
  const names = ['a', 'b', 'c'];
  const truth = [0, 0, 0, 1, 1, 2, 2, 2];
  const before = [0, 1, 2, 1, 0, 2, 0, 1];
  const after = [0, 0, 1, 1, 1, 1, 2, 0];
  const matrix = (predicted: number[]) => {
    const m = names.map(() => names.map(() => 0));
    truth.forEach((t, i) => m[t][predicted[i]]++);
    return m;
  };
  test('F1 per class under both', () => {
    const changes = f1Changes(classificationReport(matrix(before), names), classificationReport(matrix(after), names));
    assert.deepEqual(changes.map((c) => c.name), names);
    assert.ok(Math.abs(changes[0].before - 1 / 3) < 1e-12 && Math.abs(changes[0].after - 2 / 3) < 1e-12);
    assert.throws(() => f1Changes(classificationReport(matrix(before), names), classificationReport(matrix(after), ['a', 'b', 'd'])), /class 2 is "c" in one report and "d"/);
  });
  test("which of a class's images were fixed, broken or still wrong", () => {
    assert.deepEqual(mistakeChanges(truth, before, after, 0), { fixed: [1], broken: [], stillWrong: [2] });
    assert.deepEqual(mistakeChanges(truth, before, after, 2), { fixed: [6], broken: [5], stillWrong: [7] });
    assert.throws(() => mistakeChanges(truth, before.slice(1), after, 0), /8 labels but 7 and 8 predictions/);
  });
});
