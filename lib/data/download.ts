import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { progressReporter, type DownloadEvent } from './download-progress';

export type { DownloadEvent };

export interface DownloadOptions {
  /** An attempt fails when nothing happens for this long: no connection, no response, or no new bytes. Default 30 s. */
  timeoutMs?: number;
  /** Attempts after the first one, for failures that may pass (stall, reset, HTTP 5xx). Default 3. */
  retries?: number;
  /** Wait before the first retry, doubled for each further one. Default 1 s. */
  retryDelayMs?: number;
  /** Called as the download moves; defaults to `progressReporter()`. */
  onProgress?: (event: DownloadEvent) => void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_RETRY_DELAY_MS = 1_000;
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Network failures that a later attempt may well not meet again. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** One failed attempt; `transient` says whether trying again can help. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/**
 * Downloads `url` to `dest`, which appears only once complete with md5
 * `expectedMd5`: bytes go to a temporary file beside `dest` (same file
 * system, so the final rename is atomic), which is deleted whenever an
 * attempt fails. Transient failures are retried with exponential backoff.
 */
export async function downloadVerified(
  url: string,
  dest: string,
  expectedMd5: string,
  options: DownloadOptions = {},
): Promise<void> {
  const {
    timeoutMs = DEFAULT_TIMEOUT_MS,
    retries = DEFAULT_RETRIES,
    retryDelayMs = DEFAULT_RETRY_DELAY_MS,
    onProgress = progressReporter(),
  } = options;
  const file = path.basename(dest);
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  await removeStaleTemps(dest);
  for (let attempt = 1; ; attempt++) {
    const temp = `${dest}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      const report = (receivedBytes: number, totalBytes: number | null) =>
        onProgress({ phase: 'progress', file, url, attempt, receivedBytes, totalBytes });
      const { md5, receivedBytes } = await fetchToFile(new URL(url), temp, timeoutMs, report);
      if (md5 !== expectedMd5) {
        throw new AttemptError(
          `md5 of the download is ${md5}, expected ${expectedMd5}; the server sent a different file`,
          false,
        );
      }
      await fs.promises.rename(temp, dest);
      onProgress({ phase: 'done', file, url, attempt, receivedBytes });
      return;
    } catch (e) {
      await fs.promises.rm(temp, { force: true });
      const failure = e instanceof AttemptError ? e : new AttemptError((e as Error).message, false);
      if (!failure.transient || attempt > retries) {
        const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
        throw new Error(
          `Downloading ${file} from ${url} failed${tries}: ${failure.message}. Nothing was written to ${dest}.`,
        );
      }
      const delayMs = retryDelayMs * 2 ** (attempt - 1);
      onProgress({ phase: 'retry', file, url, attempt, error: failure.message, delayMs });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** Streams one response (following redirects) into `temp`, hashing on the way. */
async function fetchToFile(
  url: URL,
  temp: string,
  timeoutMs: number,
  report: (receivedBytes: number, totalBytes: number | null) => void,
): Promise<{ md5: string; receivedBytes: number }> {
  for (let redirects = 0; ; redirects++) {
    const { req, res, stalled } = await get(url, timeoutMs);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (REDIRECT_STATUSES.has(status) && location !== undefined && redirects < MAX_REDIRECTS) {
      res.resume();
      url = new URL(location, url);
      continue;
    }
    if (status !== 200) {
      res.resume();
      const where = redirects > 0 ? ` (redirected to ${url})` : '';
      const reason = res.statusMessage ? ` ${res.statusMessage}` : '';
      throw new AttemptError(`HTTP ${status}${reason}${where}, expected 200`, status >= 500 || status === 429);
    }
    const length = Number(res.headers['content-length']);
    const totalBytes = Number.isSafeInteger(length) ? length : null;
    const hash = createHash('md5');
    let receivedBytes = 0;
    report(0, totalBytes);
    // Written by hand rather than piped: the handle is closed before this returns, so the caller's delete of
    // `temp` cannot race an open or a write still in flight.
    const out = await fs.promises.open(temp, 'wx');
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        hash.update(chunk);
        receivedBytes += chunk.length;
        report(receivedBytes, totalBytes);
        await out.write(chunk);
      }
      // Flushed before the rename, so a crash cannot leave `dest` present but empty.
      await out.sync();
    } catch (e) {
      req.destroy();
      throw stalled() ?? networkFailure(e, `after ${receivedBytes} of ${totalBytes ?? 'an unknown number of'} bytes`);
    } finally {
      await out.close();
    }
    if (totalBytes !== null && receivedBytes !== totalBytes) {
      throw new AttemptError(`the connection closed after ${receivedBytes} of ${totalBytes} bytes`, true);
    }
    return { md5: hash.digest('hex'), receivedBytes };
  }
}

/**
 * Starts a GET and resolves on its response headers. The socket timeout
 * covers connecting, waiting for the response and every gap in the body;
 * `stalled()` tells a timeout apart from the reset it causes.
 */
function get(
  url: URL,
  timeoutMs: number,
): Promise<{ req: http.ClientRequest; res: http.IncomingMessage; stalled: () => AttemptError | undefined }> {
  const request: typeof http.get | null =
    url.protocol === 'https:' ? https.get : url.protocol === 'http:' ? http.get : null;
  if (request === null) {
    return Promise.reject(
      new AttemptError(`unsupported protocol ${url.protocol} in ${url}, expected http: or https:`, false),
    );
  }
  return new Promise((resolve, reject) => {
    let timeout: AttemptError | undefined;
    // agent: false gives each request its own connection, closed at the end, so no pooled socket outlives its timeout.
    const req: http.ClientRequest = request(url, { timeout: timeoutMs, agent: false }, (res) =>
      resolve({ req, res, stalled: () => timeout }),
    );
    req.on('timeout', () => {
      timeout = new AttemptError(`the connection stalled: nothing received for ${timeoutMs} ms`, true);
      req.destroy(timeout);
    });
    req.on('error', (e) => reject(timeout ?? networkFailure(e, 'before a response')));
  });
}

function networkFailure(e: unknown, when: string): AttemptError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const message = (e as Error).message;
  const what =
    code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' ? 'the connection was reset or closed' : message;
  return new AttemptError(`${what} ${when}${code ? ` (${code})` : ''}`, TRANSIENT_CODES.has(code));
}

/** Deletes temporaries of `dest` left by processes that were killed mid-download. */
async function removeStaleTemps(dest: string): Promise<void> {
  const base = path.basename(dest);
  for (const name of await fs.promises.readdir(path.dirname(dest))) {
    const match = name.startsWith(`${base}.`) ? /^(\d+)-[0-9a-f]{8}\.tmp$/.exec(name.slice(base.length + 1)) : null;
    if (match && !isRunning(Number(match[1]))) {
      await fs.promises.rm(path.join(path.dirname(dest), name), { force: true });
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
