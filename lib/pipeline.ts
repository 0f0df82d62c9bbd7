/**
 * The whole workflow on one screen, stage by stage: the IDX files' images
 * become tensors (data), a model is built (model) and trained (training, on
 * the engine's threads), and tested (report).
 */
import type * as tf from '@tensorflow/tfjs';
import type { FashionMnist } from './data/fashion-mnist';
import { splitValidation } from './data/split';
import { disposeTensors, toTensors, type LabeledTensors } from './data/tensors';
import { dataShapeOf } from './model/data-match';
import { buildZooModel } from './model/zoo';
import { hasSavedModel, loadModel, loadModelMetadata } from './model/io';
import type { ModelMetadata } from './model/metadata';
import type { Hyperparameters } from './model/hyperparams';
import { selectBackend, type BackendInfo } from './engine/backend';
import type { EpochLog } from './training/epoch-log';
import { train, TrainingStoppedError, type TrainOptions } from './training/train';
import { testModel, type TestResults } from './report/test-results';

/** The three splits as model input, ready to train on. */
export interface PreparedData {
  train: LabeledTensors;
  validation: LabeledTensors;
  test: LabeledTensors;
}

/** Seeded train/validation split of the training file, plus the test file, as tensors. */
export function prepareData(raw: FashionMnist, hp: Pick<Hyperparameters, 'validationFraction' | 'seed'>): PreparedData {
  const { train, validation } = splitValidation(raw.train, hp.validationFraction, hp.seed);
  return { train: toTensors(train), validation: toTensors(validation), test: toTensors(raw.test) };
}

export function disposeData(data: PreparedData): void {
  disposeTensors(data.train, data.validation, data.test);
}

export interface Experiment {
  backend: BackendInfo;
  model: tf.LayersModel;
  history: EpochLog[];
  test: TestResults;
}

/**
 * The whole workflow without the pictures: build, train, test. For the
 * command line and for notebooks that compare settings; the caller owns
 * (and disposes) the returned model. `build` makes the model: by default the zoo's `hp.model`,
 * sized for the data.
 * Kernel -> Interrupt (or `options.signal`) stops it with a TrainingStoppedError; the model is then disposed.
 */
export async function runExperiment(
  hp: Hyperparameters,
  data: PreparedData,
  options: TrainOptions = {},
  build: (hp: Hyperparameters) => tf.LayersModel = (hp) => buildZooModel(hp.model, { ...hp, ...dataShapeOf(data.train) }),
): Promise<Experiment> {
  const backend = await selectBackend();
  const model = build(hp);
  try {
    const history = await train(model, data, hp, options);
    return { backend, model, history, test: await testModel(model, data.test) };
  } catch (e) {
    model.dispose();
    throw e instanceof TrainingStoppedError ? e.withAdvice('the model is disposed') : e;
  }
}

/** A model from loadOrTrain: the saved one with its metadata, or one trained just now. */
export interface LoadedOrTrained {
  model: tf.LayersModel;
  /** The saved model's metadata; null when it was trained here (or saved without metadata). */
  metadata: ModelMetadata | null;
  /** Its training: the saved history, or this run's. */
  history: EpochLog[];
  loaded: boolean;
}

/**
 * The model saved in `dir`, or, when `dir` holds none, the zoo's `hp.model`
 * sized for `data` and trained on it with `options`; says which in one line.
 * For notebooks that build on the main notebook's saved model.
 */
export async function loadOrTrain(
  dir: string,
  data: Pick<PreparedData, 'train' | 'validation'>,
  hp: Hyperparameters,
  options: TrainOptions = {},
): Promise<LoadedOrTrained> {
  if (await hasSavedModel(dir)) {
    const metadata = await loadModelMetadata(dir);
    const model = await loadModel(dir);
    const when = metadata === null ? '' : ` (model ${metadata.model}, ${metadata.hyperparameters.epochs} epochs, test accuracy ${metadata.testAccuracy.toFixed(4)} when saved)`;
    console.log(`loaded the model saved in ${dir}${when}`);
    return { model, metadata, history: metadata?.history ?? [], loaded: true };
  }
  console.log(`no model saved in ${dir}: training model ${hp.model} here for ${hp.epochs} epochs`);
  const model = buildZooModel(hp.model, { ...hp, ...dataShapeOf(data.train) });
  try {
    return { model, metadata: null, history: await train(model, data, hp, options), loaded: false };
  } catch (e) {
    model.dispose();
    throw e instanceof TrainingStoppedError ? e.withAdvice('the model is disposed') : e;
  }
}
