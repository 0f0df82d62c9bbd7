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
import { Rng } from '../util/rng';
import { BETTER_HYPERPARAMETERS, BETTER_MODEL_NAME, betterModelLayers } from './better';
import { SEED_MODEL_NAME, seedModelLayers, type SeedModelOptions } from './cnn';
import { dataShape } from './data-match';
import { checkFootprintFits, layersFootprint, type MemoryEstimate, type TrainingLayout } from './memory';
import { SeededDropout } from './seeded-dropout';
import { SHAPING_HYPERPARAMETERS, ZOO_MODELS, type Hyperparameters, type ModelName, type ShapingHyperparameter } from './settings';

export { ZOO_MODELS, type ModelName };

/**
 * What zoo models are built from (`Hyperparameters` has all but the data's
 * shape): `seed`, `inputShape` and `numClasses` for every model; `filters`,
 * `denseUnits` and `dropout` shape the seed and better models only, the
 * others being fixed architectures.
 */
export type ZooOptions = SeedModelOptions;

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

/** Everything about one model of the zoo: how it is built, what sizes it, its defaults and how it trains. */
export interface ZooEntry {
  /** The tf.Sequential's name. */
  name: string;
  /** The layers, input first; new ones on every call. */
  layers(options: ZooOptions): tf.layers.Layer[];
  /** The hyperparameters that size its layers; another value of the others is refused, not ignored. */
  shapedBy: readonly ShapingHyperparameter[];
  /** Its defaults, where they are not DEFAULT_HYPERPARAMETERS (resolveHyperparameters fills them in). */
  defaults?: Readonly<Partial<Omit<Hyperparameters, 'model'>>>;
  /**
   * How train() moves its learning rate unless told otherwise: `constant` at
   * `hp.learningRate`, or `one-cycle` peaking there (lib/training/schedule.ts).
   */
  schedule: 'constant' | 'one-cycle';
}

const ZOO: Record<ModelName, ZooEntry> = {
  // The original notebook's CNN (lib/model/cnn.ts): 173,738 parameters with the default hyperparameters.
  seed: { name: SEED_MODEL_NAME, layers: seedModelLayers, shapedBy: SHAPING_HYPERPARAMETERS, schedule: 'constant' },

  // Keras' "Simple MNIST convnet" example: 34,826 parameters.
  'keras-convnet': {
    name: 'keras_convnet',
    shapedBy: [],
    schedule: 'constant',
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
    shapedBy: [],
    schedule: 'constant',
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
    shapedBy: [],
    schedule: 'constant',
    layers: (options) => {
      const { inputShape, numClasses } = dataShape(options);
      const k = new LayerMaker(options.seed);
      return [k.flatten({ inputShape: inputShape }), k.dense(256, 'relu'), k.dropout(0.2), k.dense(numClasses, 'softmax')];
    },
  },

  // notebooks/better-model.ipynb's model (lib/model/better.ts), with the settings and the schedule it was chosen with.
  better: {
    name: BETTER_MODEL_NAME,
    layers: betterModelLayers,
    shapedBy: SHAPING_HYPERPARAMETERS,
    defaults: BETTER_HYPERPARAMETERS,
    schedule: 'one-cycle',
  },
};

/** `name` if it names a zoo model; otherwise throws, naming `what`, the value and the zoo's models. */
export function zooModelName(name: unknown, what = 'model'): ModelName {
  if (typeof name !== 'string' || !(ZOO_MODELS as readonly string[]).includes(name)) {
    throw new RangeError(`${what} must be one of ${ZOO_MODELS.join(', ')}, got ${JSON.stringify(name)}`);
  }
  return name as ModelName;
}

/** Zoo model `name`'s entry: its defaults, what sizes it, how it trains (throws on a name outside the zoo). */
export function zooEntry(name: ModelName): Readonly<ZooEntry> {
  return ZOO[zooModelName(name)];
}

/** The layers of zoo model `name`, not in a model yet: for `layersFootprint` (./memory) before building. */
export function zooLayers(name: ModelName, options: ZooOptions): tf.layers.Layer[] {
  return zooEntry(name).layers(options);
}

/**
 * Refuses zoo model `name` with `options` (ModelTooLargeError, naming the sizes that
 * made it too large) when training it with `layout` cannot fit in memory, before a
 * byte of it exists: for a command line that checks before it loads the data.
 */
export function checkZooModelFits(name: ModelName, options: ZooOptions, layout: TrainingLayout): MemoryEstimate {
  const sizes = zooEntry(name).shapedBy.filter((key) => key !== 'dropout');
  return checkFootprintFits(
    layersFootprint(zooLayers(name, options), dataShape(options).inputShape),
    layout,
    sizes.length > 0 ? `model "${name}" with ${sizes.map((key) => `${key} ${options[key]}`).join(' and ')}` : `model "${name}"`,
    sizes.length > 0
      ? `Lower ${sizes.join(' or ')} (they size the weights; filters also the activations), or batchSize (the activations).`
      : 'Lower batchSize (it sizes the activations).',
  );
}

/** Builds zoo model `name` (one of ZOO_MODELS) with weights initialised from `options.seed`. */
export function buildZooModel(name: ModelName, options: ZooOptions): tf.Sequential {
  const entry = zooEntry(name);
  return tf.sequential({ name: entry.name, layers: entry.layers(options) });
}
