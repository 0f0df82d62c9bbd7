/**
 * What a saved model carries beside its weights (metadata.json): one shape,
 * written the same by the notebooks and `npm run train -- --save`, and checked
 * when it is read.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkImageShape, FASHION_MNIST_SHAPE } from '../data/labeled-images';
import { CLASS_NAMES } from '../data/classes';
import { resolveHyperparameters } from './hyperparams';
import type { Hyperparameters, ModelName } from './settings';

/** One row of the training history, named as Keras names them. */
export interface EpochLog {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
  seconds: number;
}

export interface ModelMetadata {
  /** The zoo model it is (`hyperparameters.model`). */
  model: ModelName;
  hyperparameters: Hyperparameters;
  /** Its training, epoch by epoch; [] when it was not trained in this run. */
  history: EpochLog[];
  testAccuracy: number;
  /** The backend it was trained on. */
  backend: string;
  /** The data's class names, by label. */
  classNames: string[];
  /** The images it takes: [height, width, channels]. */
  inputShape: number[];
}

/** What a writer says of a run; the rest (the model's name and input shape) comes from `model` itself. */
export type RunFacts = Pick<ModelMetadata, 'hyperparameters' | 'history' | 'testAccuracy' | 'backend'> & { classNames: readonly string[] };

/** The metadata of `model` after the run `facts` describes, checked. */
export function modelMetadata(model: tf.LayersModel, facts: RunFacts): ModelMetadata {
  return checkModelMetadata(
    { model: facts.hyperparameters.model, ...facts, classNames: [...facts.classNames], inputShape: model.inputs[0].shape.slice(1) },
    'the metadata to save',
  );
}

const EPOCH_FIELDS = ['epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'seconds'] as const;

/**
 * `value` as ModelMetadata, or an error naming `where` and the field that is
 * wrong. Files saved before the metadata had one shape lack some fields: the
 * model name is then its hyperparameters', the history empty, the class names
 * and input shape Fashion-MNIST's.
 */
export function checkModelMetadata(value: unknown, where: string): ModelMetadata {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new Error(`${where}: ${field} is ${JSON.stringify(got) ?? String(got)}; expected ${expected}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('the metadata', 'a JSON object', value);
  const m = value as Record<string, unknown>;
  let hyperparameters: Hyperparameters;
  try {
    hyperparameters = resolveHyperparameters(m.hyperparameters as Partial<Hyperparameters>);
  } catch (e) {
    throw new Error(`${where}: hyperparameters: ${(e as Error).message}`);
  }
  const model = m.model ?? hyperparameters.model;
  if (model !== hyperparameters.model) fail('model', `its hyperparameters' model "${hyperparameters.model}"`, model);
  const history = m.history ?? [];
  if (!Array.isArray(history)) fail('history', 'an array of epochs', history);
  (history as unknown[]).forEach((row, i) => {
    for (const field of EPOCH_FIELDS) {
      const v = (row as Record<string, unknown> | null)?.[field];
      // null: a NaN that JSON wrote (model.fit's history keeps no seconds; a run without validation has no val_*).
      if (typeof v !== 'number' && v !== null) fail(`history[${i}].${field}`, 'a number', v);
    }
  });
  if (typeof m.testAccuracy !== 'number' || !(m.testAccuracy >= 0 && m.testAccuracy <= 1)) fail('testAccuracy', 'a number in [0, 1]', m.testAccuracy);
  if (typeof m.backend !== 'string') fail('backend', 'the name of a backend', m.backend);
  const classNames = m.classNames ?? [...CLASS_NAMES];
  if (!Array.isArray(classNames) || classNames.length < 2 || !classNames.every((n) => typeof n === 'string')) {
    fail('classNames', 'the names of at least two classes', classNames);
  }
  const inputShape = m.inputShape ?? [...FASHION_MNIST_SHAPE];
  if (!Array.isArray(inputShape)) fail('inputShape', '[height, width, channels]', inputShape);
  checkImageShape(inputShape as number[], `${where}: inputShape`);
  return {
    model: hyperparameters.model,
    hyperparameters,
    history: (history as EpochLog[]).map((row) => Object.fromEntries(EPOCH_FIELDS.map((f) => [f, row[f] ?? NaN])) as unknown as EpochLog),
    testAccuracy: m.testAccuracy as number,
    backend: m.backend as string,
    classNames: classNames as string[],
    inputShape: inputShape as number[],
  };
}
