import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { PIXELS } from '../../lib/data/classes';
import { defaultDataDir, FASHION_MNIST_FILES, FASHION_MNIST_MD5, loadFashionMnist, md5File, resolveDataDir } from '../../lib/data/fashion-mnist';
import { escapeRegExp } from '../helpers/escape-regexp';
import { assertRejects, fakeData, md5, NAMES, REPO, SHIPPED, tempDir, writeData } from '../helpers/fake-fashion-mnist';

describe('the shipped copy of Fashion-MNIST', () => {
  it('matches the md5 table, gzipped and raw', async () => {
    for (const name of NAMES) {
      assert.equal(await md5File(path.join(SHIPPED, name)), FASHION_MNIST_MD5[name].gz, name);
      assert.equal(md5(gunzipSync(fs.readFileSync(path.join(SHIPPED, name)))), FASHION_MNIST_MD5[name].raw, name);
    }
    assert.deepEqual(
      [...NAMES].sort(),
      Object.values(FASHION_MNIST_FILES)
        .flatMap((f) => [f.images, f.labels])
        .sort(),
    );
  });

  it('loads from the repository by default, without the network', async () => {
    const saved = process.env.FASHION_MNIST_DIR;
    delete process.env.FASHION_MNIST_DIR;
    try {
      assert.equal(resolveDataDir(), SHIPPED);
      const data = await loadFashionMnist({ download: false });
      assert.equal(data.train.count, 60000);
      assert.equal(data.test.count, 10000);
      assert.ok(data.train.images instanceof Uint8Array && data.train.labels instanceof Uint8Array);
      assert.equal(data.train.images.length, 60000 * PIXELS);
      assert.equal(data.test.images.length, 10000 * PIXELS);
      assert.equal(data.train.labels[0], 9);
      assert.equal(
        data.train.images.subarray(0, PIXELS).reduce((sum, p) => sum + p, 0),
        76247,
      );
      assert.equal(
        data.test.images.subarray(0, PIXELS).reduce((sum, p) => sum + p, 0),
        33456,
      );
    } finally {
      if (saved !== undefined) process.env.FASHION_MNIST_DIR = saved;
    }
  });

  it('is found through the notebooks/lib symlink, as tslab loads lib', () => {
    assert.ok(fs.lstatSync(path.join(REPO, 'notebooks', 'lib')).isSymbolicLink());
    // tslab names modules by the path they were imported through: notebooks/lib/data/fashion-mnist.
    assert.equal(defaultDataDir(path.join(REPO, 'notebooks', 'lib')), SHIPPED);
    assert.equal(defaultDataDir(), SHIPPED);
  });

  it('accepts unpacked (raw) files by their raw md5', async () => {
    const dir = tempDir();
    for (const name of NAMES) {
      const shipped = path.join(SHIPPED, name);
      // The small test split unpacked for real; the big train files linked, gzipped as shipped.
      if (name.startsWith('t10k'))
        fs.writeFileSync(path.join(dir, name.replace(/\.gz$/, '')), gunzipSync(fs.readFileSync(shipped)));
      else fs.symlinkSync(shipped, path.join(dir, name));
    }
    const data = await loadFashionMnist({ dir, download: false });
    assert.equal(data.test.count, 10000);
    assert.equal(data.test.labels[0], 9);
    assert.equal(data.train.count, 60000);
  });
});

