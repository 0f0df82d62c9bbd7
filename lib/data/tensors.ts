import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, PIXELS } from './classes';
import type { LabeledImages } from './fashion-mnist';

/** Images as model input: pixels / 255 as float32 `[N, 28, 28, 1]`, labels as int32 `[N]`. */
export interface LabeledTensors {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

export function toTensors(set: LabeledImages): LabeledTensors {
  const pixels = new Float32Array(set.count * PIXELS);
  for (let i = 0; i < pixels.length; i++) pixels[i] = set.images[i] / 255;
  return {
    x: tf.tensor4d(pixels, [set.count, IMAGE_SIZE, IMAGE_SIZE, 1]),
    y: tf.tensor1d(Int32Array.from(set.labels), 'int32'),
  };
}

export function disposeTensors(...sets: (LabeledTensors | undefined)[]): void {
  tf.dispose(sets.flatMap((s) => (s ? [s.x, s.y] : [])));
}
