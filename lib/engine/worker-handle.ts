import * as path from 'path';
import { Worker } from 'worker_threads';
import type { BackendName } from './backend';
import type { ChunkResult, StepRequest, WorkerInit, WorkerReply } from './worker-protocol';

const WORKER_FILE = path.join(__dirname, 'gradient-worker.ts');
// Node 20 does not apply `--import tsx` (ESM loader hooks) to a worker's entry
// file, so the worker gets tsx's CommonJS hook instead; the project is CommonJS.
const WORKER_EXEC_ARGV = ['--require', require.resolve('tsx/cjs')];

type Pending = { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void };

/** One worker thread with at most one request in flight. */
export class GradientWorker {
  private readonly worker: Worker;
  private pending: Pending | null = null;
  private failure: Error | null = null;
  readonly ready: Promise<BackendName>;

  constructor(
    readonly index: number,
    init: WorkerInit,
  ) {
    this.worker = new Worker(WORKER_FILE, { workerData: init, execArgv: WORKER_EXEC_ARGV });
    this.worker.on('message', (reply: WorkerReply) => this.settle(reply));
    this.worker.on('error', (e) => this.fail(new Error(`gradient worker ${index} crashed: ${e.message}`, { cause: e })));
    this.worker.on('exit', (code) => this.fail(new Error(`gradient worker ${index} exited with code ${code}`)));
    this.ready = this.next().then((reply) => {
      if (reply.type !== 'ready') throw new Error(`gradient worker ${index} sent "${reply.type}" before "ready"`);
      return reply.backend;
    });
  }

  async run(request: StepRequest): Promise<ChunkResult[]> {
    if (this.failure) throw this.failure;
    const reply = this.next();
    this.worker.postMessage(request);
    const r = await reply;
    if (r.type !== 'results') throw new Error(`gradient worker ${this.index} answered a batch with "${r.type}"`);
    return r.results;
  }

  terminate(): Promise<number> {
    this.fail(new Error('the parallel gradient engine was disposed'));
    return this.worker.terminate();
  }

  private next(): Promise<WorkerReply> {
    // Referenced only while waiting for a reply, so an idle engine never keeps the process alive.
    this.worker.ref();
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
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
    this.worker.unref();
    return pending;
  }
}
