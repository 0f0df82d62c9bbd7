import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, NUM_CLASSES } from '../data/classes';
import type { Hyperparameters } from './hyperparams';
import { Rng } from '../data/rng';
import { SeededDropout } from './seeded-dropout';

/**
 * The original notebook's CNN:
 * Conv2D(3x3, relu) -> MaxPool(2) -> Dropout -> Flatten -> Dense(relu) -> Dense(10, softmax).
 * With the default hyperparameters it has 173,738 parameters.
 */
export function buildModel(hp: Pick<Hyperparameters, 'filters' | 'denseUnits' | 'dropout' | 'seed'>): tf.Sequential {
  const rng = new Rng(hp.seed);
  const init = () => tf.initializers.glorotUniform({ seed: rng.seed() });
  const model = tf.sequential({ name: 'fashion_cnn' });
  model.add(
    tf.layers.conv2d({
      name: 'conv',
      inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1],
      filters: hp.filters,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: init(),
    }),
  );
  model.add(tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }));
  model.add(new SeededDropout({ name: 'dropout', rate: hp.dropout, seed: rng.seed() }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'hidden', units: hp.denseUnits, activation: 'relu', kernelInitializer: init() }));
  model.add(tf.layers.dense({ name: 'output', units: NUM_CLASSES, activation: 'softmax', kernelInitializer: init() }));
  return model;
}
