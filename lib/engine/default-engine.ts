import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { chunkSizeFor } from './chunk-size';
import type { TrainingLayout } from '../model/memory';
import type { GradientEngine } from './gradient-engine';
import { localGradientEngine } from './local-engine';
import { parallelGradientEngine } from './parallel-engine';

/**
 * The fastest engine for the backend and the batch size. Every engine cuts
 * batches into the same chunks with the same dropout seeds, so the choice
 * changes the speed, never the history.
 * - tfjs-node already spreads its kernels over the cores, and one core has
 *   nothing to spread over: the main thread.
 * - Otherwise one worker thread per core, except that a small batch is one
 *   chunk (chunkSizeFor) and a worker would only add a round trip: such
 *   steps run on the main thread, and the evaluations (many chunks) on the workers.
 * `signal` stops the workers' start-up.
 */
export async function defaultGradientEngine(model: tf.LayersModel, seed: number, batchSize = Infinity, signal?: AbortSignal): Promise<GradientEngine> {
  const chunkSize = chunkSizeFor(batchSize);
  if (!usesWorkers()) return localGradientEngine(model, { seed, chunkSize });
  const workers = await parallelGradientEngine(model, { seed, chunkSize, signal });
  if (batchSize > chunkSize) return workers;
  const local = localGradientEngine(model, { seed, chunkSize });
  return {
    description: `main thread for steps of ${batchSize} images (one chunk), ${workers.workers} worker thread${workers.workers > 1 ? 's' : ''} for evaluation`,
    gradients: (x, y, stop) => local.gradients(x, y, stop),
    gradientsAt: (data, indices, stop) => local.gradientsAt(data, indices, stop),
    evaluate: (data, stop) => workers.evaluate(data, stop),
    dispose: () => workers.dispose(),
  };
}

/** Whether defaultGradientEngine starts worker threads (one per core) on this backend and machine. */
function usesWorkers(): boolean {
  // backendName, not getBackend(), which would pick a backend when none is chosen yet (the CLI checks
  // a model's size before it selects one; tfjs-node, the one without workers, does not install here).
  return tf.engine().backendName !== 'tensorflow' && os.availableParallelism() >= 2;
}

/**
 * How defaultGradientEngine runs batches of `batchSize` here, as the memory
 * check (lib/model/memory.ts) sizes it, with `datasetImages` images resident.
 */
export function defaultTrainingLayout(batchSize: number, datasetImages: number): TrainingLayout {
  return { batchSize, microBatchSize: chunkSizeFor(batchSize), workers: usesWorkers() ? os.availableParallelism() : 0, datasetImages };
}
