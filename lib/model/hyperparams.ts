import { BETTER_HYPERPARAMETERS } from './better';
import { DEFAULT_HYPERPARAMETERS, SHAPING_HYPERPARAMETERS, ZOO_MODELS, type Hyperparameters, type ModelName } from './settings';
import { zooEntry, zooModelName } from './zoo';

export { BETTER_HYPERPARAMETERS, DEFAULT_HYPERPARAMETERS, type Hyperparameters };

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

/** The values a hyperparameter accepts: the check, and the words its error message and `--help` use. */
export interface HyperparameterRange {
  accepts(value: number): boolean;
  range: string;
}

const positiveInteger: HyperparameterRange = { accepts: (v) => Number.isInteger(v) && v > 0, range: 'a positive integer' };

/** Every numeric hyperparameter's accepted values, in one table. */
export const HYPERPARAMETER_RANGES: Readonly<Record<Exclude<keyof Hyperparameters, 'model'>, HyperparameterRange>> = Object.freeze({
  epochs: positiveInteger,
  batchSize: positiveInteger,
  learningRate: { accepts: (v) => Number.isFinite(v) && v > 0, range: 'a finite number > 0' },
  dropout: { accepts: (v) => Number.isFinite(v) && v >= 0 && v < 1, range: 'a number in [0, 1)' },
  filters: positiveInteger,
  denseUnits: positiveInteger,
  validationFraction: { accepts: (v) => Number.isFinite(v) && v > 0 && v < 1, range: 'a number in (0, 1)' },
  seed: { accepts: (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, range: 'an integer in [0, 2^32)' },
});

/** A hyperparameter's value refused; `key` names it, so a caller can name its own flag for it. */
export class HyperparameterError extends RangeError {
  constructor(
    readonly key: keyof Hyperparameters,
    message: string,
  ) {
    super(message);
    this.name = 'HyperparameterError';
  }
}

/**
 * Fills in defaults (the original's, or the model's own: lib/model/zoo.ts) and
 * checks every value before any work starts, so a typo fails in a second with
 * a message naming the value, not an hour into training. The values alone:
 * whether the model fits this machine's memory is train()'s check, which
 * knows the data and the engine.
 */
export function resolveHyperparameters(overrides: Partial<Hyperparameters> = {}): Hyperparameters {
  for (const key of Object.keys(overrides)) {
    if (!(key in DEFAULT_HYPERPARAMETERS)) {
      throw new TypeError(`unknown hyperparameter "${key}"; expected one of: ${Object.keys(DEFAULT_HYPERPARAMETERS).join(', ')}`);
    }
  }
  let model: ModelName;
  try {
    model = zooModelName(overrides.model === undefined ? DEFAULT_HYPERPARAMETERS.model : overrides.model, 'hyperparameter model');
  } catch (e) {
    throw new HyperparameterError('model', (e as Error).message);
  }
  const entry = zooEntry(model);
  const hp: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, ...entry.defaults, ...overrides, model };
  for (const key of Object.keys(HYPERPARAMETER_RANGES) as (keyof typeof HYPERPARAMETER_RANGES)[]) {
    const { accepts, range } = HYPERPARAMETER_RANGES[key];
    const value = hp[key];
    if (typeof value !== 'number' || !accepts(value)) {
      throw new HyperparameterError(key, `hyperparameter ${key} must be ${range}, got ${formatValue(value)}`);
    }
  }
  for (const key of SHAPING_HYPERPARAMETERS.filter((k) => !entry.shapedBy.includes(k))) {
    if (hp[key] !== DEFAULT_HYPERPARAMETERS[key]) {
      const shaped = ZOO_MODELS.filter((name) => zooEntry(name).shapedBy.includes(key));
      throw new HyperparameterError(
        key,
        `hyperparameter ${key} is ${hp[key]}, but it shapes only the ${shaped.join(' and ')} models; model "${model}" is a fixed ` +
          `architecture (leave ${key} at ${DEFAULT_HYPERPARAMETERS[key]}, or use model ${shaped.map((m) => `"${m}"`).join(' or ')})`,
      );
    }
  }
  return hp;
}

/** A value as the user wrote it: JSON would print Infinity and NaN as null. */
function formatValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
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
