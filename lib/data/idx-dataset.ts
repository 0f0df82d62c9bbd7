import { promises as fsp } from 'fs';
import * as path from 'path';
import { errorCode } from '../util/errno';
import { firstImages, type FashionMnist } from './fashion-mnist';
import { idxSplit } from './idx';
import { shapeText } from './labeled-images';

/** The files of an IDX data set, named as MNIST's, each gzipped (`.gz`) or not. */
export const IDX_DATASET_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

export interface IdxDatasetOptions {
  /** The class names, indexed by label: MNIST's digits are `['0', '1', ..., '9']`. */
  classNames: readonly string[];
  /** Keep only the first N images of each split. */
  limit?: number;
}

/**
 * A labelled image set in IDX files named as MNIST's
 * (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-...`, gzipped
 * or not) from `dir`: MNIST digits, Fashion-MNIST, or any set of grey images
 * of one size. It never downloads, and checks no md5 (loadFashionMnist does
 * both for Fashion-MNIST). Every label must name one of `classNames`.
 */
export async function loadIdxDataset(dir: string, options: IdxDatasetOptions): Promise<FashionMnist> {
  const { limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const stats = await fsp.stat(dir).catch((e: unknown) => {
    throw new Error(`${dir}: ${errorCode(e) === 'ENOENT' ? 'no such folder' : (e as Error).message}; expected a folder of IDX files (${allFiles()})`);
  });
  if (!stats.isDirectory()) throw new Error(`${dir} is not a folder; expected a folder of IDX files (${allFiles()})`);
  const read = async (name: string) => {
    for (const file of [`${name}.gz`, name].map((n) => path.join(dir, n))) {
      const bytes = await fsp.readFile(file).catch((e: unknown) => {
        if (errorCode(e) === 'ENOENT') return null;
        throw new Error(`${file} cannot be read: ${(e as Error).message}`, { cause: e });
      });
      if (bytes !== null) return { path: file, bytes };
    }
    throw new Error(`${dir} has no ${name} (nor ${name}.gz); an IDX data set's folder holds ${allFiles()}`);
  };
  const split = async (files: { images: string; labels: string }) =>
    firstImages(idxSplit(await read(files.images), await read(files.labels), options.classNames), limit);
  const sets = { train: await split(IDX_DATASET_FILES.train), test: await split(IDX_DATASET_FILES.test) };
  if (shapeText(sets.train.shape) !== shapeText(sets.test.shape)) {
    throw new RangeError(`${dir}: the training images are ${shapeText(sets.train.shape)} but the test images ${shapeText(sets.test.shape)}; a model takes one size`);
  }
  return sets;
}

const allFiles = () => [...Object.values(IDX_DATASET_FILES).flatMap((f) => [f.images, f.labels])].join(', ');
