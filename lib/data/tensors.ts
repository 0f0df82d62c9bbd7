import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, PIXELS } from './classes';
import type { LabeledImages } from './fashion-mnist';

/**
 * Images as model input: pixels / 255 as float32 `[N, 28, 28, 1]`, labels
 * (class indices 0-9, exact in float32) as float32 `[N]`.
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
}

export function toTensors(set: LabeledImages): LabeledTensors {
  const pixels = new Float32Array(set.count * PIXELS);
  for (let i = 0; i < pixels.length; i++) pixels[i] = set.images[i] / 255;
  return {
    x: tf.tensor4d(pixels, [set.count, IMAGE_SIZE, IMAGE_SIZE, 1]),
    y: tf.tensor1d(Float32Array.from(set.labels), 'float32'),
  };
}

export function disposeTensors(...sets: (LabeledTensors | undefined)[]): void {
  tf.dispose(sets.flatMap((s) => (s ? [s.x, s.y] : [])));
}
