// Entry file of the worker threads of lib/engine/parallel-engine.ts.
import { parentPort, workerData } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { gatherRows } from '../data/split';
// Importing it also registers SeededDropout, which the replica's topology names.
import '../model/seeded-dropout';
import { trainableVariables } from '../model/variables';
import { selectBackend } from './backend';
import { runChunks, type ChunkResult } from './chunks';
import type { SharedImages, StepRequest, WorkerInit, WorkerReply } from './worker-protocol';
import { setX86Threads } from './wasm-kernels/x86-64';

if (parentPort === null) throw new Error('lib/engine/gradient-worker.ts is a worker thread entry; start it with parallelGradientEngine()');
const port = parentPort;

function reply(message: WorkerReply): void {
  port.postMessage(message);
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
  // One worker per core already: a kernel that started threads of its own would only contend with the other workers.
  setX86Threads(1);
  const model = await tf.models.modelFromJSON({ modelTopology: init.topology });
  const variables = trainableVariables(model);

  /** The main thread's current weights, read from the shared buffer. */
  function loadWeights(): void {
    let offset = 0;
    tf.tidy(() =>
      model.setWeights(
        model.weights.map((w) => {
          const shape = w.read().shape;
          const size = shape.reduce((a, b) => a * b, 1);
          offset += size;
          return tf.tensor(init.weights.subarray(offset - size, offset), shape);
        }),
      ),
    );
  }

  function step(request: StepRequest): Promise<ChunkResult[]> {
    loadWeights();
    return runChunks(model, variables, request.chunks, request.kind, request.batchSize, request.shares, (rows) => gather(request.source, rows));
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
