/**
 * The two models of issue 11 whose layers the wasm kernels must cover, for
 * the kernel tests and scripts/profile-step.ts until lib/model/zoo.ts has them.
 * Dropout is the project's SeededDropout (tf.layers.dropout's distribution,
 * same masks on every backend, reseeded per chunk by the parallel engine).
 */
import * as tf from '@tensorflow/tfjs';
import { SeededDropout } from '../lib/model/seeded-dropout';
import { Rng } from '../lib/data/rng';

export const ISSUE11_MODELS = ['keras-convnet', 'bn-cnn'] as const;
export type Issue11Model = (typeof ISSUE11_MODELS)[number];

export function buildIssue11Model(name: Issue11Model, seed = 1): tf.Sequential {
  const rng = new Rng(seed);
  const init = () => tf.initializers.glorotUniform({ seed: rng.seed() });
  const dropout = (rate: number) => new SeededDropout({ rate, seed: rng.seed() });
  const model = tf.sequential({ name });
  const inputShape = [28, 28, 1];
  if (name === 'keras-convnet') {
    model.add(tf.layers.conv2d({ inputShape, filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init() }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init() }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
    model.add(dropout(0.5));
    model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init() }));
    return model;
  }
  for (const filters of [32, 64]) {
    for (let i = 0; i < 2; i++) {
      model.add(tf.layers.conv2d({
        ...(model.layers.length === 0 ? { inputShape } : {}), filters, kernelSize: 3, padding: 'same', kernelInitializer: init(),
      }));
      model.add(tf.layers.batchNormalization());
      model.add(tf.layers.reLU());
    }
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(dropout(0.25));
  }
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 128, kernelInitializer: init() }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.reLU());
  model.add(dropout(0.5));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init() }));
  return model;
}
