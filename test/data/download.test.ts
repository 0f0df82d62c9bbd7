import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { loadFashionMnist, md5File, type FashionMnistFile, type LoadOptions } from '../../lib/data/fashion-mnist';
import { type DownloadEvent } from '../../lib/data/download';
import { escapeRegExp } from '../helpers/escape-regexp';
import { assertRejects, fakeData, md5, NAMES, tempDir, writeData, type FakeData } from '../helpers/fake-fashion-mnist';

type Handler = (name: FashionMnistFile, req: http.IncomingMessage, res: http.ServerResponse, hit: number) => void;

/** A mirror on 127.0.0.1: `handler` answers each request, `hits` counts requests per file. */
async function startMirror(
  handler: Handler,
): Promise<{ baseUrl: string; hits: Map<string, number>; close: () => Promise<void> }> {
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const name = path.basename(req.url ?? '') as FashionMnistFile;
    const hit = (hits.get(name) ?? 0) + 1;
    hits.set(name, hit);
    handler(name, req, res, hit);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/fashion/`,
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function serve(res: http.ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
}

/** Sends the headers for all of `body` but only its first half, then `then` (cut, reset, or nothing: a stall). */
function serveHalf(res: http.ServerResponse, body: Buffer, then: () => void): void {
  res.writeHead(200, { 'content-length': body.length });
  res.write(body.subarray(0, body.length >> 1), then);
}

describe('loadFashionMnist downloading from a mirror', () => {
  let dir: string;
  let data: FakeData;
  let mirror: Awaited<ReturnType<typeof startMirror>> | undefined;
  let events: DownloadEvent[];
  const options = (extra: Partial<LoadOptions> = {}): LoadOptions => ({
    dir,
    md5: data.md5,
    baseUrl: mirror?.baseUrl,
    // Long enough that a test process paused by a loaded machine is not a stall; the stall tests set 300 ms.
    timeoutMs: 10_000,
    retries: 0,
    retryDelayMs: 5,
    onProgress: (e) => events.push(e),
    ...extra,
  });
  /** Serves the fake data, except that `special` answers requests for `file`. */
  const startWith = async (file: FashionMnistFile | null, special: Handler = () => {}) => {
    mirror = await startMirror((name, req, res, hit) => {
      if (name === file) special(name, req, res, hit);
      else if (name in data.gz) serve(res, data.gz[name]);
      else res.writeHead(404).end();
    });
    return mirror;
  };
  const filesInDir = () => fs.readdirSync(dir).sort();

  beforeEach(() => {
    dir = path.join(tempDir(), 'not-yet-created');
    data = fakeData();
    events = [];
  });
  afterEach(async () => {
    await mirror?.close();
    mirror = undefined;
  });

  it('downloads missing files, verifies them, reports progress, and then reads them from disk', async () => {
    const { hits } = await startWith(null);
    const loaded = await loadFashionMnist(options());
    assert.deepEqual(loaded.train.images, new Uint8Array(data.trainPixels));
    assert.deepEqual([...loaded.train.labels], data.trainLabels);
    assert.deepEqual(filesInDir(), [...NAMES].sort());
    for (const name of NAMES) assert.equal(await md5File(path.join(dir, name)), data.md5[name].gz);
    assert.deepEqual(
      events.flatMap((e) => (e.phase === 'done' ? [[e.file, e.receivedBytes]] : [])),
      NAMES.map((name) => [name, data.gz[name].length]),
    );
    const first = events.find((e) => e.phase === 'progress');
    assert.deepEqual(first, {
      phase: 'progress',
      file: 'train-images-idx3-ubyte.gz',
      url: `${mirror?.baseUrl}train-images-idx3-ubyte.gz`,
      attempt: 1,
      receivedBytes: 0,
      totalBytes: data.gz['train-images-idx3-ubyte.gz'].length,
    });

    await loadFashionMnist(options());
    assert.deepEqual([...hits.values()], [1, 1, 1, 1]);
  });

  it('follows a redirect', async () => {
    const target = data.gz['t10k-images-idx3-ubyte.gz'];
    await startWith('t10k-images-idx3-ubyte.gz', (_name, req, res) => {
      if (req.url?.startsWith('/moved/')) serve(res, target);
      else res.writeHead(302, { location: '/moved/t10k-images-idx3-ubyte.gz' }).end();
    });
    const loaded = await loadFashionMnist(options());
    assert.equal(loaded.test.count, 3);
  });

  it('fails on HTTP 404 at once, naming the URL and the file, and writes nothing', async () => {
    const { hits } = await startWith('train-labels-idx1-ubyte.gz', (_name, _req, res) =>
      res.writeHead(404).end('no such key'),
    );
    await assertRejects(
      loadFashionMnist(options({ retries: 2 })),
      new RegExp(
        `Downloading train-labels-idx1-ubyte\\.gz from ${mirror?.baseUrl}train-labels-idx1-ubyte\\.gz failed: HTTP 404 Not Found, expected 200`,
      ),
      /Nothing was written to .*train-labels-idx1-ubyte\.gz/,
    );
    assert.equal(hits.get('train-labels-idx1-ubyte.gz'), 1);
    assert.deepEqual(filesInDir(), ['train-images-idx3-ubyte.gz']);
  });

  it('retries HTTP 500 and then gives up, saying how often it tried', async () => {
    const { hits } = await startWith('train-images-idx3-ubyte.gz', (_name, _req, res) => res.writeHead(500).end());
    await assertRejects(
      loadFashionMnist(options({ retries: 1 })),
      /Downloading train-images-idx3-ubyte\.gz from http:\/\/127\.0\.0\.1:\d+\/fashion\/train-images-idx3-ubyte\.gz failed after 2 attempts: HTTP 500 Internal Server Error/,
    );
    assert.equal(hits.get('train-images-idx3-ubyte.gz'), 2);
    assert.deepEqual(
      events.flatMap((e) => (e.phase === 'retry' ? [[e.attempt, e.delayMs]] : [])),
      [[1, 5]],
    );
    assert.deepEqual(filesInDir(), []);
  });

  it('times out on a server that accepts and never answers', async () => {
    await startWith('train-images-idx3-ubyte.gz', () => {});
    await assertRejects(
      loadFashionMnist(options({ timeoutMs: 300 })),
      /Downloading train-images-idx3-ubyte\.gz from http:\/\/127\.0\.0\.1:\d+\/fashion\/train-images-idx3-ubyte\.gz failed: the connection stalled: nothing received for 300 ms/,
    );
    assert.deepEqual(filesInDir(), []);
  });

  it('times out on a body that stops half way, leaving no temporary file', async () => {
    const body = data.gz['train-images-idx3-ubyte.gz'];
    await startWith('train-images-idx3-ubyte.gz', (_name, _req, res) => serveHalf(res, body, () => {}));
    await assertRejects(
      loadFashionMnist(options({ timeoutMs: 300 })),
      /train-images-idx3-ubyte\.gz failed: the connection stalled: nothing received for 300 ms/,
    );
    assert.ok(events.some((e) => e.phase === 'progress' && e.receivedBytes === body.length >> 1));
    assert.deepEqual(filesInDir(), []);
  });

  it('reports a connection reset half way', async () => {
    const body = data.gz['train-images-idx3-ubyte.gz'];
    await startWith('train-images-idx3-ubyte.gz', (_name, req, res) =>
      serveHalf(res, body, () => req.socket.resetAndDestroy()),
    );
    await assertRejects(
      loadFashionMnist(options()),
      new RegExp(
        `train-images-idx3-ubyte\\.gz from \\S+ failed: the connection was reset or closed after \\d+ of ${body.length} bytes \\(ECONNRESET\\)`,
      ),
    );
    assert.deepEqual(filesInDir(), []);
  });

  it('deletes a download whose md5 is wrong and does not retry it', async () => {
    // The right size, other bytes.
    const other = Buffer.from(data.gz['t10k-labels-idx1-ubyte.gz']).reverse();
    const { hits } = await startWith('t10k-labels-idx1-ubyte.gz', (_name, _req, res) => serve(res, other));
    await assertRejects(
      loadFashionMnist(options({ retries: 2 })),
      new RegExp(
        `t10k-labels-idx1-ubyte\\.gz from \\S+ failed: md5 of the download is ${md5(other)}, ` +
          `expected ${data.md5['t10k-labels-idx1-ubyte.gz'].gz}`,
      ),
    );
    assert.equal(hits.get('t10k-labels-idx1-ubyte.gz'), 1);
    assert.deepEqual(filesInDir(), [
      't10k-images-idx3-ubyte.gz',
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
    ]);
  });

  it('retries a download cut half way and succeeds', async () => {
    const body = data.gz['train-images-idx3-ubyte.gz'];
    const { hits } = await startWith('train-images-idx3-ubyte.gz', (_name, _req, res, hit) => {
      if (hit === 1) serveHalf(res, body, () => res.socket?.destroy());
      else serve(res, body);
    });
    const loaded = await loadFashionMnist(options({ retries: 2 }));
    assert.deepEqual(loaded.train.images, new Uint8Array(data.trainPixels));
    assert.equal(hits.get('train-images-idx3-ubyte.gz'), 2);
    const retry = events.find((e) => e.phase === 'retry');
    assert.match(retry?.phase === 'retry' ? retry.error : '', /closed after \d+ of \d+ bytes/);
    assert.deepEqual(filesInDir(), [...NAMES].sort());
  });

  it('stops a body longer than the file at its expected size, writing no more than that', async () => {
    const file = 'train-labels-idx1-ubyte.gz';
    const expected = data.gz[file].length;
    let sent = 0;
    await startWith(file, (_name, _req, res) => {
      // No Content-Length: the body ends when the server closes, here never before 8 MB.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.on('error', () => {});
      const chunk = Buffer.alloc(16 * 1024, 7);
      const pump = () => {
        while (sent < 8 * 2 ** 20 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await assertRejects(
      loadFashionMnist(options()),
      new RegExp(`${file} from \\S+ failed: the server sent more than the expected ${expected} bytes`),
    );
    const written = events.flatMap((e) => (e.phase === 'progress' && e.file === file ? [e.receivedBytes] : []));
    assert.ok(Math.max(...written) <= expected, `wrote ${Math.max(...written)} bytes of a ${expected}-byte file`);
    assert.ok(sent < 8 * 2 ** 20, 'the endless body was not cut off');
    assert.deepEqual(filesInDir(), ['train-images-idx3-ubyte.gz']);
  });

  it('refuses a response that announces a size other than the file size, before reading it', async () => {
    const { hits } = await startWith('train-images-idx3-ubyte.gz', (_name, _req, res) => {
      res.writeHead(200, { 'content-length': 2_350_000_000 });
      res.on('error', () => {});
      res.write(Buffer.alloc(1024));
    });
    await assertRejects(
      loadFashionMnist(options({ retries: 2 })),
      new RegExp(
        `failed: the server announced 2350000000 bytes, expected ${data.gz['train-images-idx3-ubyte.gz'].length}`,
      ),
    );
    assert.equal(hits.get('train-images-idx3-ubyte.gz'), 1);
    assert.ok(!events.some((e) => e.phase === 'progress'));
    assert.deepEqual(filesInDir(), []);
  });

  it('gives up on a mirror that trickles bytes at its deadline', async () => {
    const file = 't10k-labels-idx1-ubyte.gz';
    const body = data.gz[file];
    await startWith(file, (_name, _req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.on('error', () => {});
      // A byte every 40 ms: never a stall, and the whole file would take over a second.
      let next = 0;
      const timer: NodeJS.Timeout = setInterval(() => {
        if (res.destroyed || next === body.length) return void (clearInterval(timer), res.end());
        res.write(body.subarray(next, ++next));
      }, 40);
    });
    await assertRejects(
      loadFashionMnist(options({ deadlineMs: 400 })),
      new RegExp(`${file} from \\S+ failed: it did not finish within 400 ms \\(the download deadline\\): \\d+ of ${body.length} bytes arrived`),
    );
    assert.ok(body.length * 40 > 1000, 'the trickle would have finished within the deadline');
    assert.ok(!filesInDir().includes(file));
  });

  it('does not wait for a retry past the deadline', async () => {
    const { hits } = await startWith('train-images-idx3-ubyte.gz', (_name, _req, res) => res.writeHead(503).end());
    await assertRejects(
      loadFashionMnist(options({ retries: 3, retryDelayMs: 1000, deadlineMs: 500 })),
      /failed: HTTP 503 Service Unavailable, expected 200, and the download deadline \(500 ms\) leaves no time to retry\./,
    );
    assert.equal(hits.get('train-images-idx3-ubyte.gz'), 1);
  });

  it('follows a redirect loop only so far, and says it loops', async () => {
    const { hits } = await startWith('train-images-idx3-ubyte.gz', (_name, req, res) =>
      res.writeHead(302, { location: req.url }).end(),
    );
    await assertRejects(
      loadFashionMnist(options({ retries: 2 })),
      /train-images-idx3-ubyte\.gz from \S+ failed: more than 5 redirects \(the last to \S+train-images-idx3-ubyte\.gz\); the mirror redirects in a loop/,
    );
    assert.equal(hits.get('train-images-idx3-ubyte.gz'), 6);
  });

  it('retries a body cut short without a Content-Length', async () => {
    const body = data.gz['train-images-idx3-ubyte.gz'];
    const { hits } = await startWith('train-images-idx3-ubyte.gz', (_name, req, _res, hit) => {
      // Neither Content-Length nor chunks: closing the connection ends the body, complete or not.
      req.socket.end(
        Buffer.concat([
          Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n'),
          hit === 1 ? body.subarray(0, body.length >> 1) : body,
        ]),
      );
    });
    const loaded = await loadFashionMnist(options({ retries: 1 }));
    assert.equal(loaded.train.count, 5);
    assert.equal(hits.get('train-images-idx3-ubyte.gz'), 2);
    const retry = events.find((e) => e.phase === 'retry');
    assert.equal(
      retry?.phase === 'retry' ? retry.error : '',
      `the connection closed after ${body.length >> 1} of ${body.length} bytes`,
    );
  });

  it('refuses a complete response of another size, such as an error page, without retrying', async () => {
    const { hits } = await startWith('train-images-idx3-ubyte.gz', (_name, _req, res) => {
      // No Content-Length: node sends it in chunks, whose clean end says the body is whole.
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>Please log in</html>');
    });
    await assertRejects(
      loadFashionMnist(options({ retries: 2 })),
      new RegExp(
        `train-images-idx3-ubyte\\.gz from \\S+ failed: the server sent 26 bytes of text/html, ` +
          `expected ${data.gz['train-images-idx3-ubyte.gz'].length}; it does not serve this file`,
      ),
    );
    assert.equal(hits.get('train-images-idx3-ubyte.gz'), 1);
    assert.deepEqual(filesInDir(), []);
  });

  it('names the mirror setting when FASHION_MNIST_MIRROR is not a URL', async () => {
    const saved = process.env.FASHION_MNIST_MIRROR;
    try {
      for (const bad of ['fashion-mnist.example.com/files', 'ftp://mirror.example.com/fm/']) {
        process.env.FASHION_MNIST_MIRROR = bad;
        await assertRejects(
          loadFashionMnist(options({ baseUrl: undefined })),
          new RegExp(`^FASHION_MNIST_MIRROR is "${escapeRegExp(bad)}", which is not an http:// or https:// URL`),
        );
      }
    } finally {
      if (saved === undefined) delete process.env.FASHION_MNIST_MIRROR;
      else process.env.FASHION_MNIST_MIRROR = saved;
    }
    assert.equal(fs.existsSync(dir) ? filesInDir().length : 0, 0);
  });

  it('refuses a symbolic link to nowhere in place of a data file, and leaves it', async () => {
    const { hits } = await startWith(null);
    fs.mkdirSync(dir, { recursive: true });
    const link = path.join(dir, 'train-labels-idx1-ubyte.gz');
    fs.symlinkSync('/nonexistent/train-labels-idx1-ubyte.gz', link);
    await assertRejects(
      loadFashionMnist(options()),
      new RegExp(`^${escapeRegExp(link)} is a symbolic link to /nonexistent/train-labels-idx1-ubyte\\.gz, which does not exist`),
    );
    assert.equal(fs.readlinkSync(link), '/nonexistent/train-labels-idx1-ubyte.gz');
    assert.equal(hits.size, 0, 'nothing was downloaded');
  });

  it('removes what killed downloads of any file left, whatever their pid, and only those', async () => {
    fs.mkdirSync(dir, { recursive: true });
    writeData(dir, data);
    const past = Date.now() - 1000;
    const future = Date.now() + 3_600_000;
    const stale = [
      // Its process is gone.
      `train-images-idx3-ubyte.gz.99999999-${future}-0badf00d.tmp`,
      // PID 1 is alive (init, or a new process after a container restart), but the deadline has passed.
      `t10k-labels-idx1-ubyte.gz.1-${past}-0badf00d.tmp`,
      // This process's pid, reused after a restart, but not one of its downloads.
      `train-labels-idx1-ubyte.gz.${process.pid}-${future}-0badf00d.tmp`,
      // Written before downloads had deadlines.
      `t10k-images-idx3-ubyte.gz.1-0badf00d.tmp`,
    ];
    // A download still running in another live process, within its deadline.
    const running = `t10k-images-idx3-ubyte.gz.1-${future}-0badf00d.tmp`;
    for (const name of [...stale, running]) fs.writeFileSync(path.join(dir, name), 'half');
    await loadFashionMnist({ dir, md5: data.md5, download: false });
    assert.deepEqual(filesInDir(), [...NAMES, running].sort());
  });
});
