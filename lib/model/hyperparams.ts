/** Everything a user tunes, in one place. Defaults are the original notebook's. */
export interface Hyperparameters {
  /** Passes over the training split. */
  epochs: number;
  /** Images per optimiser step (one Adam update per batch). */
  batchSize: number;
  /** Adam step size. */
  learningRate: number;
  /** Fraction of the pooled activations zeroed while training. */
  dropout: number;
  /** Number of 3x3 convolution filters. */
  filters: number;
  /** Units of the hidden dense layer. */
  denseUnits: number;
  /** Share of the 60,000 training images held out for validation. */
  validationFraction: number;
  /** Seeds weight initialisation, the validation split, shuffling and dropout. */
  seed: number;
}

export const DEFAULT_HYPERPARAMETERS: Readonly<Hyperparameters> = Object.freeze({
  epochs: 25,
  batchSize: 4096,
  learningRate: 0.001,
  dropout: 0.2,
  filters: 32,
  denseUnits: 32,
  validationFraction: 0.2,
  seed: 42,
});

type Check = (v: number) => boolean;
const positiveInteger: [Check, string] = [(v) => Number.isInteger(v) && v > 0, 'a positive integer'];
const RULES: Record<keyof Hyperparameters, [Check, string]> = {
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
 * Fills in defaults and checks every value before any work starts, so a typo
 * fails in a second with a message naming the value, not an hour into training.
 */
export function resolveHyperparameters(overrides: Partial<Hyperparameters> = {}): Hyperparameters {
  for (const key of Object.keys(overrides)) {
    if (!(key in RULES)) {
      throw new TypeError(`unknown hyperparameter "${key}"; expected one of: ${Object.keys(RULES).join(', ')}`);
    }
  }
  const hp: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, ...overrides };
  for (const key of Object.keys(RULES) as (keyof Hyperparameters)[]) {
    const [ok, expected] = RULES[key];
    const value = hp[key];
    if (typeof value !== 'number' || !ok(value)) {
      throw new RangeError(`hyperparameter ${key} must be ${expected}, got ${formatValue(value)}`);
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
