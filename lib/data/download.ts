import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { progressReporter, type DownloadEvent } from './download-progress';
import { writeAtomically } from '../util/atomic-file';
import { errorCode } from '../util/errno';

export type { DownloadEvent };

export interface DownloadOptions {
  /** An attempt fails when nothing happens for this long: no connection, no response, or no new bytes. Default 30 s. */
  timeoutMs?: number;
  /**
   * A file's whole download, every attempt and wait included, fails after this
   * long, so a mirror that trickles bytes cannot hold it forever. Default 10 min.
   */
  deadlineMs?: number;
  /** Attempts after the first one, for failures that may pass (stall, reset, HTTP 5xx). Default 3. */
  retries?: number;
  /** Wait before the first retry, doubled for each further one. Default 1 s. */
  retryDelayMs?: number;
  /** Called as the download moves; defaults to `progressReporter()`. */
  onProgress?: (event: DownloadEvent) => void;
}

/** What the file must be: its size caps the download, its md5 accepts it. */
export interface ExpectedFile {
  bytes: number;
  md5: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_DEADLINE_MS = 600_000;
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

/** Temporary files this process is writing: a leftover that carries this process's pid but is not here is stale. */
const ownTemps = new Set<string>();

/**
 * Downloads `url` to `dest`, which appears only once complete with the
 * expected size and md5: bytes go to a temporary file beside `dest` (same file
 * system, so the final rename is atomic), which is deleted whenever an
 * attempt fails. At most `expected.bytes` are written. Transient failures are
 * retried with exponential backoff, all within `deadlineMs`.
 */
export async function downloadVerified(
  url: string,
  dest: string,
  expected: ExpectedFile,
  options: DownloadOptions = {},
): Promise<void> {
  const {
    timeoutMs = DEFAULT_TIMEOUT_MS,
    deadlineMs = DEFAULT_DEADLINE_MS,
    retries = DEFAULT_RETRIES,
    retryDelayMs = DEFAULT_RETRY_DELAY_MS,
    onProgress = progressReporter(),
  } = options;
  const file = path.basename(dest);
  const deadline = Date.now() + deadlineMs;
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    // The deadline is in the name, so any later run can tell a leftover whose owner has given up.
    const temp = `${dest}.${process.pid}-${deadline}-${randomBytes(4).toString('hex')}.tmp`;
    ownTemps.add(temp);
    try {
      const report = (receivedBytes: number) =>
        onProgress({ phase: 'progress', file, url, attempt, receivedBytes, totalBytes: expected.bytes });
      const receivedBytes = await writeAtomically(
        dest,
        async (out) => {
          const got = await fetchToFile(new URL(url), out, expected.bytes, { timeoutMs, deadline, deadlineMs, report });
          if (got.md5 !== expected.md5) {
            throw new AttemptError(`md5 of the download is ${got.md5}, expected ${expected.md5}; the server sent a different file`, false);
          }
          return got.receivedBytes;
        },
        temp,
      );
      onProgress({ phase: 'done', file, url, attempt, receivedBytes });
      return;
    } catch (e) {
      const failure = e instanceof AttemptError ? e : new AttemptError((e as Error).message, false);
      const delayMs = retryDelayMs * 2 ** (attempt - 1);
      const late = failure.transient && attempt <= retries && Date.now() + delayMs >= deadline;
      if (!failure.transient || attempt > retries || late) {
        const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
        const why = late ? `, and the download deadline (${seconds(deadlineMs)}) leaves no time to retry` : '';
        throw new Error(
          `Downloading ${file} from ${url} failed${tries}: ${failure.message}${why}. Nothing was written to ${dest}.`,
        );
      }
      onProgress({ phase: 'retry', file, url, attempt, error: failure.message, delayMs });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    } finally {
      ownTemps.delete(temp);
    }
  }
}

interface Limits {
  timeoutMs: number;
  deadline: number;
  deadlineMs: number;
  report: (receivedBytes: number) => void;
}

