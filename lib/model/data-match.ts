import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES } from '../data/classes';
import { checkImageShape, FASHION_MNIST_SHAPE, shapeText } from '../data/labeled-images';
import type { LabeledTensors } from '../data/tensors';

/** The data a model is sized for: its images' `[height, width, channels]` and its classes; Fashion-MNIST's 28x28x1 and 10 by default. */
export interface DataShapeOptions {
  inputShape?: readonly number[];
  numClasses?: number;
}

/** `options` with the defaults, checked: three positive integers, and at least two classes. */
export function dataShape(options: DataShapeOptions): { inputShape: number[]; numClasses: number } {
  const inputShape = [...(options.inputShape ?? FASHION_MNIST_SHAPE)];
  const numClasses = options.numClasses ?? NUM_CLASSES;
  checkImageShape(inputShape, 'inputShape');
  if (!(Number.isInteger(numClasses) && numClasses >= 2)) throw new RangeError(`numClasses must be an integer of at least 2, got ${numClasses}`);
  return { inputShape, numClasses };
}

/** What a model for `data` must take and give: its images' shape, and its class names' count (10 when it has none). */
export function dataShapeOf(data: LabeledTensors): DataShapeOptions {
  return { inputShape: data.x.shape.slice(1), numClasses: data.classNames?.length ?? NUM_CLASSES };
}

/** `[height, width, channels]` and class count a model takes and gives. */
export function modelIo(model: tf.LayersModel): { inputShape: number[]; classes: number } {
  return { inputShape: model.inputs[0].shape.slice(1) as number[], classes: model.outputs[0].shape[1] as number };
}

/**
 * Refuses data the model cannot learn right: images of another shape (tfjs
 * would fail deep in a layer), or more classes than the model has outputs (a
 * label past the outputs one-hots to nothing: zero loss, silently). `what`
 * names the data in the message.
 */
export function checkModelMatchesData(model: tf.LayersModel, data: LabeledTensors, what: string): void {
  const { inputShape, classes } = modelIo(model);
  const imageShape = data.x.shape.slice(1);
  if (shapeText(imageShape) !== shapeText(inputShape)) {
    throw new RangeError(`the model takes ${shapeText(inputShape)} images, but the ${what} images are ${shapeText(imageShape)}; build it with inputShape: [${imageShape.join(', ')}]`);
  }
  const named = data.classNames?.length ?? 0;
  const largest = data.y.size === 0 ? -1 : tf.tidy(() => tf.max(data.y).dataSync()[0]);
  const needed = Math.max(named, largest + 1);
  if (needed > classes) {
    const which = named > 0 ? `${named} classes (${data.classNames!.join(', ')})` : `labels up to ${largest}`;
    throw new RangeError(`the model has ${classes} outputs, but the ${what} has ${which}; build it with numClasses: ${needed}`);
  }
}
