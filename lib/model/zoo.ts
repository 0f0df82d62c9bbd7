/**
 * The model zoo: every model a notebook or the command line builds by name,
 * in one call, as in a Keras code example. Each is a `tf.Sequential` from
 * images (28x28x1 unless `inputShape` says otherwise) to softmax
 * probabilities (10 unless `numClasses` says otherwise):
 *
 *   const model = buildZooModel('bn-cnn', hp);
 *   const digits3 = buildZooModel('seed', { ...hp, inputShape: [32, 32, 3], numClasses: 3 });
 *
 * Weights are initialised from `hp.seed` and dropout is SeededDropout, so the
 * same seed trains the same model. Layers carry the names Keras gives them
 * (conv2d, conv2d_1, max_pooling2d, ...), except the seed and better models',
 * which keep their names so that models saved before still load.
 */
import * as tf from '@tensorflow/tfjs';
import { FASHION_MNIST_SHAPE } from '../data/labeled-images';
import { Rng } from '../data/rng';
import { BETTER_MODEL_NAME, betterModelLayers } from './better';
import { SEED_MODEL_NAME, seedModelLayers, type SeedModelOptions } from './cnn';
import { dataShape } from './data-match';
import { SeededDropout } from './seeded-dropout';

export const ZOO_MODELS = ['seed', 'keras-convnet', 'bn-cnn', 'mlp', 'better'] as const;
export type ModelName = (typeof ZOO_MODELS)[number];

/**
 * What zoo models are built from (`Hyperparameters` has all but the data's
 * shape): `seed`, `inputShape` and `numClasses` for every model; `filters`,
 * `denseUnits` and `dropout` shape the seed and better models only, the
 * others being fixed architectures.
 */
export type ZooOptions = SeedModelOptions;

/** What a zoo model built without `inputShape` takes: one Fashion-MNIST image. */
export const INPUT_SHAPE: number[] = [...FASHION_MNIST_SHAPE];

/** Makes one model's layers: initialisers and dropout seeded in layer order, Keras' layer names. */
class LayerMaker {
  private readonly rng: Rng;
  private readonly counts = new Map<string, number>();

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  /** `base`, then `base_1`, `base_2`, ... within the model, as Keras names layers. */
  private name(base: string): string {
    const n = this.counts.get(base) ?? 0;
    this.counts.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }

  private init(): ReturnType<typeof tf.initializers.glorotUniform> {
    return tf.initializers.glorotUniform({ seed: this.rng.seed() });
  }

  conv(filters: number, options: { activation?: 'relu'; padding?: 'same'; inputShape?: number[] } = {}): tf.layers.Layer {
    return tf.layers.conv2d({ name: this.name('conv2d'), filters, kernelSize: 3, kernelInitializer: this.init(), ...options });
  }

  dense(units: number, activation?: 'relu' | 'softmax'): tf.layers.Layer {
    return tf.layers.dense({ name: this.name('dense'), units, activation, kernelInitializer: this.init() });
  }

  dropout(rate: number): tf.layers.Layer {
    return new SeededDropout({ name: this.name('dropout'), rate, seed: this.rng.seed() });
  }

  maxPool(): tf.layers.Layer {
    return tf.layers.maxPooling2d({ name: this.name('max_pooling2d'), poolSize: 2 });
  }

  flatten(options: { inputShape?: number[] } = {}): tf.layers.Layer {
    return tf.layers.flatten({ name: this.name('flatten'), ...options });
  }

  batchNorm(): tf.layers.Layer {
    return tf.layers.batchNormalization({ name: this.name('batch_normalization') });
  }

  relu(): tf.layers.Layer {
    return tf.layers.reLU({ name: this.name('re_lu') });
  }
}

interface ZooEntry {
  /** The tf.Sequential's name. */
  name: string;
  /** The layers, input first; new ones on every call. */
  layers(options: ZooOptions): tf.layers.Layer[];
}

const ZOO: Record<ModelName, ZooEntry> = {
  // The original notebook's CNN (lib/model/cnn.ts): 173,738 parameters with the default hyperparameters.
  seed: { name: SEED_MODEL_NAME, layers: seedModelLayers },

  // Keras' "Simple MNIST convnet" example: 34,826 parameters.
  'keras-convnet': {
    name: 'keras_convnet',
    layers: (options) => {
      const { inputShape, numClasses } = dataShape(options);
      const k = new LayerMaker(options.seed);
      return [
        k.conv(32, { activation: 'relu', inputShape }),
        k.maxPool(),
        k.conv(64, { activation: 'relu' }),
        k.maxPool(),
        k.flatten(),
        k.dropout(0.5),
        k.dense(numClasses, 'softmax'),
      ];
    },
  },

  // Two blocks of two convolutions with batch normalisation: 468,458 trainable parameters.
  'bn-cnn': {
    name: 'bn_cnn',
    layers: (options) => {
      const { inputShape, numClasses } = dataShape(options);
      const k = new LayerMaker(options.seed);
      // `input`: the model's input shape, for its first layer.
      const convBnRelu = (filters: number, input?: number[]) => [
        k.conv(filters, { padding: 'same', ...(input && { inputShape: input }) }),
        k.batchNorm(),
        k.relu(),
      ];
      const block = (filters: number, input?: number[]) => [
        ...convBnRelu(filters, input),
        ...convBnRelu(filters),
        k.maxPool(),
        k.dropout(0.25),
      ];
      return [
        ...block(32, inputShape),
        ...block(64),
        k.flatten(),
        k.dense(128),
        k.batchNorm(),
        k.relu(),
        k.dropout(0.5),
        k.dense(numClasses, 'softmax'),
      ];
    },
  },

  // A multilayer perceptron, the baseline without convolutions: 203,530 parameters.
  mlp: {
    name: 'mlp',
    layers: (options) => {
      const { inputShape, numClasses } = dataShape(options);
      const k = new LayerMaker(options.seed);
      return [k.flatten({ inputShape: inputShape }), k.dense(256, 'relu'), k.dropout(0.2), k.dense(numClasses, 'softmax')];
    },
  },

  // notebooks/better-model.ipynb's model (lib/model/better.ts), trained with a one-cycle schedule.
  better: { name: BETTER_MODEL_NAME, layers: betterModelLayers },
};

/** `name` if it names a zoo model; otherwise throws, naming `what`, the value and the zoo's models. */
export function zooModelName(name: unknown, what = 'model'): ModelName {
  if (typeof name !== 'string' || !(ZOO_MODELS as readonly string[]).includes(name)) {
    throw new RangeError(`${what} must be one of ${ZOO_MODELS.join(', ')}, got ${JSON.stringify(name)}`);
  }
  return name as ModelName;
}

/** The layers of zoo model `name`, not in a model yet: for `layersFootprint` (./memory) before building. */
export function zooLayers(name: ModelName, options: ZooOptions): tf.layers.Layer[] {
  return ZOO[zooModelName(name)].layers(options);
}

/** Builds zoo model `name` (one of ZOO_MODELS) with weights initialised from `options.seed`. */
export function buildZooModel(name: ModelName, options: ZooOptions): tf.Sequential {
  const entry = ZOO[zooModelName(name)];
  return tf.sequential({ name: entry.name, layers: entry.layers(options) });
}
