import { BETTER_HYPERPARAMETERS } from './better';
import { DEFAULT_HYPERPARAMETERS, SHAPING_HYPERPARAMETERS, ZOO_MODELS, type Hyperparameters } from './settings';
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
  const model = zooModelName(overrides.model === undefined ? DEFAULT_HYPERPARAMETERS.model : overrides.model, 'hyperparameter model');
  const entry = zooEntry(model);
  const hp: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, ...entry.defaults, ...overrides, model };
  for (const key of Object.keys(RULES) as (keyof typeof RULES)[]) {
    const [ok, expected] = RULES[key];
    const value = hp[key];
    if (typeof value !== 'number' || !ok(value)) {
      throw new RangeError(`hyperparameter ${key} must be ${expected}, got ${formatValue(value)}`);
    }
  }
  for (const key of SHAPING_HYPERPARAMETERS.filter((k) => !entry.shapedBy.includes(k))) {
    if (hp[key] !== DEFAULT_HYPERPARAMETERS[key]) {
      const shaped = ZOO_MODELS.filter((name) => zooEntry(name).shapedBy.includes(key));
      throw new RangeError(
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
