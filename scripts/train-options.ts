/**
 * The options of `npm run train`: parsed and checked before any work starts,
 * and listed by --help, from one table.
 */
import { parseArgs } from 'node:util';
import { FASHION_MNIST_IMAGES } from '../lib/data/fashion-mnist';
import { defaultTrainingLayout } from '../lib/engine/default-engine';
import { DEFAULT_HYPERPARAMETERS, HYPERPARAMETER_RANGES, HyperparameterError, resolveHyperparameters, type Hyperparameters } from '../lib/model/hyperparams';
import { checkZooModelFits, zooEntry, zooModelName, ZOO_MODELS, type ModelName } from '../lib/model/zoo';

/** A hyperparameter a flag sets: one with a range (the model has its own flag). */
type FlagKey = keyof typeof HYPERPARAMETER_RANGES;

interface HyperparameterFlag {
  key: FlagKey;
  /** The value's placeholder in --help. */
  value: string;
  help: string;
}

export const HYPERPARAMETER_FLAGS: Readonly<Record<string, HyperparameterFlag>> = {
  epochs: { key: 'epochs', value: 'N', help: 'passes over the training images' },
  'batch-size': { key: 'batchSize', value: 'N', help: 'images per Adam step' },
  lr: { key: 'learningRate', value: 'X', help: "Adam's step size" },
  dropout: { key: 'dropout', value: 'X', help: 'share of the pooled activations zeroed while training (seed and better models)' },
  filters: { key: 'filters', value: 'N', help: 'number of 3x3 convolution filters (seed; the better model\'s first convolution)' },
  'dense-units': { key: 'denseUnits', value: 'N', help: 'units of the hidden dense layer (seed and better models)' },
  'validation-fraction': { key: 'validationFraction', value: 'X', help: 'share of the training images held out' },
  seed: { key: 'seed', value: 'N', help: 'seeds the initial weights, validation split, shuffling and dropout' },
};

const OTHER_FLAGS = {
  model: {
    value: 'NAME',
    help: `the model and how it trains: ${ZOO_MODELS.join(', ')} (the zoo, lib/model/zoo.ts); better has the defaults in brackets above, which the options override, and a one-cycle learning-rate schedule`,
    default: 'seed',
  },
  save: { value: 'DIR', help: 'save the trained model to DIR (model.json, weights.bin, metadata.json)', default: 'not saved' },
  json: { value: '', help: 'end with one JSON line of results on stdout; progress goes to stderr', default: 'off' },
  help: { value: '', help: 'print this help and exit', default: '' },
} as const;

export type TrainCommand =
  | { help: true }
  | { help: false; model: ModelName; hyperparameters: Hyperparameters; save?: string; json: boolean };

const USAGE = 'npm run train -- --help lists every option';

/**
 * Reads the command line. Throws an error naming the option and what it
 * expects for an unknown option (with the closest valid one), a missing,
 * repeated or invalid value, or a stray argument.
 */
