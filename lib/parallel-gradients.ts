import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend';
import type { Evaluation } from './evaluation';
import { localGradientEngine, type BatchGradients, type GradientEngine } from './gradients';
import { Rng } from './rng';
import type { TensorSplit } from './tensors';

/** What a worker is started with (its workerData). */
export interface WorkerInit {
  /** `model.toJSON(null, false)`: the worker rebuilds the model from it. */
  topology: tf.serialization.ConfigDict;
  chunkSize: number;
}

/** Images and labels on SharedArrayBuffers: posting one to a worker copies nothing. */
export interface SharedSplit {
  pixels: Float32Array;
  labels: Int32Array;
  /** [height, width, channels] of one image. */
  imageShape: [number, number, number];
}

/** Images a worker runs in one forward and backward pass, and the dropout seed for them. */
export interface Chunk {
  /** Position of the chunk in the batch; results are summed in this order. */
  index: number;
  /** Rows of the request's source. */
  rows: Int32Array;
  seed: number;
}

/** One batch for one worker: the current weights (in `model.weights` order) and its chunks. */
export interface StepRequest {
  /** `gradients` trains (dropout on); `evaluate` is the inference-mode forward pass only. */
  kind: 'gradients' | 'evaluate';
  /** Images in the whole batch, across all workers. */
  batchSize: number;
  weights: Float32Array[];
  source: SharedSplit;
  chunks: Chunk[];
}

export interface ChunkResult {
  index: number;
  count: number;
  lossSum: number;
  correct: number;
  /**
   * The chunk's share of the batch mean's gradient (its mean loss's gradient
   * times count / batchSize), in `model.trainableWeights` order; empty for `evaluate`.
   */
  grads: Float32Array[];
}

export type WorkerReply =
  | { type: 'ready'; backend: BackendName }
  | { type: 'results'; results: ChunkResult[] }
  | { type: 'error'; message: string; stack?: string };

export interface ParallelGradientOptions {
  /**
   * Seeds the dropout masks. One seed per chunk is drawn on the main thread,
   * so a run depends on the seed and the chunk size, not on the worker count.
   */
  seed: number;
  /** Worker threads; defaults to the number of cores. */
  workers?: number;
  /**
   * Images per chunk, the unit of work and of memory of a worker. On the
   * default model with 2 workers, chunks of 256 / 512 / 1024 trained at
   * ~9.3k / 9.6k / 9.8k images/s; each doubling adds ~0.35 GB to a worker's peak memory.
   */
  chunkSize?: number;
}

export interface ParallelGradientEngine extends GradientEngine {
  readonly workers: number;
  /**
   * `gradients()` of the rows `indices` of `data`, without gathering them on
   * the calling thread: the first call with a split shares it with the
   * workers (a copy of it stays until another split or dispose()), later
   * calls send only the indices.
   */
  gradientsAt(data: TensorSplit, indices: Int32Array): Promise<BatchGradients>;
  /** `evaluate()` of lib/evaluation.ts (mean loss and accuracy, inference mode), split over the workers. */
  evaluate(data: TensorSplit): Promise<Evaluation>;
  /** Terminates the workers; resolves once they have exited. */
  dispose(): Promise<void>;
}

export const DEFAULT_CHUNK_SIZE = 512;

const WORKER_FILE = path.join(__dirname, 'gradient-worker.ts');
// Node 20 does not apply `--import tsx` (ESM loader hooks) to a worker's entry
// file, so the worker gets tsx's CommonJS hook instead; the project is CommonJS.
const WORKER_EXEC_ARGV = ['--require', require.resolve('tsx/cjs')];
// Keeps the dropout stream apart from the other streams a caller seeds with the same number.
const DROPOUT_STREAM = 0x0d40_9017;

type Pending = { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void };

