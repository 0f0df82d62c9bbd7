import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { disposeTensors } from '../../lib/data/tensors';
import { selectBackend } from '../../lib/engine/backend';
import { localGradientEngine } from '../../lib/engine/local-engine';
import { buildBetterModel } from '../../lib/model/better';
import { buildModel } from '../../lib/model/cnn';
import { resolveHyperparameters } from '../../lib/model/hyperparams';
import { loadModel, saveModel } from '../../lib/model/io';
import { buildZooModel, ZOO_MODELS, type ModelName } from '../../lib/model/zoo';
import { train } from '../../lib/training/train';
import { realRows } from '../helpers/data-fixture';

/** Each model's layers as [name, class, output shape], and its trainable parameters. */
const EXPECTED: Record<ModelName, { trainable: number; layers: [string, string, (number | null)[]][] }> = {
  seed: {
    trainable: 173_738,
    layers: [
      ['conv', 'Conv2D', [null, 26, 26, 32]],
      ['pool', 'MaxPooling2D', [null, 13, 13, 32]],
      ['dropout', 'SeededDropout', [null, 13, 13, 32]],
      ['flatten', 'Flatten', [null, 5408]],
      ['hidden', 'Dense', [null, 32]],
      ['output', 'Dense', [null, 10]],
    ],
  },
  'keras-convnet': {
    trainable: 34_826,
    layers: [
      ['conv2d', 'Conv2D', [null, 26, 26, 32]],
      ['max_pooling2d', 'MaxPooling2D', [null, 13, 13, 32]],
      ['conv2d_1', 'Conv2D', [null, 11, 11, 64]],
      ['max_pooling2d_1', 'MaxPooling2D', [null, 5, 5, 64]],
      ['flatten', 'Flatten', [null, 1600]],
      ['dropout', 'SeededDropout', [null, 1600]],
      ['dense', 'Dense', [null, 10]],
    ],
  },
  'bn-cnn': {
    trainable: 468_458,
    layers: [
      ['conv2d', 'Conv2D', [null, 28, 28, 32]],
      ['batch_normalization', 'BatchNormalization', [null, 28, 28, 32]],
      ['re_lu', 'ReLU', [null, 28, 28, 32]],
      ['conv2d_1', 'Conv2D', [null, 28, 28, 32]],
      ['batch_normalization_1', 'BatchNormalization', [null, 28, 28, 32]],
      ['re_lu_1', 'ReLU', [null, 28, 28, 32]],
      ['max_pooling2d', 'MaxPooling2D', [null, 14, 14, 32]],
      ['dropout', 'SeededDropout', [null, 14, 14, 32]],
      ['conv2d_2', 'Conv2D', [null, 14, 14, 64]],
      ['batch_normalization_2', 'BatchNormalization', [null, 14, 14, 64]],
      ['re_lu_2', 'ReLU', [null, 14, 14, 64]],
      ['conv2d_3', 'Conv2D', [null, 14, 14, 64]],
      ['batch_normalization_3', 'BatchNormalization', [null, 14, 14, 64]],
      ['re_lu_3', 'ReLU', [null, 14, 14, 64]],
      ['max_pooling2d_1', 'MaxPooling2D', [null, 7, 7, 64]],
      ['dropout_1', 'SeededDropout', [null, 7, 7, 64]],
      ['flatten', 'Flatten', [null, 3136]],
      ['dense', 'Dense', [null, 128]],
      ['batch_normalization_4', 'BatchNormalization', [null, 128]],
      ['re_lu_4', 'ReLU', [null, 128]],
      ['dropout_2', 'SeededDropout', [null, 128]],
      ['dense_1', 'Dense', [null, 10]],
    ],
  },
  mlp: {
    trainable: 203_530,
    layers: [
      ['flatten', 'Flatten', [null, 784]],
      ['dense', 'Dense', [null, 256]],
      ['dropout', 'SeededDropout', [null, 256]],
      ['dense_1', 'Dense', [null, 10]],
    ],
  },
  // With its own defaults: 16 then 32 filters, 128 hidden units.
  better: {
    trainable: 207_098,
    layers: [
      ['block1_conv', 'Conv2D', [null, 28, 28, 16]],
      ['block1_bn', 'BatchNormalization', [null, 28, 28, 16]],
      ['block1_relu', 'ReLU', [null, 28, 28, 16]],
      ['block1_pool', 'MaxPooling2D', [null, 14, 14, 16]],
      ['block2_conv', 'Conv2D', [null, 14, 14, 32]],
      ['block2_bn', 'BatchNormalization', [null, 14, 14, 32]],
      ['block2_relu', 'ReLU', [null, 14, 14, 32]],
      ['block2_pool', 'MaxPooling2D', [null, 7, 7, 32]],
      ['conv_dropout', 'SeededDropout', [null, 7, 7, 32]],
      ['flatten', 'Flatten', [null, 1568]],
      ['hidden', 'Dense', [null, 128]],
      ['hidden_bn', 'BatchNormalization', [null, 128]],
      ['hidden_relu', 'ReLU', [null, 128]],
      ['hidden_dropout', 'SeededDropout', [null, 128]],
      ['output', 'Dense', [null, 10]],
    ],
  },
};

