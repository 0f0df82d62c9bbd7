import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES } from './classes';
import type { Evaluation } from './evaluation';
import type { TensorSplit } from './tensors';

/** What one batch contributes to an optimiser step. */
export interface BatchGradients {
  /** Sum of the per-image losses over the batch. */
  lossSum: number;
  /** Number of images classified correctly (before the update). */
  correct: number;
  /** Gradient of the batch's mean loss, keyed by trainable variable name. */
  grads: tf.NamedTensorMap;
}

/**
 * Computes a batch's gradients for a model. Implementations may split the
 * batch into micro-batches or across workers; the result is always the
 * gradient of the mean loss over the whole batch, so one optimiser step per
 * batch keeps the original training semantics.
 */
export interface GradientEngine {
  readonly description: string;
  gradients(x: tf.Tensor4D, labels: tf.Tensor1D): Promise<BatchGradients>;
  /** `gradients()` of the rows `indices` of `data`; engines with workers gather them there. */
  gradientsAt(data: TensorSplit, indices: Int32Array): Promise<BatchGradients>;
  /** evaluate() of lib/evaluation.ts on the engine's own threads, where it has them. */
  evaluate?(data: TensorSplit): Promise<Evaluation>;
  /** Frees what the engine holds (worker threads, for one); safe to await either way. */
  dispose(): void | Promise<void>;
}

const EPSILON = 1e-7;

/**
 * The tf.Variables behind a model's trainable weights, for tf.variableGrads
 * and for saving and restoring weights in place. tfjs keeps them in the
 * LayerVariable's `val`, which its public types do not expose.
 */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
}

/** Keras' sparse categorical cross-entropy on probabilities, per image. */
export function crossEntropyPerImage(probs: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), NUM_CLASSES);
    const logp = tf.log(tf.clipByValue(probs, EPSILON, 1 - EPSILON));
    return tf.neg(tf.sum(tf.mul(oneHot, logp), 1)) as tf.Tensor1D;
  });
}

export function countCorrect(probs: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(probs, 1), tf.cast(labels, 'int32')), 'int32')));
}

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
