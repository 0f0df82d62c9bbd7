import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import { dataShape, type DataShapeOptions } from './data-match';
import { SeededDropout } from './seeded-dropout';

/** What shapes the original CNN (and the better model): `Hyperparameters` and the data's shape. */
export interface SeedModelOptions extends DataShapeOptions {
  /** Number of 3x3 convolution filters. */
  filters: number;
  /** Units of the hidden dense layer. */
  denseUnits: number;
  /** Fraction of the pooled activations zeroed while training. */
  dropout: number;
  /** Seeds the initial weights and the dropout masks. */
  seed: number;
}

export const SEED_MODEL_NAME = 'fashion_cnn';

/**
 * The original notebook's CNN, as layers not yet in a model:
 * Conv2D(3x3, relu) -> MaxPool(2) -> Dropout -> Flatten -> Dense(relu) -> Dense(classes, softmax).
 */
export function seedModelLayers(hp: SeedModelOptions): tf.layers.Layer[] {
  const { inputShape, numClasses } = dataShape(hp);
  const rng = new Rng(hp.seed);
  const init = () => tf.initializers.glorotUniform({ seed: rng.seed() });
  return [
    tf.layers.conv2d({
      name: 'conv',
      inputShape,
      filters: hp.filters,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: init(),
    }),
    tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }),
    new SeededDropout({ name: 'dropout', rate: hp.dropout, seed: rng.seed() }),
    tf.layers.flatten({ name: 'flatten' }),
    tf.layers.dense({ name: 'hidden', units: hp.denseUnits, activation: 'relu', kernelInitializer: init() }),
    tf.layers.dense({ name: 'output', units: numClasses, activation: 'softmax', kernelInitializer: init() }),
  ];
}

/**
 * The original notebook's CNN (the zoo's `seed` model). With the default
 * hyperparameters it has 173,738 parameters. Hyperparameters that name
 * another model are refused: that model is buildZooModel's to build.
 */
export function buildModel(hp: SeedModelOptions & { model?: string }): tf.Sequential {
  if (hp.model !== undefined && hp.model !== 'seed') {
    throw new RangeError(
      `buildModel builds the original CNN (model "seed"), but hp.model is ${JSON.stringify(hp.model)}; ` +
        'build that one with buildZooModel(hp.model, hp)',
    );
  }
  return tf.sequential({ name: SEED_MODEL_NAME, layers: seedModelLayers(hp) });
}
