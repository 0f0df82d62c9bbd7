import * as tf from '@tensorflow/tfjs';
import { countCorrect, crossEntropyPerImage } from '../model/loss';
import { trainableVariables } from '../model/variables';
import type { GradientEngine } from './gradient-engine';

/**
 * Single-thread engine: runs the batch in micro-batches of at most
 * `microBatchSize` images and sums their gradients, which bounds the memory
 * a 4096-image batch needs without changing the update.
 */
export function localGradientEngine(model: tf.LayersModel, microBatchSize = 1024): GradientEngine {
  const variables = trainableVariables(model);
  const engine: GradientEngine = {
    description: `local, micro-batches of ${microBatchSize}`,
    async gradientsAt(data, indices) {
      const { x, y } = tf.tidy(() => {
        const idx = tf.tensor1d(indices, 'int32');
        return { x: tf.gather(data.x, idx), y: tf.gather(data.y, idx) };
      });
      try {
        return await engine.gradients(x, y);
      } finally {
        tf.dispose([x, y]);
      }
    },
    async gradients(x, labels) {
      const n = x.shape[0];
      let lossSum = 0;
      let correct = 0;
      let grads: tf.NamedTensorMap | null = null;
      for (let start = 0; start < n; start += microBatchSize) {
        const size = Math.min(microBatchSize, n - start);
        const step = tf.tidy(() => {
          const xm = x.slice([start, 0, 0, 0], [size, -1, -1, -1]);
          const ym = labels.slice([start], [size]);
          let correct: tf.Scalar | null = null;
          const { value, grads: g } = tf.variableGrads(() => {
            const probs = model.apply(xm, { training: true }) as tf.Tensor2D;
            // Counted here: variableGrads disposes the probabilities when it returns.
            correct = tf.keep(countCorrect(probs, ym));
            // Scaled so the micro-batch gradients sum to the batch mean's gradient.
            return tf.div(tf.sum(crossEntropyPerImage(probs, ym)), n) as tf.Scalar;
          }, variables);
          return { value, g, correct: correct! as tf.Scalar };
        });
        const [v, c] = await Promise.all([step.value.data(), step.correct.data()]);
        lossSum += v[0] * n;
        correct += c[0];
        step.value.dispose();
        step.correct.dispose();
        if (grads === null) {
          grads = step.g;
        } else {
          for (const name of Object.keys(step.g)) {
            const sum = tf.add(grads[name], step.g[name]);
            grads[name].dispose();
            step.g[name].dispose();
            grads[name] = sum;
          }
        }
      }
      return { lossSum, correct, grads: grads ?? {} };
    },
    dispose() {},
  };
  return engine;
}
