import * as path from 'path';
import { Worker } from 'worker_threads';
import type { BackendName } from './backend';
import type { ChunkResult } from './chunks';
import type { StepRequest, WorkerInit, WorkerReply } from './worker-protocol';

const WORKER_FILE = path.join(__dirname, 'gradient-worker.ts');
// Node 20 does not apply `--import tsx` (ESM loader hooks) to a worker's entry
// file, so the worker gets tsx's CommonJS hook instead; the project is CommonJS.
const WORKER_EXEC_ARGV = ['--require', require.resolve('tsx/cjs')];

/** A worker did not answer in time; the engine stops all its workers when it sees one. */
export class WorkerTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerTimeoutError';
  }
}

type Pending = { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** One worker thread with at most one request in flight, each wait bounded by a deadline. */
export class GradientWorker {
  private readonly worker: Worker;
  private pending: Pending | null = null;
  private failure: Error | null = null;
  readonly ready: Promise<BackendName>;

  constructor(
    readonly index: number,
    init: WorkerInit,
    startupTimeoutMs: number,
    file = WORKER_FILE,
  ) {
    this.worker = new Worker(file, { workerData: init, execArgv: WORKER_EXEC_ARGV });
    this.worker.on('message', (reply: WorkerReply) => this.settle(reply));
    this.worker.on('error', (e) => this.fail(new Error(`gradient worker ${index} crashed: ${e.message}`, { cause: e })));
    this.worker.on('exit', (code) => this.fail(new Error(`gradient worker ${index} exited with code ${code}`)));
    this.ready = this.next(startupTimeoutMs, 'starting (loading TensorFlow.js and building the model)').then((reply) => {
      if (reply.type !== 'ready') throw new Error(`gradient worker ${index} sent "${reply.type}" before "ready"`);
      return reply.backend;
    });
    // The engine awaits `ready` only while it starts; a worker ended before that (a stop signal that
    // had already aborted) must not leave its rejection unhandled, which the wasm backend made fatal.
    this.ready.catch(() => undefined);
  }

  /** Sends `request`; rejects with a WorkerTimeoutError naming `task` if no answer comes within `timeoutMs`. */
  async run(request: StepRequest, timeoutMs: number, task: string): Promise<ChunkResult[]> {
    if (this.failure) throw this.failure;
    const reply = this.next(timeoutMs, task);
    this.worker.postMessage(request);
    const r = await reply;
    if (r.type !== 'results') throw new Error(`gradient worker ${this.index} answered a batch with "${r.type}"`);
    return r.results;
  }

  terminate(reason = 'the parallel gradient engine was disposed'): Promise<number> {
    this.fail(new Error(reason));
    return this.worker.terminate();
  }

  private next(timeoutMs: number, task: string): Promise<WorkerReply> {
    // Referenced only while waiting for a reply, so an idle engine never keeps the process alive.
    this.worker.ref();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new WorkerTimeoutError(`gradient worker ${this.index} did not answer within ${seconds(timeoutMs)} while ${task}`));
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
    });
  }

  private settle(reply: WorkerReply): void {
    const pending = this.take();
    if (reply.type === 'error') {
      const cause = Object.assign(new Error(reply.message), { stack: reply.stack });
      pending?.reject(new Error(`gradient worker ${this.index} failed: ${reply.message}`, { cause }));
    } else {
      pending?.resolve(reply);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.take()?.reject(this.failure);
  }

  private take(): Pending | null {
    const pending = this.pending;
    this.pending = null;
    if (pending) clearTimeout(pending.timer);
    this.worker.unref();
    return pending;
  }
}
