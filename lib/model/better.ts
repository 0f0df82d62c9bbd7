import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, NUM_CLASSES } from '../data/classes';
import { Rng } from '../data/rng';
import { resolveHyperparameters, type Hyperparameters } from './hyperparams';
import { SeededDropout } from './seeded-dropout';

/**
 * The settings the better model was chosen with (notebooks/better-model.ipynb,
 * `npm run train -- --model better`). `learningRate` is the peak of the
 * one-cycle schedule (lib/training/schedule.ts); `filters` is the first
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

/** BETTER_HYPERPARAMETERS with `overrides`, checked as resolveHyperparameters checks them. */
export function betterHyperparameters(overrides: Partial<Hyperparameters> = {}): Hyperparameters {
  return resolveHyperparameters({ ...BETTER_HYPERPARAMETERS, ...overrides });
}

/**
 * Two convolution blocks with batch normalisation, then a normalised dense layer:
 * [Conv2D(3x3, same) -> BatchNorm -> ReLU -> MaxPool(2)] x 2 (filters, 2 x filters)
 * -> Dropout -> Flatten -> Dense -> BatchNorm -> ReLU -> Dropout -> Dense(10, softmax).
 * Convolutions and the hidden layer have no bias: the batch norm's offset replaces it.
 */
export function buildBetterModel(hp: Pick<Hyperparameters, 'filters' | 'denseUnits' | 'dropout' | 'seed'>): tf.Sequential {
  const rng = new Rng(hp.seed);
  const init = () => tf.initializers.glorotUniform({ seed: rng.seed() });
  const model = tf.sequential({ name: 'better_cnn' });
  [hp.filters, 2 * hp.filters].forEach((filters, i) => {
    const block = `block${i + 1}`;
    model.add(
      tf.layers.conv2d({
        name: `${block}_conv`,
        ...(i === 0 ? { inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1] } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: init(),
      }),
    );
    model.add(tf.layers.batchNormalization({ name: `${block}_bn`, momentum: BN_MOMENTUM }));
    model.add(tf.layers.reLU({ name: `${block}_relu` }));
    model.add(tf.layers.maxPooling2d({ name: `${block}_pool`, poolSize: 2 }));
  });
  model.add(new SeededDropout({ name: 'conv_dropout', rate: hp.dropout, seed: rng.seed() }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'hidden', units: hp.denseUnits, useBias: false, kernelInitializer: init() }));
  model.add(tf.layers.batchNormalization({ name: 'hidden_bn', momentum: BN_MOMENTUM }));
  model.add(tf.layers.reLU({ name: 'hidden_relu' }));
  model.add(new SeededDropout({ name: 'hidden_dropout', rate: hp.dropout, seed: rng.seed() }));
  model.add(tf.layers.dense({ name: 'output', units: NUM_CLASSES, activation: 'softmax', kernelInitializer: init() }));
  return model;
}
