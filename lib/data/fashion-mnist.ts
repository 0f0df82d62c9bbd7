import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { downloadVerified, type DownloadOptions } from './download';
import { parseIdxImages, parseIdxLabels } from './idx';

/** Labelled images as stored: `count` 28x28 images, row-major, pixel values 0-255. */
export interface LabeledImages {
  /** count * 784 pixels, image after image, row after row. */
  images: Uint8Array;
  /** One class index 0-9 per image (see CLASS_NAMES). */
  labels: Uint8Array;
  count: number;
}

export interface FashionMnist {
  train: LabeledImages;
  test: LabeledImages;
}

/** Zalando's official mirror of the four files. */
export const FASHION_MNIST_MIRROR = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

export const FASHION_MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
} as const;

export type SplitName = keyof typeof FASHION_MNIST_FILES;
export type FashionMnistFile = (typeof FASHION_MNIST_FILES)[SplitName][keyof (typeof FASHION_MNIST_FILES)[SplitName]];

/** md5 of a file as released (gzip) and of its gunzipped bytes, for users who unpacked it. */
export interface FileChecksums {
  gz: string;
  raw: string;
}

export const FASHION_MNIST_MD5: Readonly<Record<FashionMnistFile, FileChecksums>> = Object.freeze({
  'train-images-idx3-ubyte.gz': { gz: '8d4fb7e6c68d591d4c3dfef9ec88bf0d', raw: 'f4a8712d7a061bf5bd6d2ca38dc4d50a' },
  'train-labels-idx1-ubyte.gz': { gz: '25c81989df183df01b3e8a0aad5dffbe', raw: '9018921c3c673c538a1fc5bad174d6f9' },
  't10k-images-idx3-ubyte.gz': { gz: 'bef4ecab320f06d8554ea6380940ec79', raw: '8181f5470baa50b63fa0f6fddb340f0a' },
  't10k-labels-idx1-ubyte.gz': { gz: 'bb300cfdad3c16e7a12a480ee83cd310', raw: '15d484375f8d13e6eb1aabb0c3f46965' },
});

export interface LoadOptions extends DownloadOptions {
  /** Directory of the four files. Default: $FASHION_MNIST_DIR, else the repository's data/fashion-mnist. */
  dir?: string;
  /** Download missing files. Default true. */
  download?: boolean;
  /** Where missing files come from. Default: $FASHION_MNIST_MIRROR, else FASHION_MNIST_MIRROR. */
  baseUrl?: string;
  /** Checksums every file must match. Default FASHION_MNIST_MD5; other values are for tests. */
  md5?: Readonly<Record<FashionMnistFile, FileChecksums>>;
}

/**
 * Loads both splits, checking every file against its md5 first, so what
 * reaches the model is byte for byte the published data. Missing files are
 * downloaded unless `download` is false; a file on disk with the wrong md5
 * is an error and is left alone (it may be the user's, so it is theirs to
 * delete).
 */
export async function loadFashionMnist(options: LoadOptions = {}): Promise<FashionMnist> {
  const dir = resolveDataDir(options.dir);
  const md5 = options.md5 ?? FASHION_MNIST_MD5;
  await downloadMissing(dir, md5, options);
  const load = async (split: SplitName): Promise<LabeledImages> => {
    const names = FASHION_MNIST_FILES[split];
    const imagesPath = locate(dir, names.images);
    const labelsPath = locate(dir, names.labels);
    const images = parseIdxImages(await readVerified(imagesPath, md5[names.images], options), imagesPath);
    const labels = parseIdxLabels(await readVerified(labelsPath, md5[names.labels], options), labelsPath);
    if (images.count !== labels.count) {
      throw new Error(
        `${imagesPath} holds ${images.count} images but ${labelsPath} holds ${labels.count} labels; expected one label per image`,
      );
    }
    return { images: images.pixels, labels: labels.labels, count: images.count };
  };
  return { train: await load('train'), test: await load('test') };
}

/** `dir`, else $FASHION_MNIST_DIR, else the repository's data/fashion-mnist; relative paths are from the working directory. */
export function resolveDataDir(dir?: string): string {
  return path.resolve(dir ?? (process.env.FASHION_MNIST_DIR || defaultDataDir()));
}

/**
 * data/fashion-mnist beside the lib directory this module is in (lib/data/..).
 * Notebooks import lib through the symlink notebooks/lib, and tslab loads
 * modules under that path, so `libDir/..` would be notebooks/; the real path
 * of lib is what leads back to the repository.
 */
export function defaultDataDir(libDir: string = path.join(__dirname, '..')): string {
  return path.join(fs.realpathSync(libDir), '..', 'data', 'fashion-mnist');
}

/** md5 of a file's bytes, as `md5sum` prints it. */
export async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const ALL_FILES: readonly FashionMnistFile[] = Object.values(FASHION_MNIST_FILES).flatMap((f) => [f.images, f.labels]);

/** `name` (as released, gzip) or, for users who unpacked it, `name` without .gz. */
function candidates(dir: string, name: FashionMnistFile): string[] {
  return [name, rawName(name)].map((n) => path.join(dir, n));
}

function locate(dir: string, name: FashionMnistFile): string {
  const found = candidates(dir, name).find((p) => fs.existsSync(p));
  if (found === undefined)
    throw new Error(`${candidates(dir, name).join(' / ')}: no such file (was it deleted while loading?)`);
  return found;
}

/** Downloads one after another, so a terminal shows one progress bar at a time. */
async function downloadMissing(
  dir: string,
  md5: Readonly<Record<FashionMnistFile, FileChecksums>>,
  options: LoadOptions,
): Promise<void> {
  const missing = ALL_FILES.filter((name) => !candidates(dir, name).some((p) => fs.existsSync(p)));
  if (missing.length > 0 && options.download === false) {
    throw new Error(
      `Missing in ${dir}: ${missing.map((n) => `${n} (or ${rawName(n)})`).join(', ')}, and downloads are disabled.` +
        ` Copy the official files there, or load with download enabled to fetch them from ${baseUrl(options)}`,
    );
  }
  for (const name of missing) {
    await downloadVerified(new URL(name, baseUrl(options)).href, path.join(dir, name), md5[name].gz, options);
  }
}

async function readVerified(file: string, expected: FileChecksums, options: LoadOptions): Promise<Uint8Array> {
  const bytes = await fs.promises.readFile(file);
  const actual = createHash('md5').update(bytes).digest('hex');
  if (actual !== expected.gz && actual !== expected.raw) {
    const refetch =
      options.download === false ? 'then copy the official file there' : 'then run again to download a fresh copy';
    throw new Error(
      `${file}: md5 ${actual}, expected ${expected.gz} (as released, gzip) or ${expected.raw} (gunzipped). ` +
        `The file is damaged, cut short or not the official Fashion-MNIST file, and was not used. Delete it, ${refetch}.`,
    );
  }
  return bytes;
}

function rawName(name: FashionMnistFile): string {
  return name.slice(0, -'.gz'.length);
}

/** The mirror as a directory URL: without the trailing slash, new URL(name, base) would replace its last segment. */
function baseUrl(options: LoadOptions): string {
  const base = options.baseUrl ?? (process.env.FASHION_MNIST_MIRROR || FASHION_MNIST_MIRROR);
  return base.endsWith('/') ? base : `${base}/`;
}
