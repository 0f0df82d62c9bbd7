/**
 * What a run is set by: the names of the zoo's models and the hyperparameters,
 * with the original notebook's values as defaults. The zoo (./zoo.ts) says
 * what each model changes of these; ./hyperparams.ts fills in and checks them.
 */

/** The zoo's models (lib/model/zoo.ts), by the names notebooks and `--model` use. */
export const ZOO_MODELS = ['seed', 'keras-convnet', 'bn-cnn', 'mlp', 'better'] as const;
export type ModelName = (typeof ZOO_MODELS)[number];

/** Everything a user tunes, in one place. Defaults are the original notebook's. */
export interface Hyperparameters {
  /**
   * The model to train, from the zoo (lib/model/zoo.ts): `seed` is the original
   * notebook's CNN, `better` the better model, which has its own defaults.
   */
  model: ModelName;
  /** Passes over the training split. */
  epochs: number;
  /** Images per optimiser step (one Adam update per batch). */
  batchSize: number;
  /** Adam step size (the peak of a model's schedule, where it has one). */
  learningRate: number;
  /** Fraction of the pooled activations zeroed while training (seed and better models). */
  dropout: number;
  /** Number of 3x3 convolution filters (seed model; the better model's first convolution). */
  filters: number;
  /** Units of the hidden dense layer (seed and better models). */
  denseUnits: number;
  /** Share of the training images held out for validation. */
  validationFraction: number;
  /** Seeds weight initialisation, the validation split, shuffling and dropout. */
  seed: number;
}

/** The hyperparameters that size a model's layers, for the zoo's models that have such sizes. */
export const SHAPING_HYPERPARAMETERS = ['filters', 'denseUnits', 'dropout'] as const;
export type ShapingHyperparameter = (typeof SHAPING_HYPERPARAMETERS)[number];

export const DEFAULT_HYPERPARAMETERS: Readonly<Hyperparameters> = Object.freeze({
  model: 'seed',
  epochs: 25,
  batchSize: 4096,
  learningRate: 0.001,
  dropout: 0.2,
  filters: 32,
  denseUnits: 32,
  validationFraction: 0.2,
  seed: 42,
});
