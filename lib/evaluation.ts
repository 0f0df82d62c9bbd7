import * as tf from '@tensorflow/tfjs';
import { countCorrect, crossEntropyPerImage } from './gradients';
import type { TensorSplit } from './tensors';

export interface Evaluation {
  loss: number;
  accuracy: number;
}

/** Images per forward pass: bounds memory without slowing the pass. */
export const EVAL_BATCH_SIZE = 2048;

/** Mean loss and accuracy of the model (inference mode: no dropout). */
export async function evaluate(model: tf.LayersModel, data: TensorSplit, batchSize = EVAL_BATCH_SIZE): Promise<Evaluation> {
  const n = data.x.shape[0];
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const [l, c] = tf.tidy(() => {
      const probs = model.apply(data.x.slice(start, size), { training: false }) as tf.Tensor2D;
      const y = data.y.slice(start, size);
      return [tf.sum(crossEntropyPerImage(probs, y)), countCorrect(probs, y)];
    });
    const [lv, cv] = await Promise.all([l.data(), c.data()]);
    tf.dispose([l, c]);
    lossSum += lv[0];
    correct += cv[0];
  }
  return { loss: lossSum / n, accuracy: correct / n };
}

/** Class probabilities `[N, 10]` as one flat array, row-major. */
export async function predictProbabilities(model: tf.LayersModel, x: tf.Tensor4D, batchSize = EVAL_BATCH_SIZE): Promise<Float32Array> {
  const n = x.shape[0];
  const out = new Float32Array(n * (model.outputs[0].shape[1] as number));
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const probs = tf.tidy(() => model.apply(x.slice(start, size), { training: false }) as tf.Tensor2D);
    out.set(await probs.data(), start * probs.shape[1]);
    probs.dispose();
  }
  return out;
}

/** Most likely class per image. */
export function argMaxRows(probs: ArrayLike<number>, numClasses: number): Int32Array {
  const labels = new Int32Array(probs.length / numClasses);
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (probs[i * numClasses + k] > probs[i * numClasses + best]) best = k;
    labels[i] = best;
  }
  return labels;
}
