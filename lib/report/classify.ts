import type * as tf from '@tensorflow/tfjs';
import { defaultClassNames, FASHION_MNIST_SHAPE, pixelsPerImage, shapeText, type ImageShape } from '../data/labeled-images';
import { imageTensor } from '../data/tensors';
import { modelIo } from '../model/data-match';
import { predictProbabilities } from '../model/predict';

/** One class of a prediction: its name and the model's probability for it. */
export interface ClassProbability {
  name: string;
  probability: number;
}

/** Images to classify: 0-255 values, `count` of `shape` (28x28x1 when it is not given), as LabeledImages hold them. */
export interface ImagesToClassify {
  images: Uint8Array;
  count: number;
  shape?: ImageShape;
}

/**
 * The `k` most likely classes of each image, most likely first, as the
 * TensorFlow clothing tutorial ends: `(await classifyImages(model, one, names))[0]`
 * is `[{ name: 'Ankle boot', probability: 0.97 }, ...]`. Names default to
 * Fashion-MNIST's for 10 outputs, else '0', '1', ...
 */
export async function classifyImages(model: tf.LayersModel, set: ImagesToClassify, classNames?: readonly string[], k = 3): Promise<ClassProbability[][]> {
  const shape = set.shape ?? FASHION_MNIST_SHAPE;
  const { inputShape, classes } = modelIo(model);
  if (inputShape.join('x') !== shapeText(shape)) throw new RangeError(`the model takes ${inputShape.join('x')} images, got ${shapeText(shape)}`);
  if (set.images.length !== set.count * pixelsPerImage(shape)) throw new RangeError(`${set.images.length} pixel values do not fit ${set.count} images of ${shapeText(shape)}`);
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a positive integer, got ${k}`);
  const names = classNames ?? defaultClassNames(classes);
  const x = imageTensor(set.images, set.count, shape);
  try {
    const probabilities = await predictProbabilities(model, x);
    return Array.from({ length: set.count }, (_, i) => {
      const row = Array.from(probabilities.subarray(i * classes, (i + 1) * classes), (probability, label) => ({ name: names[label] ?? String(label), probability }));
      return row.sort((a, b) => b.probability - a.probability).slice(0, k);
    });
  } finally {
    x.dispose();
  }
}
