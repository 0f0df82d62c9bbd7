import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CHUNK_SIZE } from './chunks';
import type { GradientEngine } from './gradient-engine';
import { localGradientEngine } from './local-engine';
import { parallelGradientEngine } from './parallel-engine';

/**
 * The fastest engine for the backend and the batch size. Every engine cuts
 * batches into the same chunks with the same dropout seeds, so the choice
 * changes the speed, never the history.
 * - tfjs-node already spreads its kernels over the cores: the main thread.
 * - A batch of one chunk (at most DEFAULT_CHUNK_SIZE images) cannot be split,
 *   and a worker would only add a round trip: the main thread.
 * - Larger batches with cores to spare: one worker thread per core.
 */
export async function defaultGradientEngine(model: tf.LayersModel, seed: number, batchSize = Infinity): Promise<GradientEngine> {
  if (tf.getBackend() === 'tensorflow' || os.availableParallelism() < 2 || batchSize <= DEFAULT_CHUNK_SIZE) {
    return localGradientEngine(model, { seed });
  }
  return parallelGradientEngine(model, { seed });
}
