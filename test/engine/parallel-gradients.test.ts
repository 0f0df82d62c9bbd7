import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/engine/backend';
import { evaluate } from '../../lib/model/predict';
import { localGradientEngine } from '../../lib/engine/local-engine';
import { type BatchGradients, type GradientEngine } from '../../lib/engine/gradient-engine';
import { buildModel } from '../../lib/model/cnn';
import { trainableVariables } from '../../lib/model/variables';
import { parallelGradientEngine } from '../../lib/engine/parallel-engine';
import { WorkerTimeoutError } from '../../lib/engine/worker-handle';
import type { LabeledTensors } from '../../lib/data/tensors';

// Small enough to be quick; 96 images in chunks of 40 gives the workers 2 and 1 chunks, the last one short.
const N = 96;
const CHUNK = 40;

function batch(seed: number): LabeledTensors {
  return {
    x: tf.randomUniform([N, 28, 28, 1], 0, 1, 'float32', seed) as tf.Tensor4D,
    y: tf.tensor1d(Int32Array.from({ length: N }, (_, i) => (i * 7 + seed) % 10), 'int32'),
  };
}

function small(dropout: number): tf.Sequential {
  return buildModel({ filters: 8, denseUnits: 16, dropout, seed: 7 });
}

async function run(engine: GradientEngine, data: LabeledTensors): Promise<BatchGradients> {
  return engine.gradients(data.x, data.y);
}

/** Flat gradients, one array per trainable variable of `model`. */
function perVariable(values: Float32Array, model: tf.LayersModel): Float32Array[] {
  let offset = 0;
  return trainableVariables(model).map((v) => values.subarray(offset, (offset += v.size)));
}

const SILENT_WORKER = path.join(__dirname, '..', 'fixtures', 'silent-worker.ts');
const HANGING_WORKER = path.join(__dirname, '..', 'fixtures', 'hanging-worker.ts');

const liveThreads = () => fs.readdirSync('/proc/self/task').length;
/** Threads before any engine of this file started. */
const baseline = process.platform === 'linux' ? liveThreads() : 0;

/**
 * The thread count once it reaches `expected`, or after 2 s (counts taken after an engine was
 * disposed wait so, whether they are the expected count or a new baseline). A worker's thread is joined when
 * terminate() resolves, but on a loaded machine /proc can list it for a few more milliseconds
 * (seen once in 200 terminations here); a thread that really lives on still fails the test.
 */
