import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { disposeTensors } from '../../lib/data/tensors';
import { selectBackend } from '../../lib/engine/backend';
import { resolveHyperparameters } from '../../lib/model/hyperparams';
import { checkModelFits, layersFootprint, modelFootprint, ModelTooLargeError, WASM_HEAP_LIMIT_BYTES } from '../../lib/model/memory';
import { defaultTrainingLayout } from '../../lib/engine/default-engine';
import { dataShape } from '../../lib/model/data-match';
import { train, trainingHistory } from '../../lib/training/train';
import { smallData } from '../helpers/data-fixture';
import { buildZooModel, checkZooModelFits, ZOO_MODELS, zooLayers } from '../../lib/model/zoo';

test('a model too large for a wasm heap is refused before any tensor exists, with the estimate and the limit', async () => {
  await selectBackend();
  const before = tf.memory().numTensors;
  // The weights alone (541,900,330 of them) times weights + Adam + gradient copies overflow the main thread's heap.
  const fashionMnist = (hp: Parameters<typeof checkZooModelFits>[1] & { batchSize: number }) => defaultTrainingLayout(hp.batchSize, 70_000);
  const wide = resolveHyperparameters({ denseUnits: 100_000 });
  assert.throws(
    () => checkZooModelFits('seed', wide, fashionMnist(wide)),
    (e: Error) =>
      e instanceof ModelTooLargeError &&
      /model "seed" with filters 32 and denseUnits 100000 has 541,900,330 weights \(2\.2 GB\)/.test(e.message) &&
      /needs ~\d+\.\d GB on the main thread's wasm heap/.test(e.message) &&
      /above the wasm heap's limit of 4\.3 GB\. Lower filters or denseUnits/.test(e.message),
  );
  // 4,096 filters make ~116 MB of activations per image: a chunk of 512 overflows each worker's heap.
  const many = resolveHyperparameters({ filters: 4096 });
  assert.throws(
    () => checkZooModelFits('seed', many, fashionMnist(many)),
    (e: Error) =>
      e instanceof ModelTooLargeError &&
      e.estimate.workerHeap > WASM_HEAP_LIMIT_BYTES &&
      /model "seed" with filters 4096 and denseUnits 32 has 22,192,490 weights \(89 MB\) and 116 MB of activations per image/.test(e.message) &&
      /needs ~\d+\.\d GB on (each worker thread's|the main thread's) wasm heap \(\d+\.\d GB of it activations\), above the wasm heap's limit of 4\.3 GB/.test(e.message),
  );
  assert.equal(tf.memory().numTensors, before, 'nothing was allocated');
});

test('the zoo at its default batch fits, and the footprint needs no weights to be made', async () => {
  await selectBackend();
  for (const model of ZOO_MODELS) {
    const hp = resolveHyperparameters({ model });
    const built = buildZooModel(model, hp);
    assert.deepEqual(layersFootprint(zooLayers(model, hp), dataShape({}).inputShape), modelFootprint(built), model);
    built.dispose();
  }
});

test('checkModelFits sizes any built model by its layout: a micro-batch too large for one heap is refused', async () => {
  await selectBackend();
  const model = buildZooModel('bn-cnn', resolveHyperparameters({ model: 'bn-cnn' }));
  const fits = checkModelFits(model, { batchSize: 256, microBatchSize: 256, workers: 2, datasetImages: 70_000 });
  assert.ok(fits.workerHeap < fits.heapLimit && fits.mainHeap < fits.heapLimit);
  // 4,096 images in one pass on the main thread: ~6 MB of activations each.
  assert.throws(
    () => checkModelFits(model, { batchSize: 4096, microBatchSize: 4096, workers: 0, datasetImages: 70_000 }),
    /model "bn_cnn" has 469,098 weights \(2 MB\) and 6 MB of activations per image; training it at batch 4096, in passes of 4096 images, needs ~\d+\.\d GB on the main thread's wasm heap/,
  );
  model.dispose();
});

test("train() refuses a model too large for its data and engine before it starts anything, sized by the data's images", async () => {
  await selectBackend();
  const data = await smallData(96, 32);
  const hp = resolveHyperparameters({ filters: 4096, epochs: 1 });
  const model = buildZooModel('seed', hp);
  const before = tf.memory().numTensors;
  await assert.rejects(
    () => train(model, data, hp, { verbose: 0 }),
    (e: Error) =>
      e instanceof ModelTooLargeError &&
      e.estimate.layout.datasetImages === 128 &&
      e.estimate.layout.batchSize === 4096 &&
      e.estimate.footprint.input === 28 * 28 &&
      /^model "fashion_cnn" has 22,192,490 weights \(89 MB\) and 116 MB of activations per image; training it at batch 4096/.test(e.message),
  );
  assert.equal(tf.memory().numTensors, before, 'nothing was allocated');
  assert.deepEqual(trainingHistory(model), [], 'no epoch began');
  model.dispose();
  disposeTensors(data.train, data.validation);
});
