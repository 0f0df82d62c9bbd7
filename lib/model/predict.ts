import * as tf from '@tensorflow/tfjs';
import type { LabeledTensors } from '../data/tensors';
import { checkpoint } from '../util/interrupt';
import { countCorrect, crossEntropyPerImage } from './loss';

export interface Evaluation {
  loss: number;
  accuracy: number;
}

/** One inference pass over labelled images: the metrics and every image's class probabilities. */
export interface Predictions extends Evaluation {
  /** `[N, classes]`, row-major. */
  probabilities: Float32Array;
}

/** Images per forward pass: bounds memory without slowing the pass. */
export const EVAL_BATCH_SIZE = 2048;

/**
 * The model in inference mode (no dropout) over `x` in batches: the one
 * forward pass behind evaluation and prediction. With `labels`, it also sums
 * the loss and counts the right answers. Stops between batches, with the
 * reason, when `signal` aborts.
 */
async function forwardPass(
  model: tf.LayersModel, x: tf.Tensor4D, labels: tf.Tensor1D | undefined, batchSize: number, signal?: AbortSignal,
): Promise<{ probabilities: Float32Array; lossSum: number; correct: number }> {
  const n = x.shape[0];
  const classes = model.outputs[0].shape[1] as number;
  const probabilities = new Float32Array(n * classes);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    await checkpoint(signal);
    const size = Math.min(batchSize, n - start);
    const [probs, ...scores] = tf.tidy(() => {
      const p = model.apply(x.slice(start, size), { training: false }) as tf.Tensor2D;
      if (labels === undefined) return [p];
      const y = labels.slice(start, size);
      return [p, tf.sum(crossEntropyPerImage(p, y)), countCorrect(p, y)];
    });
    const [values, ...sums] = await Promise.all([probs, ...scores].map((t) => t.data()));
    tf.dispose([probs, ...scores]);
    probabilities.set(values as Float32Array, start * classes);
    if (sums.length === 2) {
      lossSum += sums[0][0];
      correct += sums[1][0];
    }
  }
  return { probabilities, lossSum, correct };
}

/** Mean loss, accuracy and class probabilities of the model on `data`, in one pass. */
export async function predict(model: tf.LayersModel, data: LabeledTensors, batchSize = EVAL_BATCH_SIZE, signal?: AbortSignal): Promise<Predictions> {
  const n = data.x.shape[0];
  const { probabilities, lossSum, correct } = await forwardPass(model, data.x, data.y, batchSize, signal);
  return { loss: lossSum / n, accuracy: correct / n, probabilities };
}

/** Mean loss and accuracy of the model (inference mode: no dropout). */
export async function evaluate(model: tf.LayersModel, data: LabeledTensors, batchSize = EVAL_BATCH_SIZE, signal?: AbortSignal): Promise<Evaluation> {
  const { loss, accuracy } = await predict(model, data, batchSize, signal);
  return { loss, accuracy };
}

/** Class probabilities `[N, classes]` as one flat array, row-major. */
export async function predictProbabilities(model: tf.LayersModel, x: tf.Tensor4D, batchSize = EVAL_BATCH_SIZE): Promise<Float32Array> {
  return (await forwardPass(model, x, undefined, batchSize)).probabilities;
}
