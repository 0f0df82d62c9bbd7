// Entry file of the worker threads of lib/engine/parallel-engine.ts.
import { parentPort, workerData } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../data/rng';
import { gatherRows } from '../data/split';
import { evaluate } from '../model/predict';
// Importing it also registers SeededDropout, which the replica's topology names.
import { SeededDropout } from '../model/seeded-dropout';
import { selectBackend } from './backend';
import { localGradientEngine } from './local-engine';
import type { ChunkResult, SharedImages, StepRequest, WorkerInit, WorkerReply } from './worker-protocol';

if (parentPort === null) throw new Error('lib/engine/gradient-worker.ts is a worker thread entry; start it with parallelGradientEngine()');
const port = parentPort;

function reply(message: WorkerReply): void {
  port.postMessage(message);
}

/**
 * Gives each SeededDropout layer a generator seeded from the chunk's seed, so
 * the masks depend on the seed the main thread drew, not on what this
 * worker ran before.
 */
function reseedDropout(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    if (layer instanceof SeededDropout) layer.reseed(rng.seed());
  }
}

/** The rows of `source` as tensors, copied out of the shared buffers. */
function gather(source: SharedImages, rows: Int32Array): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const [h, w, c] = source.imageShape;
  return {
    x: tf.tensor4d(gatherRows(source.pixels, h * w * c, rows), [rows.length, h, w, c]),
    y: tf.tensor1d(gatherRows(source.labels, 1, rows), 'int32'),
  };
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const backend = await selectBackend();
  const model = await tf.models.modelFromJSON({ modelTopology: init.topology });
  // Chunks are at most chunkSize images, so each is one pass of the local engine.
  const engine = localGradientEngine(model, init.chunkSize);

  async function gradients(x: tf.Tensor4D, y: tf.Tensor1D, seed: number, share: number): Promise<Omit<ChunkResult, 'index' | 'count'>> {
    reseedDropout(model, seed);
    const { lossSum, correct, grads } = await engine.gradients(x, y);
    const shares = tf.tidy(() => model.trainableWeights.map((w) => tf.mul(grads[w.name], share)));
    const values = await Promise.all(shares.map((g) => g.data() as Promise<Float32Array>));
    tf.dispose([...Object.values(grads), ...shares]);
    // The training pass moved the batch-norm statistics by this chunk's; the main thread averages them.
    const state = await Promise.all(model.nonTrainableWeights.map((w) => w.read().data() as Promise<Float32Array>));
    return { lossSum, correct, grads: values, state };
  }

  async function evaluation(x: tf.Tensor4D, y: tf.Tensor1D): Promise<Omit<ChunkResult, 'index' | 'count'>> {
    const { loss, accuracy } = await evaluate(model, { x, y }, init.chunkSize);
    const count = x.shape[0];
    // evaluate() returns means; the main thread sums over chunks.
    return { lossSum: loss * count, correct: Math.round(accuracy * count), grads: [], state: [] };
  }

  /** Sets the non-trainable weights (they follow the trainable ones in `model.weights`) to the request's. */
  function resetState(request: StepRequest): void {
    const offset = model.trainableWeights.length;
    tf.tidy(() =>
      model.nonTrainableWeights.forEach((w, i) => w.write(tf.tensor(request.weights[offset + i], w.read().shape))),
    );
  }

  async function step(request: StepRequest): Promise<ChunkResult[]> {
    tf.tidy(() => model.setWeights(request.weights.map((w, i) => tf.tensor(w, model.weights[i].read().shape))));
    const results: ChunkResult[] = [];
    for (const [k, chunk] of request.chunks.entries()) {
      // Every chunk starts from the main thread's statistics, so the average does not depend on the worker count.
      if (k > 0 && request.kind === 'gradients' && model.nonTrainableWeights.length > 0) resetState(request);
      const count = chunk.rows.length;
      const { x, y } = gather(request.source, chunk.rows);
      try {
        const result =
          request.kind === 'gradients' ? await gradients(x, y, chunk.seed, count / request.batchSize) : await evaluation(x, y);
        results.push({ index: chunk.index, count, ...result });
      } finally {
        tf.dispose([x, y]);
      }
    }
    return results;
  }

  port.on('message', (request: StepRequest) => {
    step(request).then(
      (results) => reply({ type: 'results', results }),
      (e: Error) => reply({ type: 'error', message: e.message, stack: e.stack }),
    );
  });
  reply({ type: 'ready', backend: backend.name });
}

main().catch((e: Error) => reply({ type: 'error', message: `could not start: ${e.message}`, stack: e.stack }));
