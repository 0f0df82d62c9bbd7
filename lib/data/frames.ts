import * as dfd from 'danfojs-node';
import { PIXELS } from './classes';
import { checkLabeledImages, FASHION_MNIST_SHAPE, numberedClassNames, pixelsPerImage, shapeText, type ImageShape, type LabeledImages } from './labeled-images';

/** The label's column in the project's frames; the pixel values follow it in columns `0`, `1`, ... */
export const LABEL_COLUMN = 'Label';

/** The columns of a frame of images of `pixels` values: `Label`, then `0`..`pixels - 1`. */
export function frameColumns(pixels: number): string[] {
  return [LABEL_COLUMN, ...Array.from({ length: pixels }, (_, i) => String(i))];
}

/** Column names of a Fashion-MNIST split's table: `Label`, then the pixels `0`..`783`. */
export const FRAME_COLUMNS: readonly string[] = frameColumns(PIXELS);

/**
 * One row per image, as the original notebook's pandas table: `Label`, then
 * one column per pixel value (height-width-channel order). danfo is slow at
 * 60,000 x 785 (it infers dtypes by scanning and keeps a transposed copy), so
 * the dtypes are given and low-memory mode skips the copy.
 */
export function toDataFrame(split: LabeledImages): dfd.DataFrame {
  const pixels = pixelsPerImage(split.shape);
  const rows: number[][] = new Array(split.count);
  for (let i = 0; i < split.count; i++) {
    const row = new Array<number>(pixels + 1);
    row[0] = split.labels[i];
    const offset = i * pixels;
    for (let p = 0; p < pixels; p++) row[p + 1] = split.images[offset + p];
    rows[i] = row;
  }
  return framed(rows, pixels);
}

/** `rows` (label, then `pixels` values each) as a frame of the project's layout. */
export function framed(rows: number[][], pixels: number): dfd.DataFrame {
  const columns = frameColumns(pixels);
  return new dfd.DataFrame(rows, { columns, dtypes: columns.map(() => 'int32'), config: { lowMemoryMode: true } });
}

export interface FrameImagesOptions {
  /** [height, width, channels] of one image; defaults to Fashion-MNIST's 28x28x1. */
  shape?: ImageShape;
  /** The class names, indexed by label; defaults to '0', '1', ... up to the largest label. */
  classNames?: readonly string[];
}

/**
 * The images of a frame in the project's layout (`Label`, then pixel columns
 * `0`..`n-1`; toDataFrame, readImageCsv), in the frame's row order, so that a
 * frame filtered, sampled or concatenated in danfo is what trains. Columns are
 * found by name (danfo's concat reorders them); others are ignored. Refuses
 * pixel columns that do not fit `shape`, pixel values that are not integers
 * 0-255, and labels that are not class indices.
 */
export function fromDataFrame(df: dfd.DataFrame, options: FrameImagesOptions = {}): LabeledImages {
  const shape = options.shape ?? FASHION_MNIST_SHAPE;
  const pixels = pixelsPerImage(shape);
  const columns = df.columns.map(String);
  const labelAt = columns.indexOf(LABEL_COLUMN);
  if (labelAt < 0) throw new RangeError(`the frame has no "${LABEL_COLUMN}" column; its columns start ${columns.slice(0, 5).join(', ')}`);
  const pixelColumns = columns.filter((c) => /^\d+$/.test(c));
  if (pixelColumns.length !== pixels) {
    const named = pixelColumns.length === 0 ? ` (its columns start ${columns.slice(0, 4).join(', ')}: readImageCsv reads a CSV into this layout)` : '; pass the images\' shape';
    throw new RangeError(`the frame has ${pixelColumns.length} pixel columns (named 0, 1, ...), but ${shapeText(shape)} images need ${pixels} (columns 0..${pixels - 1})${named}`);
  }
  const position = new Map(columns.map((c, i) => [c, i]));
  const at = Array.from({ length: pixels }, (_, p) => {
    const i = position.get(String(p));
    if (i === undefined) throw new RangeError(`the frame has no pixel column "${p}"; ${shapeText(shape)} images need columns 0..${pixels - 1}`);
    return i;
  });
  const rows = df.values as unknown as ArrayLike<number>[];
  const count = rows.length;
  const images = new Uint8Array(count * pixels);
  const labels = new Uint8Array(count);
  let largest = 0;
  for (let r = 0; r < count; r++) {
    const row = rows[r];
    const label = row[labelAt];
    // Numbers only: danfo reads an empty CSV cell as null, which Number() would make class 0.
    if (!(typeof label === 'number' && label >>> 0 === label && label < 256)) {
      throw new RangeError(`row ${r} of the frame (counting from 0): label ${JSON.stringify(label)} is not a class index 0-255`);
    }
    labels[r] = label;
    largest = Math.max(largest, label);
    const offset = r * pixels;
    for (let p = 0; p < pixels; p++) {
      const v = row[at[p]];
      // `v >>> 0 === v` is an integer 0..2^32-1, without a call per value (47 million of them at 60,000 x 784).
      if (!(v >>> 0 === v && v < 256)) throw new RangeError(`row ${r} of the frame (counting from 0), column "${p}": ${JSON.stringify(v)} is not a pixel value (an integer 0-255)`);
      images[offset + p] = v;
    }
  }
  const classNames = options.classNames ?? numberedClassNames(largest + 1);
  return checkLabeledImages({ images, labels, count, shape, classNames }, 'the frame');
}

export interface ClassCount {
  label: number;
  name: string;
  images: number;
}

/** Images per class, counted by danfo from the frame's `Label` column, named by `classNames` (a frame has none: numbered without them). */
export function classCounts(df: dfd.DataFrame, classNames: readonly string[] = []): ClassCount[] {
  const counts = df.column(LABEL_COLUMN).valueCounts();
  // danfo returns the counted values as string index labels.
  return counts.index
    .map((value, i) => ({ label: Number(value), name: classNames[Number(value)] ?? String(value), images: Number(counts.values[i]) }))
    .sort((a, b) => a.label - b.label);
}
