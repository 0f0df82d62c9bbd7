import { checkFootprintFits, defaultTrainingLayout, layersFootprint } from './memory';
import { INPUT_SHAPE, zooLayers, zooModelName, type ModelName } from './zoo';

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
  /** Adam step size. */
  learningRate: number;
  /** Fraction of the pooled activations zeroed while training (seed and better models). */
  dropout: number;
  /** Number of 3x3 convolution filters (seed model; the better model's first convolution). */
  filters: number;
  /** Units of the hidden dense layer (seed and better models). */
  denseUnits: number;
  /** Share of the 60,000 training images held out for validation. */
  validationFraction: number;
  /** Seeds weight initialisation, the validation split, shuffling and dropout. */
  seed: number;
}

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

/**
 * The settings the better model was chosen with (notebooks/better-model.ipynb,
 * `npm run train -- --model better`): its defaults. `learningRate` is the peak
 * of the one-cycle schedule (lib/training/schedule.ts); `filters` is the first
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

/** The better model with its defaults and `overrides`, checked as resolveHyperparameters checks them. */
export function betterHyperparameters(overrides: Partial<Hyperparameters> = {}): Hyperparameters {
  if (overrides.model !== undefined && overrides.model !== 'better') {
    throw new RangeError(
      `betterHyperparameters makes the better model's settings, but model is ${JSON.stringify(overrides.model)}; ` +
        'use resolveHyperparameters for another model',
    );
  }
  return resolveHyperparameters({ ...overrides, model: 'better' });
}

type Check = (v: number) => boolean;
const positiveInteger: [Check, string] = [(v) => Number.isInteger(v) && v > 0, 'a positive integer'];
const RULES: Record<Exclude<keyof Hyperparameters, 'model'>, [Check, string]> = {
  epochs: positiveInteger,
  batchSize: positiveInteger,
  learningRate: [(v) => Number.isFinite(v) && v > 0, 'a finite number > 0'],
  dropout: [(v) => Number.isFinite(v) && v >= 0 && v < 1, 'a number in [0, 1)'],
  filters: positiveInteger,
  denseUnits: positiveInteger,
  validationFraction: [(v) => Number.isFinite(v) && v > 0 && v < 1, 'a number in (0, 1)'],
  seed: [(v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, 'an integer in [0, 2^32)'],
};

/** What shapes the seed and better models; the zoo's other models are fixed architectures. */
const SHAPING = ['filters', 'denseUnits', 'dropout'] as const;
const SHAPED_MODELS: readonly ModelName[] = ['seed', 'better'];

/**
 * Fills in defaults and checks every value before any work starts, so a typo
 * fails in a second with a message naming the value, not an hour into
 * training; and so does a model too large to train in this machine's memory
 * (lib/model/memory.ts), before a byte of it is allocated.
 */
export function resolveHyperparameters(overrides: Partial<Hyperparameters> = {}): Hyperparameters {
  for (const key of Object.keys(overrides)) {
    if (!(key in DEFAULT_HYPERPARAMETERS)) {
      throw new TypeError(`unknown hyperparameter "${key}"; expected one of: ${Object.keys(DEFAULT_HYPERPARAMETERS).join(', ')}`);
    }
  }
  const model = zooModelName(overrides.model === undefined ? DEFAULT_HYPERPARAMETERS.model : overrides.model, 'hyperparameter model');
  const defaults = model === 'better' ? { ...DEFAULT_HYPERPARAMETERS, ...BETTER_HYPERPARAMETERS } : DEFAULT_HYPERPARAMETERS;
  const hp: Hyperparameters = { ...defaults, ...overrides, model };
  for (const key of Object.keys(RULES) as (keyof typeof RULES)[]) {
    const [ok, expected] = RULES[key];
    const value = hp[key];
    if (typeof value !== 'number' || !ok(value)) {
      throw new RangeError(`hyperparameter ${key} must be ${expected}, got ${formatValue(value)}`);
    }
  }
  for (const key of SHAPED_MODELS.includes(model) ? [] : SHAPING) {
    if (hp[key] !== DEFAULT_HYPERPARAMETERS[key]) {
      throw new RangeError(
        `hyperparameter ${key} is ${hp[key]}, but it shapes only the seed and better models; model "${model}" is a fixed ` +
          `architecture (leave ${key} at ${DEFAULT_HYPERPARAMETERS[key]}, or use model "seed" or "better")`,
      );
    }
  }
  checkFits(hp);
  return hp;
}

/** A value as the user wrote it: JSON would print Infinity and NaN as null. */
function formatValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** Refuses hp.model when training it with the default engine cannot fit in memory. */
function checkFits(hp: Hyperparameters): void {
  const shaped = SHAPED_MODELS.includes(hp.model);
  checkFootprintFits(
    layersFootprint(zooLayers(hp.model, hp), INPUT_SHAPE),
    defaultTrainingLayout(hp.batchSize),
    shaped ? `model "${hp.model}" with filters ${hp.filters} and denseUnits ${hp.denseUnits}` : `model "${hp.model}"`,
    shaped
      ? 'Lower filters or denseUnits (they size the weights; filters also the activations), or batchSize (the activations).'
      : 'Lower batchSize (it sizes the activations).',
  );
}

/**
 * `EPOCHS` from the environment, for quick headless runs of a notebook
 * (`EPOCHS=1 npm run execute`); empty when unset.
 */
export function epochsFromEnvironment(env: NodeJS.ProcessEnv = process.env): Partial<Hyperparameters> {
  if (env.EPOCHS === undefined || env.EPOCHS === '') return {};
  const epochs = Number(env.EPOCHS);
  if (!Number.isInteger(epochs) || epochs <= 0) {
    throw new RangeError(`environment variable EPOCHS must be a positive integer, got ${JSON.stringify(env.EPOCHS)}`);
  }
  return { epochs };
}
