/**
 * Stopping a run: Kernel -> Interrupt (the launcher's INTERRUPT_EVENT) or a
 * stop signal ends train() on either engine, and tfjs's own model.fit, within
 * a step; the model keeps the weights of its last finished step; nothing is
 * left behind (tensors, worker threads); and the next run is the seeded run
 * bit for bit.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { disposeTensors, type LabeledTensors } from '../../lib/data/tensors';
import { localGradientEngine } from '../../lib/engine/local-engine';
import { parallelGradientEngine } from '../../lib/engine/parallel-engine';
import { resolveHyperparameters, type Hyperparameters } from '../../lib/model/hyperparams';
import { buildZooModel } from '../../lib/model/zoo';
import type { EpochLog } from '../../lib/training/epoch-log';
import { compareSettings } from '../../lib/training/compare';
import { train, trainingHistory, TrainingStoppedError } from '../../lib/training/train';
import '../../lib/training/fit-interrupt';
import { checkpoint, INTERRUPT_EVENT, interruptLoops, StopRequest } from '../../lib/util/interrupt';
import { smallData } from '../helpers/data-fixture';

/** A stop must end the run well before another step or epoch would; generous for a loaded machine (DEVELOPERS: no timing asserts). */
const STOP_BOUND_MS = 3000;

const threads = () => (process.platform === 'linux' ? fs.readdirSync('/proc/self/task').length : 0);
/** The thread count once it is back to `expected`, or after 2 s (see test/parallel-gradients.test.ts). */
async function threadsSettleTo(expected: number): Promise<number> {
  const deadline = performance.now() + 2000;
  while (threads() !== expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return threads();
}

const weights = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));
const withoutSeconds = (history: EpochLog[]) => history.map(({ seconds: _, ...rest }) => rest);

let data: { train: LabeledTensors; validation: LabeledTensors };
before(async () => {
  data = await smallData(4096, 1024);
});
after(() => disposeTensors(data.train, data.validation));

/**
 * Trains a fresh seed model and stops it `delayMs` after the first step of epoch 2 ends, by
 * `stop` (the kernel's event, or a signal's abort). Returns what a user would look at.
 */
async function stoppedRun(hp: Hyperparameters, stop: 'kernel' | 'signal', delayMs: number) {
  const model = buildZooModel('seed', hp);
  const controller = new AbortController();
  let lastStep: number[][] | undefined;
  let stoppedAt = 0;
  let stepsAfterStop = 0;
  let timer: NodeJS.Timeout | undefined;
  const tensorsBefore = tf.memory().numTensors;
  let epoch = 0;
  const afterStep = (batch: number) => {
    if (stoppedAt > 0) stepsAfterStop++;
    lastStep = weights(model);
    if (epoch === 2 && batch === 1) {
      // A timer, as a signal's handler: it fires only if the loop lets the event loop run.
      timer = setTimeout(() => {
        stoppedAt = performance.now();
        if (stop === 'kernel') assert.equal(interruptLoops(), true, 'train() listens while it runs');
        else controller.abort(new StopRequest('the test'));
      }, delayMs);
    }
  };
  const error = await train(model, data, hp, {
    verbose: 0,
    signal: stop === 'signal' ? controller.signal : undefined,
    // Epochs and batches as Keras counts them, from 0.
    callbacks: { onEpochBegin: async (e) => void (epoch = e + 1), onBatchEnd: async (b) => afterStep(b + 1) },
  }).then(
    () => assert.fail('train() finished although it was stopped'),
    (e: unknown) => e,
  );
  clearTimeout(timer);
  const stopMs = performance.now() - stoppedAt;
  const result = { error, stopMs, stepsAfterStop, keptLastStep: stoppedAt > 0 && lastStep !== undefined && tf.util.arraysEqual(weights(model).flat(), lastStep.flat()), model };
  assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor is left');
  assert.equal(process.listenerCount(INTERRUPT_EVENT), 0, 'train() stops listening when it ends');
  return result;
}

