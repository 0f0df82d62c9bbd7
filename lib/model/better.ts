import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import type { SeedModelOptions } from './cnn';
import { dataShape } from './data-match';
import { SeededDropout } from './seeded-dropout';
import type { Hyperparameters } from './settings';

/**
 * The settings the better model was chosen with (notebooks/better-model.ipynb,
 * `npm run train -- --model better`): its defaults. `learningRate` is the peak
 * of its one-cycle schedule (lib/training/schedule.ts); `filters` is the first
 * convolution's, the second has twice as many.
 */
export const BETTER_HYPERPARAMETERS: Readonly<Omit<Hyperparameters, 'model'>> = Object.freeze({
  epochs: 12,
  batchSize: 256,
  learningRate: 0.003,
  dropout: 0.25,
  filters: 16,
  denseUnits: 128,
  validationFraction: 0.2,
  seed: 42,
});

/**
 * Share of the moving batch-norm statistics kept at each step: PyTorch's
 * default (its momentum 0.1), which the model was chosen with, rather than
 * Keras' 0.99, whose statistics lag a run of a few hundred steps.
 */
const BN_MOMENTUM = 0.9;

export const BETTER_MODEL_NAME = 'better_cnn';

/**
 * The better model (the zoo's `better`), as layers not yet in a model. Two
 * convolution blocks with batch normalisation, then a normalised dense layer:
 * [Conv2D(3x3, same) -> BatchNorm -> ReLU -> MaxPool(2)] x 2 (filters, 2 x filters)
 * -> Dropout -> Flatten -> Dense -> BatchNorm -> ReLU -> Dropout -> Dense(classes, softmax).
 * Convolutions and the hidden layer have no bias: the batch norm's offset replaces it.
 */
export function betterModelLayers(hp: SeedModelOptions): tf.layers.Layer[] {
  const { inputShape, numClasses } = dataShape(hp);
  const rng = new Rng(hp.seed);
  const init = () => tf.initializers.glorotUniform({ seed: rng.seed() });
  const blocks = [hp.filters, 2 * hp.filters].flatMap((filters, i) => {
    const block = `block${i + 1}`;
    return [
      tf.layers.conv2d({
        name: `${block}_conv`,
        ...(i === 0 ? { inputShape } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: init(),
      }),
      tf.layers.batchNormalization({ name: `${block}_bn`, momentum: BN_MOMENTUM }),
      tf.layers.reLU({ name: `${block}_relu` }),
      tf.layers.maxPooling2d({ name: `${block}_pool`, poolSize: 2 }),
    ];
  });
  return [
    ...blocks,
    new SeededDropout({ name: 'conv_dropout', rate: hp.dropout, seed: rng.seed() }),
    tf.layers.flatten({ name: 'flatten' }),
    tf.layers.dense({ name: 'hidden', units: hp.denseUnits, useBias: false, kernelInitializer: init() }),
    tf.layers.batchNormalization({ name: 'hidden_bn', momentum: BN_MOMENTUM }),
    tf.layers.reLU({ name: 'hidden_relu' }),
    new SeededDropout({ name: 'hidden_dropout', rate: hp.dropout, seed: rng.seed() }),
    tf.layers.dense({ name: 'output', units: numClasses, activation: 'softmax', kernelInitializer: init() }),
  ];
}

/**
 * The better model: `filters` is the first convolution's (the second has twice
 * as many), `denseUnits` the hidden layer's, `dropout` both dropouts' rate.
 * With BETTER_HYPERPARAMETERS it has 207,098 trainable parameters.
 */
export function buildBetterModel(hp: SeedModelOptions): tf.Sequential {
  return tf.sequential({ name: BETTER_MODEL_NAME, layers: betterModelLayers(hp) });
}
