import type * as tf from '@tensorflow/tfjs';
import { CLASS_NAMES, NUM_CLASSES } from '../data/classes';
import type { LabeledTensors } from '../data/tensors';
import { predict, type Evaluation } from '../model/predict';
import { classificationReport, confusionMatrix, type ClassificationReport } from './metrics';
import { argMaxRows } from './predictions';

/** Everything a finished run measured on the test split. */
export interface TestResults extends Evaluation {
  predicted: Int32Array;
  probabilities: Float32Array;
  confusionMatrix: number[][];
  report: ClassificationReport;
}

/** Loss, accuracy, predictions, confusion matrix and classification report from one pass over `test`. */
export async function testModel(model: tf.LayersModel, test: LabeledTensors): Promise<TestResults> {
  const { loss, accuracy, probabilities } = await predict(model, test);
  const predicted = argMaxRows(probabilities, NUM_CLASSES);
  const matrix = confusionMatrix(await test.y.data(), predicted, NUM_CLASSES);
  return { loss, accuracy, predicted, probabilities, confusionMatrix: matrix, report: classificationReport(matrix, CLASS_NAMES) };
}
