import { pixelsPerImage, type LabeledImages } from './labeled-images';
import { Rng } from '../util/rng';

type TypedArray = Uint8Array | Int32Array | Float32Array;

/** Rows `rows` of a row-major array with `rowLength` values a row, in that order, as a new array of its type. */
export function gatherRows<T extends TypedArray>(source: T, rowLength: number, rows: ArrayLike<number>): T {
  const out = new (source.constructor as new (length: number) => T)(rows.length * rowLength);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    out.set(source.subarray(r * rowLength, (r + 1) * rowLength), i * rowLength);
  }
  return out;
}

/** The images of `set` at `indices`, in that order. */
export function takeRows(set: LabeledImages, indices: ArrayLike<number>): LabeledImages {
  return { ...set, images: gatherRows(set.images, pixelsPerImage(set.shape), indices), labels: gatherRows(set.labels, 1, indices), count: indices.length };
}

/**
 * Shuffles with `seed` and holds out `validationFraction` of the rows
 * (the original: 20 % of 60,000, so 48,000 / 12,000).
 */
export function splitValidation(set: LabeledImages, validationFraction: number, seed: number): { train: LabeledImages; validation: LabeledImages } {
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw new RangeError(`validationFraction must be in (0, 1), got ${validationFraction}`);
  }
  const order = new Rng(seed).permutation(set.count);
  const validationCount = Math.round(set.count * validationFraction);
  if (validationCount === 0 || validationCount === set.count) {
    throw new RangeError(`validationFraction ${validationFraction} of ${set.count} images leaves an empty split`);
  }
  return {
    train: takeRows(set, order.subarray(validationCount)),
    validation: takeRows(set, order.subarray(0, validationCount)),
  };
}
