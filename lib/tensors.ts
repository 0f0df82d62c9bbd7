import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, PIXELS } from './classes';
import type { Split } from './data-files';
import { Rng } from './rng';

/** A split as model input: pixels / 255 as float32 `[N, 28, 28, 1]`, labels as int32 `[N]`. */
export interface TensorSplit {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

export function toTensors(split: Split): TensorSplit {
  const pixels = new Float32Array(split.count * PIXELS);
  for (let i = 0; i < pixels.length; i++) pixels[i] = split.images[i] / 255;
  return {
    x: tf.tensor4d(pixels, [split.count, IMAGE_SIZE, IMAGE_SIZE, 1]),
    y: tf.tensor1d(Int32Array.from(split.labels), 'int32'),
  };
}

export function disposeTensors(...splits: (TensorSplit | undefined)[]): void {
  tf.dispose(splits.flatMap((s) => (s ? [s.x, s.y] : [])));
}

/** The rows of `split` at `indices`, in that order. */
export function takeRows(split: Split, indices: ArrayLike<number>): Split {
  const images = new Uint8Array(indices.length * PIXELS);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    images.set(split.images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
    labels[i] = split.labels[r];
  }
  return { images, labels, count: indices.length };
}

/**
 * Shuffles with `seed` and holds out `validationFraction` of the rows
 * (the original: 20 % of 60,000, so 48,000 / 12,000).
 */
export function splitValidation(split: Split, validationFraction: number, seed: number): { train: Split; validation: Split } {
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw new RangeError(`validationFraction must be in (0, 1), got ${validationFraction}`);
  }
  const order = new Rng(seed).permutation(split.count);
  const validationCount = Math.round(split.count * validationFraction);
  if (validationCount === 0 || validationCount === split.count) {
    throw new RangeError(`validationFraction ${validationFraction} of ${split.count} images leaves an empty split`);
  }
  return {
    train: takeRows(split, order.subarray(validationCount)),
    validation: takeRows(split, order.subarray(0, validationCount)),
  };
}