const count = (weights: tf.LayerVariable[]) => weights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);

test('every zoo model: its layers, Keras names, output shapes and parameter count', async () => {
  await selectBackend();
  for (const name of ZOO_MODELS) {
    const model = buildZooModel(name, resolveHyperparameters({ model: name }));
    assert.deepEqual(
      model.layers.map((l) => [l.name, l.getClassName(), l.outputShape]),
      EXPECTED[name].layers,
      name,
    );
    assert.equal(count(model.trainableWeights), EXPECTED[name].trainable, name);
    model.dispose();
  }
  // bn-cnn's five BatchNormalization layers also hold moving means and variances: 2 x (32 + 32 + 64 + 64 + 128).
  const bn = buildZooModel('bn-cnn', resolveHyperparameters({ model: 'bn-cnn' }));
  assert.equal(bn.countParams(), 468_458 + 640);
  bn.dispose();
});

test('the seed and better zoo models are buildModel and buildBetterModel: same layers, same initial weights', async () => {
  await selectBackend();
  for (const [name, build] of [['seed', buildModel], ['better', buildBetterModel]] as const) {
    const hp = resolveHyperparameters({ model: name, seed: 5 });
    const [zoo, own] = [buildZooModel(name, hp), build(hp)];
    assert.equal(zoo.name, own.name);
    assert.deepEqual(
      zoo.getWeights().map((w) => Array.from(w.dataSync())),
      own.getWeights().map((w) => Array.from(w.dataSync())),
      name,
    );
    zoo.dispose();
    own.dispose();
  }
});

test('buildModel refuses hyperparameters that name another model, pointing to buildZooModel', () => {
  assert.throws(
    () => buildModel(resolveHyperparameters({ model: 'mlp' })),
    /^RangeError: buildModel builds the original CNN \(model "seed"\), but hp\.model is "mlp"; build that one with buildZooModel\(hp\.model, hp\)$/,
  );
});

test('an unknown model name is refused, listing the zoo', () => {
  assert.throws(() => buildZooModel('resnet' as ModelName, resolveHyperparameters()), /model must be one of seed, keras-convnet, bn-cnn, mlp, better, got "resnet"/);
});

test('every zoo model trains: a few Adam steps on real images lower the loss', async () => {
  // Small enough to run on the main thread in seconds: 32 real images, one full-batch step per epoch.
  const data = await realRows(0, 32);
  for (const name of ZOO_MODELS) {
    const hp = resolveHyperparameters({ model: name, epochs: 5, batchSize: 32, learningRate: 0.003 });
    const model = buildZooModel(name, hp);
    const history = await train(model, { train: data, validation: data }, hp, {
      engine: localGradientEngine(model),
      verbose: 0,
    });
    const losses = history.map((h) => h.loss);
    assert.ok(losses[4] < losses[0] * 0.9, `${name}: the loss falls, ${losses.map((l) => l.toFixed(3)).join(' -> ')}`);
    model.dispose();
  }
  disposeTensors(data);
});

test('every zoo model saves and loads whole: same layers, same predictions', async () => {
  const data = await realRows(0, 32);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'zoo-io-'));
  try {
    for (const name of ZOO_MODELS) {
      const model = buildZooModel(name, resolveHyperparameters({ model: name, seed: 3 }));
      // Moves BatchNormalization's moving statistics away from their initial values, so loading must restore them.
      tf.tidy(() => void model.apply(data.x, { training: true }));
      await saveModel(model, path.join(dir, name));
      const loaded = await loadModel(path.join(dir, name));
      assert.deepEqual(
        loaded.layers.map((l) => [l.name, l.getClassName()]),
        model.layers.map((l) => [l.name, l.getClassName()]),
        name,
      );
      const [expected, got] = [model, loaded].map((m) => tf.tidy(() => Array.from((m.predict(data.x) as tf.Tensor).dataSync())));
      assert.deepEqual(got, expected, `${name}: the loaded model predicts as the saved one`);
      model.dispose();
      loaded.dispose();
    }
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
    disposeTensors(data);
  }
});