for (const [engine, batchSize] of [
  ['worker threads', 512],
  ['the main thread', 32],
] as const) {
  test(`a stopped train() on ${engine} ends within a step, keeps the last step's weights and its finished epochs, and leaves nothing running`, async (t) => {
    const hp = resolveHyperparameters({ epochs: 4, batchSize, seed: 7 });
    const baseline = await threadsSettleTo(threads());
    // The seeded history, from a run that was not stopped.
    const clean = buildZooModel('seed', hp);
    const expected = withoutSeconds(await train(clean, data, hp, { verbose: 0 }));
    clean.dispose();

    // Mid-step on the workers (a step of 512 takes longer than 20 ms); between steps on the main thread.
    const run = await stoppedRun(hp, 'kernel', 20);
    t.diagnostic(`stopped ${run.stopMs.toFixed(0)} ms after the interrupt`);
    assert.ok(run.error instanceof TrainingStoppedError, `a TrainingStoppedError, got ${run.error}`);
    assert.match(run.error.message, /^stopped by Kernel -> Interrupt during epoch 2 of 4 \(1 finished\); the model keeps the weights of its last step/);
    assert.equal(run.error.stack, `TrainingStoppedError: ${run.error.message}`, 'one line, no stack from the library');
    assert.ok(run.stopMs < STOP_BOUND_MS, `train() ended ${run.stopMs.toFixed(0)} ms after the interrupt`);
    assert.equal(run.stepsAfterStop, 0, 'no step finished after the interrupt');
    assert.ok(run.keptLastStep, "the model has the weights of the last finished step");
    assert.deepEqual(withoutSeconds(run.error.history), expected.slice(0, 1), 'the finished epoch, as the seeded run had it');
    assert.equal(trainingHistory(run.model), run.error.history, 'trainingHistory(model) holds them too');
    assert.equal(await threadsSettleTo(baseline), baseline, 'no worker thread is left');
    run.model.dispose();

    const again = buildZooModel('seed', hp);
    assert.deepEqual(withoutSeconds(await train(again, data, hp, { verbose: 0 })), expected, 'the next run is the seeded run, bit for bit');
    again.dispose();
  });
}

test('a stop signal ends train() the same way and names who stopped it', async () => {
  const hp = resolveHyperparameters({ epochs: 3, batchSize: 512, seed: 3 });
  const run = await stoppedRun(hp, 'signal', 0);
  assert.ok(run.error instanceof TrainingStoppedError);
  assert.match(run.error.message, /^stopped by the test during epoch 2 of 3 \(1 finished\)/);
  run.model.dispose();
});

test('a signal that aborts while the workers start stops train() before its first epoch, with no thread left', async () => {
  const hp = resolveHyperparameters({ epochs: 1, batchSize: 512 });
  const baseline = await threadsSettleTo(threads());
  const model = buildZooModel('seed', hp);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(train(model, data, hp, { verbose: 0, signal: controller.signal }), (e: Error) => {
    assert.ok(e instanceof TrainingStoppedError);
    assert.match(e.message, /^stopped by an abort signal before epoch 1 of 1; the model is unchanged$/);
    return true;
  });
  assert.equal(await threadsSettleTo(baseline), baseline);
  model.dispose();
});

test('the workers of a stopped engine are gone: a later call says the engine was stopped', async () => {
  const hp = resolveHyperparameters({ batchSize: 512 });
  const model = buildZooModel('seed', hp);
  const engine = await parallelGradientEngine(model, { seed: 1, workers: 2 });
  const controller = new AbortController();
  const rows = Int32Array.from({ length: 2048 }, (_, i) => i);
  setTimeout(() => controller.abort(new StopRequest('the test')), 10);
  await assert.rejects(engine.gradientsAt(data.train, rows, controller.signal), /stopped by the test/);
  await assert.rejects(engine.gradientsAt(data.train, rows), /the parallel gradient engine was stopped \(the test\); start a new one/);
  await engine.dispose();
  model.dispose();
});

