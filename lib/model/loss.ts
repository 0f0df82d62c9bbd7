import * as tf from '@tensorflow/tfjs';

/** Keras' clip: keeps log() finite when a probability reaches 0 or 1. */
const EPSILON = 1e-7;

/** Keras' sparse categorical cross-entropy on probabilities (one column per class), per image. */
export function crossEntropyPerImage(probs: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), probs.shape[1]);
    const logp = tf.log(tf.clipByValue(probs, EPSILON, 1 - EPSILON));
    return tf.neg(tf.sum(tf.mul(oneHot, logp), 1)) as tf.Tensor1D;
  });
}

/** Images whose most likely class is the label. */
export function countCorrect(probs: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(probs, 1), tf.cast(labels, 'int32')), 'int32')));
}
