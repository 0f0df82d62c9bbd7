import * as tf from '@tensorflow/tfjs';
import type { ImageShape, LabeledImages } from './labeled-images';

/**
 * Images as model input: pixels / 255 as float32 `[N, height, width,
 * channels]`, labels (class indices, exact in float32) as float32 `[N]`, and
 * the class names when the tensors were made from named images.
 *
 * float32, not int32, so Keras-style training works on them:
 * `model.compile({ loss: 'sparseCategoricalCrossentropy', ... })` then
 * `model.fit(x, y)`. tfjs-layers 4.22's sparseCategoricalCrossentropy
 * (tfjs-layers/src/losses.ts) starts with `tfc.floor(K.flatten(target))`,
 * and tf.floor accepts only float32 ("Argument 'x' passed to 'floor' must be
 * float32 tensor, but got int32 tensor"), so int32 labels make `fit` throw;
 * tfjs's own examples use float32 labels. The project's losses cast labels
 * to int32 where they need indices.
 */
export interface LabeledTensors {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  /** The class names, indexed by label: what reports and figures call the classes. */
  classNames?: readonly string[];
}

/** `count` images of `shape` as model input: 0-255 values / 255, float32 `[count, height, width, channels]`. */
export function imageTensor(images: Uint8Array, count: number, shape: ImageShape): tf.Tensor4D {
  const pixels = new Float32Array(images.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images[i] / 255;
  return tf.tensor4d(pixels, [count, ...shape]);
}

export function toTensors(set: LabeledImages): LabeledTensors {
  return {
    x: imageTensor(set.images, set.count, set.shape),
    y: tf.tensor1d(Float32Array.from(set.labels), 'float32'),
    classNames: set.classNames,
  };
}

export function disposeTensors(...sets: (LabeledTensors | undefined)[]): void {
  tf.dispose(sets.flatMap((s) => (s ? [s.x, s.y] : [])));
}
