import * as tf from '@tensorflow/tfjs';
import type { LabeledTensors } from '../data/tensors';
import { trainableVariables } from '../model/variables';
import { allRows, ChunkPlanner, finishBatch, meanEvaluation, parameterCount, runChunks, type ChunkSums } from './chunks';
import type { GradientEngine } from './gradient-engine';

export interface LocalGradientOptions {
  /** Seeds the dropout masks, one seed per chunk as the parallel engine draws them; defaults to 0. */
  seed?: number;
  /** Images per forward and backward pass; defaults to DEFAULT_CHUNK_SIZE, as the parallel engine. */
  chunkSize?: number;
}

/**
 * Main-thread engine: runs the batch chunk by chunk, exactly as the parallel
 * engine's workers do (lib/engine/chunks.ts), so for a seed and chunk size it
 * gives the same gradients, evaluations and history, bit for bit. Chunks also
 * bound the memory a 4096-image batch needs without changing the update.
 */
export function localGradientEngine(model: tf.LayersModel, options: LocalGradientOptions = {}): GradientEngine {
  const variables = trainableVariables(model);
  const planner = new ChunkPlanner(options.seed ?? 0, options.chunkSize);
  const parameters = parameterCount(variables);
  // Chunk k's gradient share at k * parameters; grown when a batch has more chunks.
  let shares = new Float32Array(0);

  async function run(data: LabeledTensors, rows: Int32Array, kind: 'gradients' | 'evaluate', signal?: AbortSignal): Promise<ChunkSums[]> {
    const chunks = planner.plan(rows, kind);
    if (kind === 'gradients' && shares.length < chunks.length * parameters) shares = new Float32Array(chunks.length * parameters);
    return runChunks(model, variables, chunks, kind, rows.length, shares, (chunkRows) =>
      tf.tidy(() => {
        const idx = tf.tensor1d(chunkRows, 'int32');
        return { x: tf.gather(data.x, idx) as tf.Tensor4D, y: tf.gather(data.y, idx) as tf.Tensor1D };
      }),
      signal,
    );
  }

  const engine: GradientEngine = {
    description: `main thread, chunks of ${planner.chunkSize}`,
    gradientsAt: async (data, indices, signal) => finishBatch(model, await run(data, indices, 'gradients', signal), shares, variables),
    gradients: (x, y, signal) => engine.gradientsAt({ x, y }, allRows(x.shape[0]), signal),
    evaluate: async (data, signal) => meanEvaluation(await run(data, allRows(data.x.shape[0]), 'evaluate', signal), data.x.shape[0]),
    dispose() {},
  };
  return engine;
}