test("Kernel -> Interrupt stops tfjs's model.fit between batches, with the weights of the last batch", async () => {
  const model = buildZooModel('seed', resolveHyperparameters());
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const fit = (epochs: number, callbacks: tf.CustomCallbackArgs) =>
    model.fit(data.train.x, data.train.y, { epochs, batchSize: 256, validationData: [data.validation.x, data.validation.y], verbose: 0, callbacks });
  // Once, so that Adam's slots exist before the count.
  await fit(1, {});
  const tensorsBefore = tf.memory().numTensors;
  let lastBatch: number[] = [];
  let epochs = 0;
  const error = await fit(5, {
    onEpochEnd: async () => void epochs++,
    onBatchEnd: async (batch) => {
      lastBatch = weights(model).flat();
      if (epochs === 1 && batch === 3) interruptLoops();
    },
  }).then(
    () => assert.fail('fit() finished although it was stopped'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TrainingStoppedError, `a TrainingStoppedError, got ${error}`);
  assert.match(error.message, /^stopped by Kernel -> Interrupt during epoch 2 of 5 \(1 finished\); the model keeps the weights of its last step, trainingHistory\(model\) the finished epochs$/);
  assert.equal(error.history.length, 1);
  assert.equal(epochs, 1, 'the cut-short epoch is not reported as finished');
  assert.ok(tf.util.arraysEqual(weights(model).flat(), lastBatch), 'the weights of the last batch');
  assert.equal(trainingHistory(model), error.history, 'trainingHistory(model) holds it too');
  assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor is left');
  assert.equal(process.listenerCount(INTERRUPT_EVENT), 0);
  // The next fit runs to its end.
  const history = await fit(1, {});
  assert.equal(history.epoch.length, 1);
  model.dispose();
});

test('Kernel -> Interrupt stops compareSettings in the setting it is training, naming it, and frees its models', async () => {
  const base = resolveHyperparameters({ epochs: 2, batchSize: 512 });
  const tensorsBefore = tf.memory().numTensors;
  let epochs = 0;
  const error = await compareSettings(base, { slow: { learningRate: 0.001 }, fast: { learningRate: 0.003 } }, data, () => ({
    verbose: 0,
    callbacks: { onEpochEnd: async () => void (++epochs === 3 && setTimeout(interruptLoops, 10)) },
  })).then(
    () => assert.fail('compareSettings finished although it was stopped'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TrainingStoppedError, `a TrainingStoppedError, got ${error}`);
  assert.match(error.message, /^stopped by Kernel -> Interrupt during epoch 2 of 2 \(1 finished\) of setting "fast" \(1 of 2 settings finished\); its model is disposed$/);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor is left');
});

test('an interrupt between two settings of compareSettings stops it before the next one trains', async () => {
  const base = resolveHyperparameters({ epochs: 2, batchSize: 512 });
  const error = await compareSettings(base, { slow: { learningRate: 0.001 }, fast: { learningRate: 0.003 } }, data, (name) => {
    // Called between the two runs: the first has ended, the second not begun.
    if (name === 'fast') assert.equal(interruptLoops(), true, 'the comparison listens between its runs');
    return { verbose: 0 };
  }).then(
    () => assert.fail('compareSettings finished although it was stopped'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TrainingStoppedError, `a TrainingStoppedError, got ${error}`);
  assert.match(error.message, /^stopped by Kernel -> Interrupt before epoch 1 of 2 of setting "fast" \(1 of 2 settings finished\)/);
  assert.equal(process.listenerCount(INTERRUPT_EVENT), 0);
});

test('a model.fit that failed leaves no listener that would hold a later interrupt', async () => {
  const model = buildZooModel('seed', resolveHyperparameters());
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const failing = () =>
    model.fit(data.validation.x, data.validation.y, { epochs: 1, batchSize: 512, verbose: 0, callbacks: { onBatchEnd: async () => Promise.reject(new Error('a callback failed')) } });
  await assert.rejects(failing(), /a callback failed/);
  await assert.rejects(failing(), /a callback failed/);
  assert.equal(interruptLoops(), false, 'nothing is running, so the launcher interrupts the cell at once');
  assert.equal(process.listenerCount(INTERRUPT_EVENT), 0, 'the stale listeners released themselves');
  // A fit that ends well stops listening at its end.
  await model.fit(data.validation.x, data.validation.y, { epochs: 1, batchSize: 512, verbose: 0 });
  assert.equal(process.listenerCount(INTERRUPT_EVENT), 0);
  model.dispose();
});

test('a stop between the chunks of a step leaves the batch-norm statistics as they were before the step', async () => {
  const hp = resolveHyperparameters({ model: 'bn-cnn', batchSize: 512 });
  const model = buildZooModel('bn-cnn', hp);
  const engine = localGradientEngine(model, { seed: 1, chunkSize: 128 });
  const statistics = () => model.nonTrainableWeights.map((w) => Array.from(w.read().dataSync()));
  const before = statistics();
  const rows = Int32Array.from({ length: 512 }, (_, i) => i);
  // A fresh turn of the event loop, so that the first chunk runs before the next yield (lib/util/interrupt.ts).
  await checkpoint();
  const controller = new AbortController();
  setTimeout(() => controller.abort(new StopRequest('the test')), 0);
  await assert.rejects(engine.gradientsAt(data.train, rows, controller.signal), /stopped by the test/);
  assert.deepEqual(statistics(), before, 'the statistics of the chunks that ran are undone');
  // The control: a step that finishes moves them.
  await engine.gradientsAt(data.train, rows);
  assert.notDeepEqual(statistics(), before);
  model.dispose();
});

test('the kernel launcher emits the event the loops listen for', () => {
  const launcher = fs.readFileSync(path.join(__dirname, '..', '..', 'scripts', 'kernel', 'launch.cjs'), 'utf8');
  assert.equal(/const INTERRUPT_EVENT = '([^']+)';/.exec(launcher)?.[1], INTERRUPT_EVENT);
});
