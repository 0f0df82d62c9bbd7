import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { downloadVerified, removeStaleTemps, type DownloadOptions } from './download';
import { CLASS_NAMES } from './classes';
import { idxSplit } from './idx';
import { brokenLinkProblem, errorCode } from '../util/errno';
import { FASHION_MNIST_SHAPE, pixelsPerImage, type LabeledImages } from './labeled-images';

export type { LabeledImages } from './labeled-images';

export interface FashionMnist {
  train: LabeledImages;
  test: LabeledImages;
}

/** Images in the training and test files together. */
export const FASHION_MNIST_IMAGES = 70_000;

/** Zalando's official mirror of the four files. */
export const FASHION_MNIST_MIRROR = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

export const FASHION_MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
} as const;

export type SplitName = keyof typeof FASHION_MNIST_FILES;
export type FashionMnistFile = (typeof FASHION_MNIST_FILES)[SplitName][keyof (typeof FASHION_MNIST_FILES)[SplitName]];

/**
 * md5 and size of a file as released (gzip) and of its gunzipped bytes, for
 * users who unpacked it. The gzip size caps a download.
 */
export interface FileChecksums {
  gz: string;
  raw: string;
  gzBytes: number;
  rawBytes: number;
}

export const FASHION_MNIST_MD5: Readonly<Record<FashionMnistFile, FileChecksums>> = Object.freeze({
  'train-images-idx3-ubyte.gz': {
    gz: '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
    raw: 'f4a8712d7a061bf5bd6d2ca38dc4d50a',
    gzBytes: 26_421_880,
    rawBytes: 47_040_016,
  },
  'train-labels-idx1-ubyte.gz': {
    gz: '25c81989df183df01b3e8a0aad5dffbe',
    raw: '9018921c3c673c538a1fc5bad174d6f9',
    gzBytes: 29_515,
    rawBytes: 60_008,
  },
  't10k-images-idx3-ubyte.gz': {
    gz: 'bef4ecab320f06d8554ea6380940ec79',
    raw: '8181f5470baa50b63fa0f6fddb340f0a',
    gzBytes: 4_422_102,
    rawBytes: 7_840_016,
  },
  't10k-labels-idx1-ubyte.gz': {
    gz: 'bb300cfdad3c16e7a12a480ee83cd310',
    raw: '15d484375f8d13e6eb1aabb0c3f46965',
    gzBytes: 5_148,
    rawBytes: 10_008,
  },
});

export interface LoadOptions extends DownloadOptions {
  /** Directory of the four files. Default: $FASHION_MNIST_DIR, else the repository's data/fashion-mnist. */
  dir?: string;
  /** Download missing files. Default true. */
  download?: boolean;
  /** Where missing files come from. Default: $FASHION_MNIST_MIRROR, else FASHION_MNIST_MIRROR. */
  baseUrl?: string;
  /** Checksums and sizes every file must match. Default FASHION_MNIST_MD5; other values are for tests. */
  md5?: Readonly<Record<FashionMnistFile, FileChecksums>>;
  /**
   * Keep only the first N images of each split, for quick test runs of the
   * notebooks. Default: $FASHION_MNIST_IMAGES, else every image.
   */
  limit?: number;
}

/**
 * Loads both splits, checking every file against its md5 first, so what
 * reaches the model is byte for byte the published data. Missing files are
 * downloaded unless `download` is false; a file on disk with the wrong md5
 * is an error and is left alone (it may be the user's, so it is theirs to
 * delete). Temporary files of downloads killed in an earlier run are
 * removed first.
 */
export async function loadFashionMnist(options: LoadOptions = {}): Promise<FashionMnist> {
  const dir = resolveDataDir(options.dir);
  const md5 = options.md5 ?? FASHION_MNIST_MD5;
  const limit = options.limit ?? imageLimitFromEnvironment();
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  await checkDataDir(dir, options.dir === undefined && Boolean(process.env.FASHION_MNIST_DIR));
  await removeStaleTemps(dir, ALL_FILES);
  await downloadMissing(dir, md5, options);
  const load = async (split: SplitName): Promise<LabeledImages> => {
    const names = FASHION_MNIST_FILES[split];
    const imagesPath = locate(dir, names.images);
    const labelsPath = locate(dir, names.labels);
    const images = { path: imagesPath, bytes: await readVerified(imagesPath, md5[names.images], options) };
    const labels = { path: labelsPath, bytes: await readVerified(labelsPath, md5[names.labels], options) };
    return firstImages(idxSplit(images, labels, CLASS_NAMES, FASHION_MNIST_SHAPE), limit);
  };
  return { train: await load('train'), test: await load('test') };
}

