import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import type { LabeledTensors } from '../data/tensors';
import type { Evaluation } from '../model/predict';
import { trainableVariables } from '../model/variables';
import { stoppedBy } from '../util/interrupt';
import type { BackendName } from './backend';
import { allRows, ChunkPlanner, finishBatch, meanEvaluation, parameterCount, type ChunkResult } from './chunks';
import type { BatchGradients, GradientEngine } from './gradient-engine';
import { GradientWorker, WorkerTimeoutError } from './worker-handle';
import type { SharedImages, StepRequest, WorkerInit } from './worker-protocol';

export interface ParallelGradientOptions {
  /**
   * Seeds the dropout masks. One seed per chunk is drawn on the main thread,
   * so a run depends on the seed and the chunk size, not on the worker count.
   */
  seed: number;
  /** Worker threads; defaults to the number of cores. */
  workers?: number;
  /** Images per chunk, the unit of work and of memory of a worker; defaults to DEFAULT_CHUNK_SIZE. */
  chunkSize?: number;
  /**
   * Longest wait, in ms, for the workers to start, and for the requests
   * before one has been timed (the first warms the kernels up); defaults to 120,000.
   */
  startupTimeoutMs?: number;
  /**
   * Shortest deadline, in ms, of a step once steps have been timed; defaults to
   * 10,000. The deadline is STEP_TIMEOUT_MULTIPLE times the step's images times
   * the slowest time per image seen so far, if that is longer.
   * A worker that misses a deadline is named in the error and all workers are stopped.
   */
  minStepTimeoutMs?: number;
  /** Test hook: the worker entry file, instead of lib/engine/gradient-worker.ts (see test/fixtures/). */
  workerFile?: string;
  /** Stops the start-up: the workers are ended and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface ParallelGradientEngine extends GradientEngine {
  readonly workers: number;
  /**
   * `gradients()` of the rows `indices` of `data`, without gathering them on
   * the calling thread: the first call with a split shares it with the
   * workers (a copy of it stays until another split or dispose()), later
   * calls send only the indices.
   */
  gradientsAt(data: LabeledTensors, indices: Int32Array, signal?: AbortSignal): Promise<BatchGradients>;
  /** `evaluate()` of lib/model/predict.ts (mean loss and accuracy, inference mode), split over the workers. */
  evaluate(data: LabeledTensors, signal?: AbortSignal): Promise<Evaluation>;
  /** Terminates the workers; resolves once they have exited. */
  dispose(): Promise<void>;
}

/** A step may take this many times the slowest time per image seen so far before its workers are stopped. */
const STEP_TIMEOUT_MULTIPLE = 20;
const STARTUP_TIMEOUT_MS = 120_000;
const MIN_STEP_TIMEOUT_MS = 10_000;