/** Streams one response (following redirects) into `out`, hashing on the way and stopping at `expectedBytes`. */
async function fetchToFile(
  url: URL,
  out: fs.promises.FileHandle,
  expectedBytes: number,
  { timeoutMs, deadline, deadlineMs, report }: Limits,
): Promise<{ md5: string; receivedBytes: number }> {
  let receivedBytes = 0;
  const late = () =>
    new AttemptError(
      `it did not finish within ${seconds(deadlineMs)} (the download deadline): ${receivedBytes} of ` +
        `${expectedBytes} bytes arrived; the mirror is too slow or stalls`,
      false,
    );
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(0, deadline - Date.now()));
  try {
    for (let redirects = 0; ; redirects++) {
      const { req, res, stalled } = await get(url, timeoutMs, controller.signal).catch((e) => {
        throw controller.signal.aborted ? late() : e;
      });
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECT_STATUSES.has(status)) {
        res.resume();
        if (location === undefined) throw new AttemptError(`HTTP ${status} redirect without a Location header`, false);
        if (redirects === MAX_REDIRECTS) {
          throw new AttemptError(
            `more than ${MAX_REDIRECTS} redirects (the last to ${new URL(location, url)}); the mirror redirects in a loop`,
            false,
          );
        }
        url = new URL(location, url);
        continue;
      }
      if (status !== 200) {
        res.resume();
        const where = redirects > 0 ? ` (redirected to ${url})` : '';
        const reason = res.statusMessage ? ` ${res.statusMessage}` : '';
        throw new AttemptError(`HTTP ${status}${reason}${where}, expected 200`, status >= 500 || status === 429);
      }
      const announced = res.headers['content-length'];
      if (announced !== undefined && Number(announced) !== expectedBytes) {
        req.destroy();
        throw new AttemptError(
          `the server announced ${announced} bytes, expected ${expectedBytes}; it does not serve this file`,
          false,
        );
      }
      const hash = createHash('md5');
      report(0);
      // Written by hand rather than piped: each write ends before the next chunk is read, so none is in
      // flight when this returns or throws (writeAtomically then closes the file and, on failure, deletes it).
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          if (receivedBytes + chunk.length > expectedBytes) {
            req.destroy();
            throw new AttemptError(`the server sent more than the expected ${expectedBytes} bytes`, false);
          }
          hash.update(chunk);
          receivedBytes += chunk.length;
          report(receivedBytes);
          await out.write(chunk);
        }
      } catch (e) {
        req.destroy();
        if (e instanceof AttemptError) throw e;
        if (controller.signal.aborted) throw late();
        throw stalled() ?? networkFailure(e, `after ${receivedBytes} of ${expectedBytes} bytes`);
      }
      if (receivedBytes !== expectedBytes) {
        // Without Content-Length or chunks, the body ends where the connection closed, early or not: worth another try.
        if (res.headers['transfer-encoding'] === undefined) {
          throw new AttemptError(`the connection closed after ${receivedBytes} of ${expectedBytes} bytes`, true);
        }
        // Chunks that ended cleanly are all the server meant to send: an error page, a login page...
        const type = res.headers['content-type'];
        throw new AttemptError(
          `the server sent ${receivedBytes} bytes${type ? ` of ${type}` : ''}, expected ${expectedBytes}; ` +
            'it does not serve this file',
          false,
        );
      }
      return { md5: hash.digest('hex'), receivedBytes };
    }
  } finally {
    clearTimeout(timer);
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
  signal: AbortSignal,
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
    const req: http.ClientRequest = request(url, { timeout: timeoutMs, agent: false, signal }, (res) =>
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
  const code = errorCode(e) ?? '';
  const message = (e as Error).message;
  const what =
    code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' ? 'the connection was reset or closed' : message;
  return new AttemptError(`${what} ${when}${code ? ` (${code})` : ''}`, TRANSIENT_CODES.has(code));
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${ms / 1000} s`;
}

/**
 * Deletes the temporary files that downloads of `names` into `dir` left
 * behind: those whose owner's deadline has passed, whose owner is no longer
 * running, or that carry this process's pid (reused after a restart) without
 * being among its downloads. A missing `dir` has none.
 */
export async function removeStaleTemps(dir: string, names: readonly string[]): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.promises.readdir(dir);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return;
    throw e;
  }
  for (const entry of entries) {
    const base = names.find((name) => entry.startsWith(`${name}.`));
    if (base === undefined) continue;
    // pid-deadline-random.tmp; pid-random.tmp from versions before deadlines.
    const match = /^(\d+)-(?:(\d+)-)?[0-9a-f]{8}\.tmp$/.exec(entry.slice(base.length + 1));
    if (match === null) continue;
    const file = path.join(dir, entry);
    const pid = Number(match[1]);
    const expired = match[2] === undefined || Number(match[2]) <= Date.now();
    const orphaned = pid === process.pid ? !ownTemps.has(file) : !isRunning(pid);
    if (expired || orphaned) await fs.promises.rm(file, { force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(e) === 'EPERM';
  }
}