export function parseTrainArgs(args: readonly string[]): TrainCommand {
  const { tokens } = parseArgs({
    args: [...args],
    options: {
      ...Object.fromEntries(Object.keys(HYPERPARAMETER_FLAGS).map((f) => [f, { type: 'string' as const }])),
      model: { type: 'string' },
      save: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    // Checked here instead, with messages that say what to type.
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const given = new Map<string, string | undefined>();
  for (const token of tokens) {
    if (token.kind === 'positional') {
      throw new Error(`unexpected argument ${JSON.stringify(token.value)}: options are written --name value (${USAGE})`);
    }
    if (token.kind !== 'option') continue;
    const { name, rawName, value, inlineValue } = token;
    if (name === 'help') return { help: true };
    if (!(name in HYPERPARAMETER_FLAGS) && !(name in OTHER_FLAGS)) {
      throw new Error(`unknown option ${rawName}; did you mean --${closestFlag(name)}? (${USAGE})`);
    }
    if (given.has(name)) throw new Error(`${rawName} is given twice; give it once`);
    if (name === 'json') {
      if (value !== undefined) throw new Error(`--json takes no value, got --json=${value}`);
    } else if (value === undefined || value === '' || (!inlineValue && value.startsWith('--'))) {
      const found = value === undefined ? 'nothing' : JSON.stringify(value);
      throw new Error(`--${name} needs a value (${expectedValue(name)}), got ${found}`);
    }
    given.set(name, value);
  }
  const overrides: Record<string, unknown> = {};
  for (const [flag, { key }] of Object.entries(HYPERPARAMETER_FLAGS)) {
    const raw = given.get(flag);
    if (raw === undefined) continue;
    // Numbers, except for hyperparameters whose default is text.
    const value = typeof DEFAULT_HYPERPARAMETERS[key] === 'number' ? Number(raw) : raw;
    if (typeof value === 'number' && (raw.trim() === '' || Number.isNaN(value))) {
      throw new Error(`--${flag} must be a number, got ${JSON.stringify(raw)}`);
    }
    overrides[key] = value;
  }
  const model = zooModelName(given.get('model') ?? DEFAULT_HYPERPARAMETERS.model, '--model');
  const hyperparameters = resolveWithFlags({ ...overrides, model });
  // The model's size, before the data loads: train() checks it again with the data in hand.
  checkZooModelFits(model, hyperparameters, defaultTrainingLayout(hyperparameters.batchSize, FASHION_MNIST_IMAGES));
  return { help: false, model, hyperparameters, save: given.get('save'), json: given.has('json') };
}

/** resolveHyperparameters, with the option that set a refused value named first. */
function resolveWithFlags(overrides: Partial<Hyperparameters>): Hyperparameters {
  try {
    return resolveHyperparameters(overrides);
  } catch (e) {
    if (!(e instanceof HyperparameterError)) throw e;
    const flag = Object.keys(HYPERPARAMETER_FLAGS).find((f) => HYPERPARAMETER_FLAGS[f].key === (e as HyperparameterError).key);
    throw new Error(flag === undefined ? e.message : `--${flag}: ${e.message}`);
  }
}

/** What `npm run train -- --help` prints. */
export function trainHelp(): string {
  const rows: [string, string][] = [
    ...Object.entries(HYPERPARAMETER_FLAGS).map(([flag, { key, value, help }]): [string, string] => [
      `--${flag} ${value}`,
      `${help}; default ${DEFAULT_HYPERPARAMETERS[key]}${modelDefaults(key)}, ${rangeOf(key)}`,
    ]),
    ...Object.entries(OTHER_FLAGS).map(([flag, { value, help, default: fallback }]): [string, string] => [
      `${flag === 'help' ? '-h, ' : ''}--${flag}${value ? ` ${value}` : ''}`,
      fallback ? `${help}; default: ${fallback}` : help,
    ]),
  ];
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  return [
    'Usage: npm run train -- [options]',
    '',
    "Trains a model of the zoo (the original notebook's CNN unless --model says another) on Fashion-MNIST",
    'and prints the test loss, accuracy and classification report.',
    '',
    'Options:',
    ...rows.map(([name, text]) => `  ${name.padEnd(width)}${text}`),
    '',
    'Environment: FASHION_MNIST_DIR (data directory), FASHION_MNIST_MIRROR (where missing files are downloaded',
    'from), TFJS_BACKEND (wasm, cpu or tensorflow; unset picks the fastest), X86_KERNELS (off, avx2 or avx512;',
    'unset runs the native x86-64 convolutions with the widest instruction set this CPU has).',
    '',
  ].join('\n');
}

/** The zoo models' own defaults for `key` in brackets, where they differ from the original's. */
function modelDefaults(key: FlagKey): string {
  const own = ZOO_MODELS.flatMap((name) => {
    const value = zooEntry(name).defaults?.[key];
    return value === undefined || value === DEFAULT_HYPERPARAMETERS[key] ? [] : [`${name}: ${value}`];
  });
  return own.length === 0 ? '' : ` (${own.join(', ')})`;
}

/** The values `key` accepts, in the words of its error message. */
const rangeOf = (key: FlagKey) => HYPERPARAMETER_RANGES[key].range;

function expectedValue(flag: string): string {
  const hyperparameter = HYPERPARAMETER_FLAGS[flag];
  if (flag === 'model') return ZOO_MODELS.join(', ');
  return hyperparameter === undefined ? 'a directory' : rangeOf(hyperparameter.key);
}

/** The valid option nearest to `name`, hyperparameter names and initials included (--learningRate finds --lr). */
export function closestFlag(name: string): string {
  const aliases: [string, string][] = [
    ...Object.keys(OTHER_FLAGS).map((flag): [string, string] => [flag, flag]),
    ...Object.entries(HYPERPARAMETER_FLAGS).flatMap(([flag, { key }]): [string, string][] => [
      [flag, flag],
      [key, flag],
      // Initials: --bs for --batch-size.
      [flag.split('-').map((word) => word[0]).join(''), flag],
    ]),
  ];
  const plain = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  // A prefix (-e, --val) means the option it starts; anything else, the fewest edits away.
  const prefixed = aliases.filter(([alias]) => plain(alias).startsWith(plain(name)));
  if (prefixed.length > 0) return prefixed.reduce((a, b) => (b[0].length < a[0].length ? b : a))[1];
  let best = aliases[0];
  let bestDistance = Infinity;
  for (const alias of aliases) {
    const distance = editDistance(plain(name), plain(alias[0]));
    if (distance < bestDistance) [best, bestDistance] = [alias, distance];
  }
  return best[1];
}

/** Levenshtein distance: single-character insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length];
}