/**
 * Data-parallel gradients: the batch is cut into chunks of `chunkSize`
 * images, dealt round-robin to worker threads that each hold a replica of the
 * model, and the chunks' gradients are summed in chunk order
 * (lib/engine/chunks.ts). The result is bit-identical to
 * `localGradientEngine`'s with the same seed and chunk size, for any number
 * of workers. The weights reach the workers through one SharedArrayBuffer and
 * the gradients come back through another, so a step posts only row indices.
 *
 * Every wait on a worker has a deadline (see the options); a worker that
 * misses it is named in the error, and all workers are stopped. A call whose
 * stop signal aborts ends the workers at once, mid-chunk, rather than wait
 * out their chunks; the engine cannot be used after that.
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
  if (!Number.isInteger(workerCount) || workerCount < 1) {
    throw new RangeError(`workers must be a positive integer, got ${workerCount}`);
  }
  const planner = new ChunkPlanner(options.seed, options.chunkSize);
  const startupTimeoutMs = options.startupTimeoutMs ?? STARTUP_TIMEOUT_MS;
  const minStepTimeoutMs = options.minStepTimeoutMs ?? MIN_STEP_TIMEOUT_MS;
  const variables = trainableVariables(model);
  const parameters = parameterCount(variables);
  const sharedWeights = new Float32Array(new SharedArrayBuffer(model.weights.reduce((n, w) => n + w.read().size, 0) * 4));
  const init: WorkerInit = { topology: model.toJSON(null, false) as tf.serialization.ConfigDict, weights: sharedWeights };
  const workers = Array.from({ length: workerCount }, (_, k) => new GradientWorker(k, init, startupTimeoutMs, options.workerFile));
  const terminate = async (reason?: string) => void (await Promise.all(workers.map((w) => w.terminate(reason))));
  /**
   * `work`, with the workers ended as soon as `signal` aborts (their pending
   * requests reject), so that no thread works on after a stop; then rejects
   * with the signal's reason once they have exited.
   */
  async function stoppable<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    let ended: Promise<void> | undefined;
    const stop = () => (ended = terminate(`the parallel gradient engine was stopped (${stoppedBy(signal!)}); start a new one`));
    signal?.addEventListener('abort', stop, { once: true });
    try {
      return await work();
    } catch (e) {
      if (!signal?.aborted) throw e;
      await ended;
      throw signal.reason;
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  }
  let backends: BackendName[];
  try {
    backends = await stoppable(options.signal, () => Promise.all(workers.map((w) => w.ready)));
  } catch (e) {
    await terminate();
    throw e;
  }
  // Chunk k's gradient share at k * parameters; grown when a batch has more chunks.
  let shares = new Float32Array(new SharedArrayBuffer(0));
  // The last batch passed as tensors (its buffers are reused), and the images gradientsAt reads rows of.
  let batchBuffers: SharedImages | undefined;
  let resident: { x: tf.Tensor; y: tf.Tensor; shared: SharedImages } | undefined;
  let busy = false;
  let batchesRun = 0;
  let requests = 0;
  // Of the requests after the first, which also warms the kernels up.
  let slowestMsPerImage = 0;

  async function exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (busy) throw new Error('the parallel gradient engine is already running a batch; await the previous call first');
    busy = true;
    try {
      return await work();
    } finally {
      busy = false;
    }
  }

  async function shareWeights(): Promise<void> {
    const values = await Promise.all(model.weights.map((w) => w.read().data() as Promise<Float32Array>));
    let offset = 0;
    for (const v of values) {
      sharedWeights.set(v, offset);
      offset += v.length;
    }
  }

  /** Runs `kind` on `rows` of `source`, chunk by chunk, with the model's current weights; results in chunk order. */
  async function dispatch(kind: StepRequest['kind'], source: SharedImages, rows: Int32Array, signal?: AbortSignal): Promise<ChunkResult[]> {
    return stoppable(signal, () => dispatchChunks(kind, source, rows));
  }

  async function dispatchChunks(kind: StepRequest['kind'], source: SharedImages, rows: Int32Array): Promise<ChunkResult[]> {
    const started = performance.now();
    await shareWeights();
    const chunks = planner.plan(rows, kind);
    if (kind === 'gradients' && shares.length < chunks.length * parameters) {
      shares = new Float32Array(new SharedArrayBuffer(chunks.length * parameters * 4));
    }
    const what = kind === 'gradients' ? `computing the gradients of batch ${++batchesRun}` : `evaluating ${rows.length} images`;
    const timeoutMs = slowestMsPerImage > 0 ? Math.max(minStepTimeoutMs, STEP_TIMEOUT_MULTIPLE * slowestMsPerImage * rows.length) : startupTimeoutMs;
    // Only workers with chunks get a request: a batch of one chunk wakes one worker.
    const runs = workers.flatMap((worker) => {
      const mine = chunks.filter((chunk) => chunk.index % workerCount === worker.index);
      if (mine.length === 0) return [];
      const task = `${what} (chunk${mine.length > 1 ? 's' : ''} ${mine.map((c) => c.index + 1).join(', ')} of ${chunks.length})`;
      return [worker.run({ kind, batchSize: rows.length, source, chunks: mine, shares }, timeoutMs, task)];
    });
    // allSettled: every worker is idle again before this call returns, even on an error.
    const settled = await Promise.allSettled(runs);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      if (failed.reason instanceof WorkerTimeoutError) {
        const message = `${failed.reason.message}; the parallel gradient engine stopped its workers`;
        await terminate(message);
        throw new WorkerTimeoutError(message);
      }
      throw failed.reason;
    }
    if (requests++ > 0) slowestMsPerImage = Math.max(slowestMsPerImage, (performance.now() - started) / rows.length);
    return settled.flatMap((s) => (s as PromiseFulfilledResult<ChunkResult[]>).value).sort((a, b) => a.index - b.index);
  }

  /** Runs `kind` on all of `data`, copied into the reused batch buffers. */
  async function dispatchAll(kind: StepRequest['kind'], data: LabeledTensors, signal?: AbortSignal): Promise<ChunkResult[]> {
    batchBuffers = await shareImages(data, batchBuffers);
    return dispatch(kind, batchBuffers, allRows(batchBuffers.labels.length), signal);
  }

  return {
    description: `${workerCount} worker thread${workerCount > 1 ? 's' : ''} (${backends[0]}), chunks of ${planner.chunkSize}`,
    workers: workerCount,
    gradients: (x, y, signal) => exclusive(async () => finishBatch(model, await dispatchAll('gradients', { x, y }, signal), shares, variables)),
    gradientsAt: (data, indices, signal) =>
      exclusive(async () => {
        if (resident?.x !== data.x || resident.y !== data.y) {
          resident = undefined; // frees the previous split before copying the next
          resident = { x: data.x, y: data.y, shared: await shareImages(data) };
        }
        const n = resident.shared.labels.length;
        const bad = indices.findIndex((i) => !(i >= 0 && i < n));
        if (bad >= 0) throw new RangeError(`indices[${bad}] is ${indices[bad]}; expected a row of data, 0 to ${n - 1}`);
        return finishBatch(model, await dispatch('gradients', resident.shared, indices, signal), shares, variables);
      }),
    evaluate: (data, signal) =>
      exclusive(async () => {
        return meanEvaluation(await dispatchAll('evaluate', data, signal), data.x.shape[0]);
      }),
    dispose: () => terminate(),
  };
}

/** `data` on SharedArrayBuffers, reusing `previous`'s when they are big enough. */
async function shareImages(data: LabeledTensors, previous?: SharedImages): Promise<SharedImages> {
  const n = data.x.shape[0];
  if (data.y.shape[0] !== n) {
    throw new RangeError(`labels must have one entry per image: x has ${n} images, labels has ${data.y.shape[0]}`);
  }
  if (data.x.dtype !== 'float32') throw new TypeError(`x must be float32, got ${data.x.dtype}`);
  const [pixels, labels] = await Promise.all([data.x.data(), data.y.data()]);
  const buffer = (old: ArrayBufferLike | undefined, bytes: number) =>
    old instanceof SharedArrayBuffer && old.byteLength >= bytes ? old : new SharedArrayBuffer(bytes);
  const [, h, w, c] = data.x.shape;
  const shared: SharedImages = {
    pixels: new Float32Array(buffer(previous?.pixels.buffer, pixels.length * 4), 0, pixels.length),
    labels: new Int32Array(buffer(previous?.labels.buffer, n * 4), 0, n),
    imageShape: [h, w, c],
  };
  shared.pixels.set(pixels);
  shared.labels.set(labels);
  return shared;
}
