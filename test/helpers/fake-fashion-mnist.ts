import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PIXELS } from '../../lib/data/classes';
import { FASHION_MNIST_MD5, type FashionMnistFile, type FileChecksums } from '../../lib/data/fashion-mnist';
import { idxImageBytes, idxLabelBytes, patternPixels } from './idx-bytes';

/** A tiny Fashion-MNIST in the real file format, in temporary folders: for the loader and download tests. */
export const REPO = path.join(__dirname, '..', '..');
export const SHIPPED = path.join(REPO, 'data', 'fashion-mnist');
export const NAMES = Object.keys(FASHION_MNIST_MD5) as FashionMnistFile[];

export const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

const tempDirs: string[] = [];
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'data-files-test-'));
  tempDirs.push(dir);
  return dir;
}
after(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A tiny data set in the real format: gz bytes per file name, their checksums, and the raw contents. */
export interface FakeData {
  gz: Record<FashionMnistFile, Buffer>;
  md5: Record<FashionMnistFile, FileChecksums>;
  trainPixels: Uint8Array;
  trainLabels: number[];
}

export function fakeData(trainCount = 5, testCount = 3): FakeData {
  const images = (count: number, seed: number) => idxImageBytes(count, 28, 28, patternPixels(count * PIXELS, seed));
  const labels = idxLabelBytes;
  const trainLabels = Array.from({ length: trainCount }, (_, i) => (i * 3) % 10);
  const raw: Record<FashionMnistFile, Buffer> = {
    'train-images-idx3-ubyte.gz': images(trainCount, 7),
    'train-labels-idx1-ubyte.gz': labels(trainLabels),
    't10k-images-idx3-ubyte.gz': images(testCount, 11),
    't10k-labels-idx1-ubyte.gz': labels(Array.from({ length: testCount }, (_, i) => i)),
  };
  const gz = {} as Record<FashionMnistFile, Buffer>;
  const sums = {} as Record<FashionMnistFile, FileChecksums>;
  for (const name of NAMES) {
    gz[name] = gzipSync(raw[name]);
    sums[name] = { gz: md5(gz[name]), raw: md5(raw[name]), gzBytes: gz[name].length, rawBytes: raw[name].length };
  }
  return { gz, md5: sums, trainPixels: raw['train-images-idx3-ubyte.gz'].subarray(16), trainLabels };
}

export function writeData(dir: string, data: FakeData, names: readonly FashionMnistFile[] = NAMES): void {
  for (const name of names) fs.writeFileSync(path.join(dir, name), data.gz[name]);
}

export async function assertRejects(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(promise, (e: Error) => {
    for (const pattern of patterns) assert.match(e.message, pattern);
    return true;
  });
}