/** One worker thread with at most one request in flight. */
class GradientWorker {
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

/**
 * Data-parallel gradients: the batch is cut into chunks of `chunkSize`
 * images, dealt round-robin to worker threads that each hold a replica of the
 * model, and the chunks' gradients are summed in chunk order, weighted by
 * chunk size. The result is the gradient of the batch's mean loss, like
 * `localGradientEngine`'s, and is bit-identical for any number of workers.
 *
 * Start one per model, after building it, and dispose of it when done:
 *   const engine = await parallelGradientEngine(model, { seed: hp.seed });
 *   try { await train(model, data, hp, { engine }); } finally { await engine.dispose(); }
 * An idle engine does not keep the process alive, but its workers hold memory until disposed.
 */
export async function parallelGradientEngine(
  model: tf.LayersModel,
  options: ParallelGradientOptions,
): Promise<ParallelGradientEngine> {
  const workerCount = options.workers ?? os.availableParallelism();
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(workerCount) || workerCount < 1) {
    throw new RangeError(`workers must be a positive integer, got ${workerCount}`);
  }
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  }
  if (!Number.isInteger(options.seed)) throw new RangeError(`seed must be an integer, got ${options.seed}`);
  const dropoutRng = new Rng(options.seed ^ DROPOUT_STREAM);
  const init: WorkerInit = { topology: model.toJSON(null, false) as tf.serialization.ConfigDict, chunkSize };
  const workers = Array.from({ length: workerCount }, (_, k) => new GradientWorker(k, init));
  const terminate = async () => void (await Promise.all(workers.map((w) => w.terminate())));
  let backends: BackendName[];
  try {
    backends = await Promise.all(workers.map((w) => w.ready));
  } catch (e) {
    await terminate();
    throw e;
  }
  const trainable = model.trainableWeights;
  // The last batch passed as tensors (its buffers are reused), and the split gradientsAt reads rows of.
  let batch: SharedSplit | undefined;
  let resident: { x: tf.Tensor; y: tf.Tensor; shared: SharedSplit } | undefined;
  let busy = false;

  async function exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (busy) throw new Error('the parallel gradient engine is already running a batch; await the previous call first');
    busy = true;
    try {
      return await work();
    } finally {
      busy = false;
    }
  }

  /** Runs `kind` on `rows` of `source`, chunk by chunk, with the model's current weights; results in chunk order. */
  async function dispatch(kind: StepRequest['kind'], source: SharedSplit, rows: Int32Array): Promise<ChunkResult[]> {
    const weights = await Promise.all(model.weights.map((w) => w.read().data() as Promise<Float32Array>));
    // Evaluation draws no seeds, so it leaves the training run's dropout masks as they were.
    const seed = kind === 'gradients' ? () => dropoutRng.seed() : () => 0;
    const chunks = cutIntoChunks(rows, chunkSize, seed);
    const request = (k: number): StepRequest => ({
      kind,
      batchSize: rows.length,
      weights,
      source,
      chunks: chunks.filter((chunk) => chunk.index % workerCount === k),
    });
    // allSettled: every worker is idle again before this call returns, even on an error.
    const settled = await Promise.allSettled(workers.map((worker) => worker.run(request(worker.index))));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.flatMap((s) => (s as PromiseFulfilledResult<ChunkResult[]>).value).sort((a, b) => a.index - b.index);
  }

  /** Runs `kind` on all of `data`, copied into the reused batch buffers. */
  async function dispatchAll(kind: StepRequest['kind'], data: TensorSplit): Promise<ChunkResult[]> {
    batch = await shareSplit(data, batch);
    return dispatch(kind, batch, Int32Array.from({ length: batch.labels.length }, (_, i) => i));
  }

  return {
    description: `${workerCount} worker thread${workerCount > 1 ? 's' : ''} (${backends[0]}), chunks of ${chunkSize}`,
    workers: workerCount,
    gradients: (x, y) => exclusive(async () => sumChunks(await dispatchAll('gradients', { x, y }), trainable)),
    gradientsAt: (data, indices) =>
      exclusive(async () => {
        if (resident?.x !== data.x || resident.y !== data.y) {
          resident = undefined; // frees the previous split before copying the next
          resident = { x: data.x, y: data.y, shared: await shareSplit(data) };
        }
        const n = resident.shared.labels.length;
        const bad = indices.findIndex((i) => !(i >= 0 && i < n));
        if (bad >= 0) throw new RangeError(`indices[${bad}] is ${indices[bad]}; expected a row of data, 0 to ${n - 1}`);
        return sumChunks(await dispatch('gradients', resident.shared, indices), trainable);
      }),
    evaluate: (data) =>
      exclusive(async () => {
        const results = await dispatchAll('evaluate', data);
        const n = data.x.shape[0];
        return {
          loss: results.reduce((sum, r) => sum + r.lossSum, 0) / n,
          accuracy: results.reduce((sum, r) => sum + r.correct, 0) / n,
        };
      }),
    dispose: terminate,
  };
}

/** `data` on SharedArrayBuffers, reusing `previous`'s when they are big enough. */
async function shareSplit(data: TensorSplit, previous?: SharedSplit): Promise<SharedSplit> {
  const n = data.x.shape[0];
  if (data.y.shape[0] !== n) {
    throw new RangeError(`labels must have one entry per image: x has ${n} images, labels has ${data.y.shape[0]}`);
  }
  if (data.x.dtype !== 'float32') throw new TypeError(`x must be float32, got ${data.x.dtype}`);
  const [pixels, labels] = await Promise.all([data.x.data(), data.y.data()]);
  const buffer = (old: ArrayBufferLike | undefined, bytes: number) =>
    old instanceof SharedArrayBuffer && old.byteLength >= bytes ? old : new SharedArrayBuffer(bytes);
  const [, h, w, c] = data.x.shape;
  const shared: SharedSplit = {
    pixels: new Float32Array(buffer(previous?.pixels.buffer, pixels.length * 4), 0, pixels.length),
    labels: new Int32Array(buffer(previous?.labels.buffer, n * 4), 0, n),
    imageShape: [h, w, c],
  };
  shared.pixels.set(pixels);
  shared.labels.set(labels);
  return shared;
}

function cutIntoChunks(rows: Int32Array, chunkSize: number, seed: () => number): Chunk[] {
  const chunks: Chunk[] = [];
  for (let start = 0; start < rows.length; start += chunkSize) {
    chunks.push({ index: chunks.length, rows: rows.slice(start, start + chunkSize), seed: seed() });
  }
  return chunks;
}

/** Sums the chunks' shares in chunk order, so the result does not depend on which worker ran which chunk. */
function sumChunks(results: ChunkResult[], trainable: tf.LayerVariable[]): BatchGradients {
  const grads: tf.NamedTensorMap = {};
  trainable.forEach((w, i) => {
    const shape = w.read().shape;
    grads[w.name] = tf.tidy(() => tf.addN(results.map((r) => tf.tensor(r.grads[i], shape))));
  });
  return {
    lossSum: results.reduce((sum, r) => sum + r.lossSum, 0),
    correct: results.reduce((sum, r) => sum + r.correct, 0),
    grads,
  };
}

/**
 * The fastest engine for the backend that runs: worker threads for wasm and
 * cpu (single-threaded in Node) when there are cores to spare; tfjs-node
 * already spreads its kernels over the cores.
 */
export async function defaultGradientEngine(model: tf.LayersModel, seed: number): Promise<GradientEngine> {
  if (tf.getBackend() === 'tensorflow' || os.availableParallelism() < 2) return localGradientEngine(model);
  return parallelGradientEngine(model, { seed });
}
