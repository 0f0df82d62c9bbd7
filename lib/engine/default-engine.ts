import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import type { GradientEngine } from './gradient-engine';
import { localGradientEngine } from './local-engine';
import { parallelGradientEngine } from './parallel-engine';

/**
 * The fastest engine for the backend that runs: worker threads for wasm and
 * cpu (single-threaded in Node) when there are cores to spare; tfjs-node
 * already spreads its kernels over the cores.
 */
export async function defaultGradientEngine(model: tf.LayersModel, seed: number): Promise<GradientEngine> {
  if (tf.getBackend() === 'tensorflow' || os.availableParallelism() < 2) return localGradientEngine(model);
  return parallelGradientEngine(model, { seed });
}
