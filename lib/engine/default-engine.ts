import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import type { GradientEngine } from './gradient-engine';
import { localGradientEngine } from './local-engine';
import { DEFAULT_CHUNK_SIZE, parallelGradientEngine } from './parallel-engine';

/**
 * The fastest engine for the backend that runs: worker threads for wasm and
 * cpu (single-threaded in Node) when there are cores to spare; tfjs-node
 * already spreads its kernels over the cores. Chunks are cut small enough
 * that a batch of `batchSize` images keeps every worker busy.
 */
export async function defaultGradientEngine(model: tf.LayersModel, seed: number, batchSize = Infinity): Promise<GradientEngine> {
  const workers = os.availableParallelism();
  if (tf.getBackend() === 'tensorflow' || workers < 2) return localGradientEngine(model);
  return parallelGradientEngine(model, { seed, workers, chunkSize: Math.min(DEFAULT_CHUNK_SIZE, Math.ceil(batchSize / workers)) });
}
