import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CLASS_NAMES, PIXELS } from '../../lib/data/classes';
import { IDX_IMAGES_MAGIC, isGzip, parseIdxImages, parseIdxLabels, type IdxImages, type IdxLabels } from '../../lib/data/idx';
import { idxImageBytes, idxLabelBytes, patternPixels } from '../helpers/idx-bytes';

const DATA = path.join(__dirname, '..', '..', 'data', 'fashion-mnist');

const idxImages = (count: number, rows = 28, cols = 28, magic = IDX_IMAGES_MAGIC) =>
  idxImageBytes(count, rows, cols, patternPixels(count * rows * cols, 7), magic);
const idxLabels = idxLabelBytes;

describe('the shipped Fashion-MNIST files', () => {
  const read = (name: string) => fs.readFileSync(path.join(DATA, name));
  let trainImages: IdxImages;
  let trainLabels: IdxLabels;

  before(() => {
    trainImages = parseIdxImages(read('train-images-idx3-ubyte.gz'), 'train-images-idx3-ubyte.gz');
    trainLabels = parseIdxLabels(read('train-labels-idx1-ubyte.gz'), 'train-labels-idx1-ubyte.gz');
  });

  it('are gzip with 60000 / 10000 headers of 28x28 images', () => {
    assert.ok(isGzip(read('train-images-idx3-ubyte.gz')));
    assert.equal(trainImages.count, 60000);
    assert.equal(trainImages.rows, 28);
    assert.equal(trainImages.cols, 28);
    assert.equal(trainImages.pixels.length, 60000 * PIXELS);
    assert.equal(trainLabels.count, 60000);
    const testImages = parseIdxImages(read('t10k-images-idx3-ubyte.gz'), 't10k-images-idx3-ubyte.gz');
    const testLabels = parseIdxLabels(read('t10k-labels-idx1-ubyte.gz'), 't10k-labels-idx1-ubyte.gz');
    assert.deepEqual([testImages.count, testImages.rows, testImages.cols, testLabels.count], [10000, 28, 28, 10000]);
    assert.equal(testLabels.labels[0], 9);
  });

  it('start with an ankle boot whose pixels are known', () => {
    assert.equal(CLASS_NAMES[trainLabels.labels[0]], 'Ankle boot');
    assert.deepEqual([...trainLabels.labels.subarray(0, 10)], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    const first = trainImages.pixels.subarray(0, PIXELS);
    assert.equal(
      first.reduce((sum, p) => sum + p, 0),
      76247,
    );
    assert.deepEqual([first[0], first[96], first[99], first[100]], [0, 1, 13, 73]);
    // Row 14, the middle of the boot.
    assert.deepEqual(
      [...first.subarray(14 * 28, 15 * 28)],
      [0, 0, 1, 4, 6, 7, 2, 0, 0, 0, 0, 0, 237, 226, 217, 223, 222, 219, 222, 221, 216, 223, 229, 215, 218, 255, 77, 0],
    );
  });

  it('have the published pixel mean and 6000 images of each class', () => {
    let sum = 0;
    for (const p of trainImages.pixels) sum += p;
    assert.equal(sum, 3431114169);
    assert.ok(Math.abs(sum / trainImages.pixels.length / 255 - 0.28604) < 5e-6);
    const perClass = new Array<number>(10).fill(0);
    for (const label of trainLabels.labels) perClass[label]++;
    assert.deepEqual(perClass, new Array(10).fill(6000));
  });
});

describe('parseIdxImages / parseIdxLabels on generated files', () => {
  let dir: string;
  /** Writes `bytes` to the temp dir and returns what the loader would see: the path and the bytes read back. */
  const file = (name: string, bytes: Uint8Array): [Buffer, string] => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, bytes);
    return [fs.readFileSync(p), p];
  };
  const rejects = (parse: () => unknown, ...patterns: RegExp[]) =>
    assert.throws(parse, (e: Error) => {
      for (const pattern of patterns) assert.match(e.message, pattern);
      return true;
    });

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idx-test-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads raw and gzip files alike, by content', () => {
    const raw = idxImages(3);
    const fromRaw = parseIdxImages(...file('images-raw', raw));
    const fromGz = parseIdxImages(...file('images.gz', gzipSync(raw)));
    const fromGzUnderRawName = parseIdxImages(...file('images-renamed', gzipSync(raw)));
    assert.equal(fromRaw.count, 3);
    assert.deepEqual(fromRaw.pixels, new Uint8Array(raw.subarray(16)));
    assert.deepEqual(fromGz, fromRaw);
    assert.deepEqual(fromGzUnderRawName, fromRaw);
    const labels = parseIdxLabels(...file('labels.gz', gzipSync(idxLabels([0, 9, 5]))));
    assert.deepEqual(labels, { count: 3, labels: Uint8Array.from([0, 9, 5]) });
  });

  it('accepts a file of zero images', () => {
    assert.equal(parseIdxImages(...file('none', idxImages(0))).count, 0);
  });

  it('rejects a wrong magic number, saying what it found', () => {
    const [labelBytes, labelFile] = file('labels-as-images', idxLabels([1, 2]));
    rejects(
      () => parseIdxImages(labelBytes, labelFile),
      /labels-as-images/,
      /magic number 0x00000801, expected 0x00000803/,
      /looks like an IDX labels file/,
    );
    const [imageBytes, imageFile] = file('images-as-labels', idxImages(1));
    rejects(() => parseIdxLabels(imageBytes, imageFile), /images-as-labels/, /0x00000803, expected 0x00000801/);
    const [pngBytes, pngFile] = file('picture.png', Buffer.from('\x89PNG\r\n\x1a\n0000000000000000', 'latin1'));
    rejects(() => parseIdxImages(pngBytes, pngFile), /picture\.png/, /magic number 0x89504e47/, /not an IDX file/);
  });

  it('rejects a truncated body, saying how much is there', () => {
    const full = idxImages(3);
    rejects(
      () => parseIdxImages(...file('cut-images', full.subarray(0, full.length - 100))),
      /cut-images/,
      /truncated: the header says 3 images \(2352 bytes\), but only 2252 bytes follow the header \(2 whole images\)/,
    );
    const labels = idxLabels([1, 2, 3]);
    rejects(
      () => parseIdxLabels(...file('cut-labels', labels.subarray(0, 10))),
      /cut-labels/,
      /3 labels \(3 bytes\), but only 2 bytes/,
    );
    rejects(
      () => parseIdxImages(...file('cut-header', full.subarray(0, 10))),
      /cut-header/,
      /expected 16 header bytes .* found only 10 bytes/,
    );
  });

  it('rejects a gzip stream cut short', () => {
    const gz = gzipSync(idxImages(20));
    rejects(
      () => parseIdxImages(...file('cut.gz', gz.subarray(0, gz.length >> 1))),
      /cut\.gz/,
      /gzip data is corrupt or cut short/,
    );
  });

  it('rejects bytes after the announced images', () => {
    rejects(
      () => parseIdxImages(...file('long', Buffer.concat([idxImages(2), Buffer.alloc(5)]))),
      /long: 5 unexpected bytes after the 2 images/,
    );
  });

  it('reads any image size, and rejects sizes other than the one asked for', () => {
    const wide = parseIdxImages(...file('wide', idxImages(2, 28, 29)));
    assert.deepEqual([wide.count, wide.rows, wide.cols, wide.pixels.length], [2, 28, 29, 2 * 28 * 29]);
    rejects(
      () => parseIdxImages(...file('mnist-32', idxImages(2, 32, 32)), [28, 28]),
      /mnist-32/,
      /images of 32x32 pixels, expected 28x28/,
    );
    rejects(() => parseIdxImages(...file('wide', idxImages(2, 28, 29)), [28, 28]), /wide/, /28x29 pixels, expected 28x28/);
  });

  it('rejects an empty file, gzipped or not', () => {
    rejects(() => parseIdxImages(...file('empty', Buffer.alloc(0))), /empty: the file is empty \(0 bytes\)/);
    rejects(
      () => parseIdxLabels(...file('empty-inside.gz', gzipSync(Buffer.alloc(0)))),
      /empty-inside\.gz/,
      /empty after gunzip/,
    );
  });

  it('rejects a .gz file that is not gzip', () => {
    rejects(
      () => parseIdxImages(...file('train-images-idx3-ubyte.gz', idxImages(1))),
      /train-images-idx3-ubyte\.gz: named \.gz but is not gzip: starts with bytes 00 00 08 03, expected 1f 8b/,
    );
  });

  it('rejects a label outside 0-9, saying where', () => {
    rejects(
      () => parseIdxLabels(...file('labels-10', idxLabels([0, 9, 10, 3]))),
      /labels-10: label 10 at index 2, expected a class index 0-9/,
    );
    rejects(() => parseIdxLabels(...file('labels-255.gz', gzipSync(idxLabels([255])))), /label 255 at index 0/);
  });
});
