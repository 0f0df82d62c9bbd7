import type * as tf from '@tensorflow/tfjs';
import { defaultClassNames } from '../data/labeled-images';
import type { LabeledTensors } from '../data/tensors';
import { checkModelMatchesData, modelIo } from '../model/data-match';
import { predict, type Evaluation } from '../model/predict';
import { classificationReport, confusionMatrix, type ClassificationReport } from './metrics';
import { argMaxRows } from './predictions';

/** Everything a finished run measured on the test split. */
export interface TestResults extends Evaluation {
  /** The names of the model's outputs, as the report and the confusion matrix's rows call them. */
  classNames: readonly string[];
  predicted: Int32Array;
  probabilities: Float32Array;
  confusionMatrix: number[][];
  report: ClassificationReport;
}

/**
 * Loss, accuracy, predictions, confusion matrix and classification report
 * from one pass over `test`, one row per output of the model, named by the
 * data's class names (prepareData and toTensors carry them).
 */
export async function testModel(model: tf.LayersModel, test: LabeledTensors): Promise<TestResults> {
  checkModelMatchesData(model, test, 'test data');
  const { classes } = modelIo(model);
  const { loss, accuracy, probabilities } = await predict(model, test);
  const predicted = argMaxRows(probabilities, classes);
  const matrix = confusionMatrix(await test.y.data(), predicted, classes);
  const names = test.classNames ? Array.from({ length: classes }, (_, i) => test.classNames![i] ?? String(i)) : defaultClassNames(classes);
  return { loss, accuracy, classNames: names, predicted, probabilities, confusionMatrix: matrix, report: classificationReport(matrix, names) };
}
