import type * as tf from '@tensorflow/tfjs';

/**
 * The tf.Variables behind a model's trainable weights, for tf.variableGrads
 * and for saving and restoring weights in place. tfjs keeps them in the
 * LayerVariable's `val`, which its public types do not expose.
 */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
}