async function threadsSettleTo(expected: number): Promise<number> {
  const deadline = performance.now() + 2000;
  while (liveThreads() !== expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return liveThreads();
}

describe('parallelGradientEngine', () => {
  let data: LabeledTensors;
  before(async () => {
    await selectBackend();
    data = batch(3);
  });
  after(() => tf.dispose([data.x, data.y]));

  test('gives the local engine gradients and evaluation, bit for bit, for the same seed and chunk size', async () => {
    const model = small(0.5);
    const engine = await parallelGradientEngine(model, { seed: 1, workers: 2, chunkSize: CHUNK });
    const local = localGradientEngine(model, { seed: 1, chunkSize: CHUNK });
    try {
      for (let step = 0; step < 2; step++) {
        const expected = await run(local, data);
        assert.ok(perVariable(expected.values, model).every((g) => g.some((v) => v !== 0)), 'a zero gradient would prove nothing');
        assert.deepEqual(await run(engine, data), expected);
      }
      assert.deepEqual(await engine.evaluate(data), await local.evaluate!(data));
    } finally {
      await engine.dispose();
      model.dispose();
    }
  });

  test('is deterministic for a seed, whatever the worker count or evaluations between steps', async () => {
    const model = small(0.5);
    const [two, one, otherSeed] = await Promise.all([
      parallelGradientEngine(model, { seed: 5, workers: 2, chunkSize: CHUNK }),
      parallelGradientEngine(model, { seed: 5, workers: 1, chunkSize: CHUNK }),
      parallelGradientEngine(model, { seed: 6, workers: 1, chunkSize: CHUNK }),
    ]);
    try {
      const twoWorkers = [await run(two, data), await run(two, data)];
      const oneWorker = [await run(one, data)];
      await one.evaluate(data);
      oneWorker.push(await run(one, data));
      assert.deepEqual(oneWorker, twoWorkers);
      // The weights did not change between the two steps, so only new dropout masks can tell them apart.
      assert.notDeepEqual(twoWorkers[1].values, twoWorkers[0].values);
      assert.notDeepEqual((await run(otherSeed, data)).values, twoWorkers[0].values);
    } finally {
      await Promise.all([two, one, otherSeed].map((e) => e.dispose()));
      model.dispose();
    }
  });

  test('gradientsAt(data, indices) equals gradients() of the gathered rows', async () => {
    const model = small(0.5);
    const indices = Int32Array.from({ length: 50 }, (_, i) => (i * 37) % N);
    const gathered = tf.tidy(() => ({ x: tf.gather(data.x, indices), y: tf.gather(data.y, indices) }));
    const [byIndex, byTensor] = await Promise.all([
      parallelGradientEngine(model, { seed: 9, workers: 2, chunkSize: CHUNK }),
      parallelGradientEngine(model, { seed: 9, workers: 2, chunkSize: CHUNK }),
    ]);
    try {
      for (let step = 0; step < 2; step++) {
        const g = await byIndex.gradientsAt(data, indices);
        const expected = await run(byTensor, gathered);
        assert.deepEqual(g, expected);
      }
      await assert.rejects(byIndex.gradientsAt(data, Int32Array.of(0, N)), /indices\[1\] is 96; expected a row of data, 0 to 95/);
    } finally {
      tf.dispose([gathered.x, gathered.y]);
      await Promise.all([byIndex.dispose(), byTensor.dispose()]);
      model.dispose();
    }
  });

  test('evaluates like lib/model/predict.ts', async () => {
    const model = small(0.5);
    const engine = await parallelGradientEngine(model, { seed: 1, workers: 2, chunkSize: CHUNK });
    try {
      const expected = await evaluate(model, data);
      const actual = await engine.evaluate(data);
      assert.equal(actual.accuracy, expected.accuracy);
      assert.ok(Math.abs(actual.loss - expected.loss) <= 1e-6 * expected.loss, `loss ${actual.loss} vs ${expected.loss}`);
    } finally {
      await engine.dispose();
      model.dispose();
    }
  });

  test('reports an error inside a worker as an Error, and keeps working', async () => {
    const model = small(0);
    const engine = await parallelGradientEngine(model, { seed: 1, workers: 2, chunkSize: CHUNK });
    const wrong = tf.zeros([N, 14, 14, 1]) as tf.Tensor4D;
    try {
      await assert.rejects(engine.gradients(wrong, data.y), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.match(e.message, /^gradient worker \d failed: Input 0 is incompatible with layer/);
        return true;
      });
      const ok = await run(engine, data);
      assert.ok(Number.isFinite(ok.lossSum));
    } finally {
      wrong.dispose();
      await engine.dispose();
      model.dispose();
    }
  });

  test('dispose() ends the worker threads and later calls fail clearly', { skip: process.platform !== 'linux' && 'counts threads in /proc' }, async () => {
    const model = small(0);
    const before = await threadsSettleTo(baseline);
    const engine = await parallelGradientEngine(model, { seed: 1, workers: 2, chunkSize: CHUNK });
    assert.equal(liveThreads(), before + 2);
    await engine.dispose();
    assert.equal(await threadsSettleTo(before), before);
    await assert.rejects(engine.gradients(data.x, data.y), /disposed/);
    model.dispose();
  });
});

describe('parallelGradientEngine deadlines', () => {
  let data: LabeledTensors;
  before(async () => {
    await selectBackend();
    data = batch(4);
  });
  after(() => tf.dispose([data.x, data.y]));

  test('a worker that never starts is named, and every worker is stopped', { skip: process.platform !== 'linux' && 'counts threads in /proc' }, async () => {
    const model = small(0);
    const before = await threadsSettleTo(baseline);
    await assert.rejects(
      parallelGradientEngine(model, { seed: 1, workers: 2, workerFile: SILENT_WORKER, startupTimeoutMs: 1000 }),
      /^WorkerTimeoutError: gradient worker [01] did not answer within 1\.0 s while starting \(loading TensorFlow.js/,
    );
    assert.equal(await threadsSettleTo(before), before);
    model.dispose();
  });

  test('a worker that stops answering mid-run: the step fails within its deadline, naming worker and batch', { skip: process.platform !== 'linux' && 'counts threads in /proc' }, async () => {
    const model = small(0);
    const before = await threadsSettleTo(baseline);
    const engine = await parallelGradientEngine(model, { seed: 1, workers: 2, chunkSize: CHUNK, workerFile: HANGING_WORKER, minStepTimeoutMs: 500 });
    try {
      await run(engine, data); // warms up, not timed
      await run(engine, data); // timed: sets the deadline
      const started = performance.now();
      await assert.rejects(run(engine, data), (e: unknown) => {
        assert.ok(e instanceof WorkerTimeoutError);
        assert.match(
          e.message,
          /^gradient worker [01] did not answer within \d+\.\d s while computing the gradients of batch 3 \(chunks? [\d, ]+ of 3\); the parallel gradient engine stopped its workers$/,
        );
        return true;
      });
      // The deadline is a multiple of the timed step, not the 120 s startup allowance.
      assert.ok(performance.now() - started < 60_000, `gave up after ${performance.now() - started} ms`);
      assert.equal(await threadsSettleTo(before), before, 'the workers were terminated');
      await assert.rejects(run(engine, data), /did not answer within .* the parallel gradient engine stopped its workers/);
    } finally {
      await engine.dispose();
      model.dispose();
    }
  });
});