describe('loadFashionMnist on local files', () => {
  it('reads the directory in $FASHION_MNIST_DIR', async () => {
    const dir = tempDir();
    const data = fakeData();
    writeData(dir, data);
    const saved = process.env.FASHION_MNIST_DIR;
    process.env.FASHION_MNIST_DIR = dir;
    try {
      const loaded = await loadFashionMnist({ md5: data.md5, download: false });
      assert.equal(loaded.train.count, 5);
      assert.equal(loaded.test.count, 3);
      assert.deepEqual(loaded.train.images, new Uint8Array(data.trainPixels));
      assert.deepEqual([...loaded.train.labels], data.trainLabels);
    } finally {
      if (saved === undefined) delete process.env.FASHION_MNIST_DIR;
      else process.env.FASHION_MNIST_DIR = saved;
    }
  });

  it('refuses a file with the wrong md5 and leaves it for the user to delete', async () => {
    const dir = tempDir();
    const data = fakeData();
    writeData(dir, data);
    const damaged = path.join(dir, 't10k-labels-idx1-ubyte.gz');
    fs.writeFileSync(damaged, Buffer.from(data.gz['t10k-labels-idx1-ubyte.gz']).reverse());
    await assertRejects(
      loadFashionMnist({ dir, md5: data.md5, download: false }),
      new RegExp(
        `${damaged}: md5 [0-9a-f]{32}, expected ${data.md5['t10k-labels-idx1-ubyte.gz'].gz} \\(as released, gzip\\)`,
      ),
      /was not used\. Delete it, then copy the official file there/,
    );
    assert.ok(fs.existsSync(damaged));
    await assertRejects(
      loadFashionMnist({ dir, md5: data.md5, baseUrl: 'http://127.0.0.1:9/' }),
      /Delete it, then run again to download a fresh copy/,
    );
  });

  it('refuses images and labels of different counts, naming both files', async () => {
    const dir = tempDir();
    const data = fakeData();
    const fewerLabels = fakeData(4);
    writeData(dir, data);
    writeData(dir, fewerLabels, ['train-labels-idx1-ubyte.gz']);
    const sums = { ...data.md5, 'train-labels-idx1-ubyte.gz': fewerLabels.md5['train-labels-idx1-ubyte.gz'] };
    await assertRejects(
      loadFashionMnist({ dir, md5: sums, download: false }),
      /train-images-idx3-ubyte\.gz holds 5 images but \S+train-labels-idx1-ubyte\.gz holds 4 labels; expected one label per image/,
    );
  });

  it('names FASHION_MNIST_DIR when it is a file or a symbolic link loop', async () => {
    const parent = tempDir();
    const file = path.join(parent, 'data.txt');
    fs.writeFileSync(file, 'not a directory');
    const loop = path.join(parent, 'loop');
    fs.symlinkSync(path.join(parent, 'loop2'), loop);
    fs.symlinkSync(loop, path.join(parent, 'loop2'));
    const saved = process.env.FASHION_MNIST_DIR;
    try {
      for (const [value, problem] of [
        [file, 'is a file'],
        [loop, 'is, or is under, a symbolic link that loops'],
        [path.join(file, 'fashion'), 'has a file where a parent directory should be'],
      ]) {
        process.env.FASHION_MNIST_DIR = value;
        for (const download of [true, false]) {
          await assertRejects(
            loadFashionMnist({ md5: fakeData().md5, download, baseUrl: 'http://127.0.0.1:9/' }),
            new RegExp(`^FASHION_MNIST_DIR is ${escapeRegExp(value)}, which ${problem}; expected a directory holding the four Fashion-MNIST files\\. Set FASHION_MNIST_DIR to a directory`),
          );
        }
      }
    } finally {
      if (saved === undefined) delete process.env.FASHION_MNIST_DIR;
      else process.env.FASHION_MNIST_DIR = saved;
    }
    assert.equal(fs.readFileSync(file, 'utf8'), 'not a directory');
  });

  it('names a directory, or a pipe, in place of a data file', async () => {
    const dir = tempDir();
    const data = fakeData();
    writeData(dir, data, ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-labels-idx1-ubyte.gz']);
    const inTheWay = path.join(dir, 't10k-images-idx3-ubyte.gz');
    fs.mkdirSync(inTheWay);
    await assertRejects(
      loadFashionMnist({ dir, md5: data.md5, baseUrl: 'http://127.0.0.1:9/' }),
      new RegExp(`^${escapeRegExp(inTheWay)} is a directory; expected the Fashion-MNIST file t10k-images-idx3-ubyte\\.gz`),
    );
    fs.rmdirSync(inTheWay);
    const fifo = path.join(dir, 't10k-images-idx3-ubyte');
    if (spawnSync('mkfifo', [fifo]).status === 0) {
      // Reading a pipe nobody writes to would wait forever.
      await assertRejects(
        loadFashionMnist({ dir, md5: data.md5, download: false }),
        new RegExp(`^${escapeRegExp(fifo)} is not a regular file \\(a pipe, socket or device\\)`),
      );
    }
  });

  it('refuses a file of the wrong size without reading it', async (t) => {
    const dir = tempDir();
    const data = fakeData();
    writeData(dir, data);
    const big = path.join(dir, 'train-labels-idx1-ubyte.gz');
    fs.truncateSync(big, 3 * 2 ** 30);
    const readFile = t.mock.method(fs.promises, 'readFile');
    await assertRejects(
      loadFashionMnist({ dir, md5: data.md5, download: false }),
      new RegExp(`^${escapeRegExp(big)} holds ${3 * 2 ** 30} bytes; expected ${data.gz['train-labels-idx1-ubyte.gz'].length} \\(as released, gzip\\)`),
    );
    assert.ok(!readFile.mock.calls.some((c) => c.arguments[0] === big));
  });

  it('names a data file it may not read, and what to do', async (t) => {
    const dir = tempDir();
    const data = fakeData();
    writeData(dir, data);
    const locked = path.join(dir, 'train-labels-idx1-ubyte.gz');
    // Root reads any file, so the refusal a user meets is injected.
    const readFile = fs.promises.readFile;
    t.mock.method(fs.promises, 'readFile', (file: string, ...rest: unknown[]) =>
      file === locked
        ? Promise.reject(Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES' }))
        : (readFile as (...args: unknown[]) => Promise<Buffer>)(file, ...rest),
    );
    await assertRejects(
      loadFashionMnist({ dir, md5: data.md5, download: false }),
      new RegExp(`^${escapeRegExp(locked)} cannot be read \\(EACCES\\)\\. Give this user read access to it, or copy the four files`),
    );
  });

  it('lists every missing file when downloads are disabled', async () => {
    const dir = tempDir();
    const data = fakeData();
    writeData(dir, data, ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
    await assertRejects(
      loadFashionMnist({ dir, md5: data.md5, download: false, baseUrl: 'http://mirror.invalid/fm' }),
      new RegExp(
        `Missing in ${dir}: t10k-images-idx3-ubyte\\.gz \\(or t10k-images-idx3-ubyte\\), t10k-labels-idx1-ubyte\\.gz`,
      ),
      /downloads are disabled.*http:\/\/mirror\.invalid\/fm\//,
    );
  });
});