/** `FASHION_MNIST_IMAGES` from the environment: how many images of each split to keep; undefined when unset. */
export function imageLimitFromEnvironment(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env.FASHION_MNIST_IMAGES;
  if (value === undefined || value === '') return undefined;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit <= 0) {
    throw new RangeError(`environment variable FASHION_MNIST_IMAGES must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return limit;
}

/** The first `limit` images of a split (all of them when it holds fewer); views, no copy. */
export function firstImages(split: LabeledImages, limit: number | undefined): LabeledImages {
  if (limit === undefined || limit >= split.count) return split;
  return { ...split, images: split.images.subarray(0, limit * pixelsPerImage(split.shape)), labels: split.labels.subarray(0, limit), count: limit };
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
  const found = findFile(dir, name);
  if (found === null)
    throw new Error(`${candidates(dir, name).join(' / ')}: no such file (was it deleted while loading?)`);
  return found;
}

/**
 * The path of `name` in `dir`, or null when neither form is there. Something
 * else under the name (a directory, a dangling or looping link, a pipe) is an
 * error rather than missing: a download would replace it, or reading would fail or hang.
 */
function findFile(dir: string, name: FashionMnistFile): string | null {
  for (const file of candidates(dir, name)) {
    const problem = notAFile(file);
    if (problem === null) return file;
    if (problem !== 'missing') {
      throw new Error(
        `${file} ${problem}; expected the Fashion-MNIST file ${name} (or ${rawName(name)}, gunzipped). ` +
          'Move it away or fix it, then run again.',
      );
    }
  }
  return null;
}

/** null for a regular file (or a link to one), 'missing' when nothing is there, else what is wrong with it. */
function notAFile(file: string): string | null {
  try {
    const target = fs.statSync(file);
    if (target.isFile()) return null;
    return target.isDirectory() ? 'is a directory' : 'is not a regular file (a pipe, socket or device)';
  } catch (e) {
    const broken = brokenLinkProblem(file, e);
    if (broken !== null) return broken;
    if (errorCode(e) === 'ENOENT') return 'missing';
    throw e;
  }
}

/** Refuses a data directory that is a file, a loop or a dangling link; a missing one is created by the download. */
async function checkDataDir(dir: string, fromEnvironment: boolean): Promise<void> {
  const what = fromEnvironment ? `FASHION_MNIST_DIR is ${dir}, which` : `The data directory ${dir}`;
  const fix = fromEnvironment
    ? 'Set FASHION_MNIST_DIR to a directory (created if missing), or unset it to use the shipped copy.'
    : 'Pass the path of a directory (created if missing).';
  let problem: string;
  try {
    const stats = await fs.promises.stat(dir);
    if (stats.isDirectory()) return;
    problem = stats.isFile() ? 'is a file' : 'is not a directory';
  } catch (e) {
    const code = errorCode(e);
    const broken = brokenLinkProblem(dir, e);
    if (broken !== null) problem = broken;
    else if (code === 'ENOENT') return;
    else if (code === 'ENOTDIR') problem = 'has a file where a parent directory should be';
    else throw e;
  }
  throw new Error(`${what} ${problem}; expected a directory holding the four Fashion-MNIST files. ${fix}`);
}

/** Downloads one after another, so a terminal shows one progress bar at a time. */
async function downloadMissing(
  dir: string,
  md5: Readonly<Record<FashionMnistFile, FileChecksums>>,
  options: LoadOptions,
): Promise<void> {
  const missing = ALL_FILES.filter((name) => findFile(dir, name) === null);
  if (missing.length === 0) return;
  const list = `Missing in ${dir}: ${missing.map((n) => `${n} (or ${rawName(n)})`).join(', ')}`;
  if (options.download === false) {
    throw new Error(
      `${list}, and downloads are disabled.` +
        ` Copy the official files there, or load with download enabled to fetch them from ${asDirectory(mirror(options).url)}`,
    );
  }
  const base = mirrorUrl(options);
  // Checked before the first download, whose own error would name a temporary file.
  try {
    await fs.promises.mkdir(dir, { recursive: true });
    await fs.promises.access(dir, fs.constants.W_OK);
  } catch (e) {
    throw new Error(
      `${list}, and ${dir} cannot be created or written (${errorCode(e)}), so they cannot be downloaded there.` +
        ' Copy the official files there, or set FASHION_MNIST_DIR to a writable directory.',
    );
  }
  for (const name of missing) {
    const expected = { bytes: md5[name].gzBytes, md5: md5[name].gz };
    await downloadVerified(new URL(name, base).href, path.join(dir, name), expected, options);
  }
}

async function readVerified(file: string, expected: FileChecksums, options: LoadOptions): Promise<Uint8Array> {
  const refetch =
    options.download === false ? 'then copy the official file there' : 'then run again to download a fresh copy';
  // Checked before reading, so a huge wrong file is neither read into memory nor reported by size alone.
  const { size } = await fs.promises.stat(file);
  if (size !== expected.gzBytes && size !== expected.rawBytes) {
    throw new Error(
      `${file} holds ${size} bytes; expected ${expected.gzBytes} (as released, gzip) or ${expected.rawBytes} ` +
        `(gunzipped). The file is cut short or not the official Fashion-MNIST file, and was not used. Delete it, ${refetch}.`,
    );
  }
  const bytes = await fs.promises.readFile(file).catch((e: unknown) => {
    throw new Error(
      `${file} cannot be read (${errorCode(e) ?? (e as Error).message}). Give this user read access to it, ` +
        'or copy the four files into a directory of your own and set FASHION_MNIST_DIR to it.',
      { cause: e },
    );
  });
  const actual = createHash('md5').update(bytes).digest('hex');
  if (actual !== expected.gz && actual !== expected.raw) {
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

/** The mirror as configured, and where the setting came from, for messages. */
function mirror(options: LoadOptions): { url: string; setting: string } {
  if (options.baseUrl !== undefined) return { url: options.baseUrl, setting: 'the baseUrl option' };
  return { url: process.env.FASHION_MNIST_MIRROR || FASHION_MNIST_MIRROR, setting: 'FASHION_MNIST_MIRROR' };
}

/** Without the trailing slash, new URL(name, base) would replace the base's last segment. */
function asDirectory(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** The mirror as a directory URL, checked. */
function mirrorUrl(options: LoadOptions): string {
  const { url, setting } = mirror(options);
  let parsed: URL | null = null;
  try {
    parsed = new URL(asDirectory(url));
  } catch {
    // Reported below with the setting's name; URL's own error says only "Invalid URL".
  }
  if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new Error(
      `${setting} is ${JSON.stringify(url)}, which is not an http:// or https:// URL; ` +
        `expected the address of a directory holding the four files, such as ${FASHION_MNIST_MIRROR}`,
    );
  }
  return parsed.href;
}

