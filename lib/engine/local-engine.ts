import * as tf from '@tensorflow/tfjs';
import type { LabeledTensors } from '../data/tensors';
import { trainableVariables } from '../model/variables';
import { applyMeanState, ChunkPlanner, chunkEvaluation, chunkGradients, parameterCount, readState, sumChunks, writeState, type ChunkSums } from './chunks';
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

  async function run<T>(data: LabeledTensors, rows: Int32Array, kind: 'gradients' | 'evaluate', finish: (sums: ChunkSums[]) => T): Promise<T> {
    const chunks = planner.plan(rows, kind);
    if (kind === 'gradients' && shares.length < chunks.length * parameters) shares = new Float32Array(chunks.length * parameters);
    const sums: ChunkSums[] = [];
    // Every chunk trains from the batch's starting statistics, as on separate workers.
    const start = kind === 'gradients' ? readState(model) : [];
    for (const chunk of chunks) {
      if (chunk.index > 0 && start.length > 0) writeState(model, start);
      const { x, y } = tf.tidy(() => {
        const idx = tf.tensor1d(chunk.rows, 'int32');
        return { x: tf.gather(data.x, idx) as tf.Tensor4D, y: tf.gather(data.y, idx) as tf.Tensor1D };
      });
      try {
        sums.push(
          kind === 'gradients'
            ? await chunkGradients(model, variables, x, y, chunk.seed, rows.length, shares.subarray(chunk.index * parameters))
            : await chunkEvaluation(model, x, y),
        );
      } finally {
        tf.dispose([x, y]);
      }
    }
    return finish(sums);
  }

  const allRows = (data: LabeledTensors) => Int32Array.from({ length: data.x.shape[0] }, (_, i) => i);
  const engine: GradientEngine = {
    description: `main thread, chunks of ${planner.chunkSize}`,
    gradientsAt: (data, indices) =>
      run(data, indices, 'gradients', (sums) => {
        applyMeanState(model, sums);
        return sumChunks(sums, shares, variables);
      }),
    gradients: (x, y) => engine.gradientsAt({ x, y }, allRows({ x, y })),
    evaluate: (data) =>
      run(data, allRows(data), 'evaluate', (sums) => {
        const n = data.x.shape[0];
        return { loss: sums.reduce((s, r) => s + r.lossSum, 0) / n, accuracy: sums.reduce((s, r) => s + r.correct, 0) / n };
      }),
    dispose() {},
  };
  return engine;
}
