import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendInfo } from './backend';
import { CLASS_NAMES, NUM_CLASSES } from './classes';
import type { FashionMnist } from './data-files';
import { argMaxRows, evaluate, predictProbabilities, type Evaluation } from './evaluation';
import type { Hyperparameters } from './hyperparams';
import { classificationReport, confusionMatrix, type ClassificationReport } from './metrics';
import { buildModel } from './model';
import { disposeTensors, splitValidation, toTensors, type TensorSplit } from './tensors';
import { train, type EpochLog, type TrainOptions } from './training';

/** The three splits as model input, ready to train on. */
export interface PreparedData {
  train: TensorSplit;
  validation: TensorSplit;
  test: TensorSplit;
}

/** Seeded train/validation split of the training file, plus the test file, as tensors. */
export function prepareData(raw: FashionMnist, hp: Pick<Hyperparameters, 'validationFraction' | 'seed'>): PreparedData {
  const { train, validation } = splitValidation(raw.train, hp.validationFraction, hp.seed);
  return { train: toTensors(train), validation: toTensors(validation), test: toTensors(raw.test) };
}

export function disposeData(data: PreparedData): void {
  disposeTensors(data.train, data.validation, data.test);
}

/** Everything a finished run measured on the test split. */
export interface TestResults extends Evaluation {
  predicted: Int32Array;
  probabilities: Float32Array;
  confusionMatrix: number[][];
  report: ClassificationReport;
}

export async function testModel(model: tf.LayersModel, test: TensorSplit): Promise<TestResults> {
  const { loss, accuracy } = await evaluate(model, test);
  const probabilities = await predictProbabilities(model, test.x);
  const predicted = argMaxRows(probabilities, NUM_CLASSES);
  const matrix = confusionMatrix(await test.y.data(), predicted, NUM_CLASSES);
  return { loss, accuracy, predicted, probabilities, confusionMatrix: matrix, report: classificationReport(matrix, CLASS_NAMES) };
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
 * (and disposes) the returned model.
 */
export async function runExperiment(hp: Hyperparameters, data: PreparedData, options: TrainOptions = {}): Promise<Experiment> {
  const backend = await selectBackend();
  const model = buildModel(hp);
  try {
    const history = await train(model, data, hp, options);
    return { backend, model, history, test: await testModel(model, data.test) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
