import { CLASS_NAMES, IMAGE_SIZE } from './classes';

/** [height, width, channels] of one image. */
export type ImageShape = readonly [number, number, number];

/** The shape of a Fashion-MNIST (and MNIST) image: 28x28 grey. */
export const FASHION_MNIST_SHAPE: ImageShape = Object.freeze([IMAGE_SIZE, IMAGE_SIZE, 1] as const);

/** Labelled images as stored: `count` images of `shape`, pixel values 0-255. */
export interface LabeledImages {
  /** count * height * width * channels values, image after image, row after row, a pixel's channels together. */
  images: Uint8Array;
  /** One class index per image, into `classNames`. */
  labels: Uint8Array;
  count: number;
  /** [height, width, channels] of one image. */
  shape: ImageShape;
  /** The class names, indexed by label. */
  classNames: readonly string[];
}

/** Values one image holds: height x width x channels. */
export function pixelsPerImage(shape: ImageShape): number {
  return shape[0] * shape[1] * shape[2];
}

/** `h`x`w`x`c`, as messages name a shape. */
export const shapeText = (shape: readonly number[]) => shape.join('x');

/** '0', '1', ... for `classes` classes. */
export const numberedClassNames = (classes: number): readonly string[] => Array.from({ length: classes }, (_, i) => String(i));

/** Names for `classes` classes that were not named: Fashion-MNIST's (the default set) for 10, else numbered. */
export function defaultClassNames(classes: number): readonly string[] {
  return classes === CLASS_NAMES.length ? CLASS_NAMES : numberedClassNames(classes);
}

/** Refuses a `shape` that is not [height, width, channels] of positive integers; `what` starts the message. */
export function checkImageShape(shape: readonly number[], what: string): void {
  if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`${what} must be [height, width, channels] of positive integers, got ${JSON.stringify(shape)}`);
  }
}

/**
 * `set`, checked so that nothing downstream reads it wrong: a shape of
 * positive integers, images that fill it exactly, one label per image, every
 * label a class index (a label past the names would train as no class at
 * all). `source` names where the set came from in the errors.
 */
export function checkLabeledImages(set: LabeledImages, source: string): LabeledImages {
  const { shape, classNames, count } = set;
  checkImageShape(shape, `${source}: shape`);
  if (classNames.length < 1 || classNames.length > 256) {
    throw new RangeError(`${source}: expected 1 to 256 class names (labels are bytes), got ${classNames.length}`);
  }
  const pixels = pixelsPerImage(shape);
  if (set.images.length !== count * pixels) {
    throw new RangeError(
      `${source}: ${set.images.length} pixel values do not fit ${count} images of ${shapeText(shape)} (${pixels} values each, ${count * pixels} in all)`,
    );
  }
  if (set.labels.length !== count) throw new RangeError(`${source}: ${set.labels.length} labels for ${count} images; expected one label per image`);
  const bad = set.labels.findIndex((label) => label >= classNames.length);
  if (bad >= 0) {
    throw new RangeError(
      `${source}: label ${set.labels[bad]} of image ${bad} is outside [0, ${classNames.length}): there are ${classNames.length} class names (${classNames.join(', ')})`,
    );
  }
  return set;
}
