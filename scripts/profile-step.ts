/**
 * Where one training step's time goes, kernel by kernel, and the epoch time it implies.
 * tsx scripts/profile-step.ts --model keras-convnet|bn-cnn [--batch-size 256] [--steps 0] [--workers 2]
 *
 * Prints per-kernel milliseconds (tf.profile) of one tf.variableGrads step on the main
 * thread after a warm-up step. With --steps N > 0, also times N steps of the default
 * parallel engine (in train()'s chunks, plus the project's Adam) and one evaluation of 12,000 images, on random pixels, and
 * prints the epoch estimate (48,000 training + 12,000 validation images) as in bench.ts.
 */
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../lib/engine/backend';
import { crossEntropyPerImage } from '../lib/model/loss';
import { trainableVariables } from '../lib/model/variables';
import { parallelGradientEngine } from '../lib/engine/parallel-engine';
import { Rng } from '../lib/util/rng';
import { kernelsDescription } from '../lib/engine/wasm-kernels/x86-64';
import { DEFAULT_HYPERPARAMETERS } from '../lib/model/hyperparams';
import { chunkSizeFor } from '../lib/engine/chunk-size';
import { Adam } from '../lib/training/adam';
import { trainStep } from '../lib/training/train';
import { buildZooModel, zooModelName } from '../lib/model/zoo';

const TRAIN_IMAGES = 48_000;
const VALIDATION_IMAGES = 12_000;

function randomSplit(n: number, rng: Rng): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return {
    x: tf.tensor4d(Float32Array.from({ length: n * 784 }, () => rng.next()), [n, 28, 28, 1]),
    y: tf.tensor1d(Int32Array.from({ length: n }, () => rng.int(10)), 'int32'),
  };
}

async function profileStep(model: tf.LayersModel, batchSize: number): Promise<void> {
  const variables = trainableVariables(model);
  const batch = randomSplit(batchSize, new Rng(2));
  const step = () => {
    const { value, grads } = tf.variableGrads(
      () => tf.mean(crossEntropyPerImage(model.apply(batch.x, { training: true }) as tf.Tensor2D, batch.y)) as tf.Scalar, variables);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const started = performance.now();
  const info = await tf.profile(step);
  const wall = performance.now() - started;
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    entry.calls++;
    byKernel.set(k.name, entry);
  }
  const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, e]) => s + e.ms, 0);
  console.log(`one step of ${batchSize} images: ${wall.toFixed(0)} ms wall, ${total.toFixed(0)} ms in kernels`);
  for (const [name, e] of rows) console.log(`  ${name.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.calls).padStart(4)} calls`);
  tf.dispose([batch.x, batch.y]);
}

async function epochEstimate(model: tf.LayersModel, batchSize: number, steps: number, workers: number): Promise<number> {
  const rng = new Rng(3);
  const train = randomSplit(batchSize * (steps + 1), rng);
  const validation = randomSplit(VALIDATION_IMAGES, rng);
  // As train() runs it: the chunks chunkSizeFor cuts, and the project's Adam.
  const engine = await parallelGradientEngine(model, { seed: 1, workers, chunkSize: chunkSizeFor(batchSize) });
  const optimizer = new Adam(trainableVariables(model), 1e-3);
  const step = (s: number) => trainStep(engine, optimizer, train, Int32Array.from({ length: batchSize }, (_, i) => s * batchSize + i));
  await step(0);
  let started = performance.now();
  for (let s = 1; s <= steps; s++) await step(s);
  const trainSeconds = ((performance.now() - started) / 1000) * (TRAIN_IMAGES / (steps * batchSize));
  started = performance.now();
  await engine.evaluate(validation);
  const evalSeconds = (performance.now() - started) / 1000;
  await engine.dispose();
  tf.dispose([train.x, train.y, validation.x, validation.y]);
  console.log(`epoch estimate (${workers} workers, ${steps} steps): train ${trainSeconds.toFixed(1)} s + validation ${evalSeconds.toFixed(1)} s`);
  return trainSeconds + evalSeconds;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'keras-convnet' },
      'batch-size': { type: 'string', default: '256' },
      steps: { type: 'string', default: '0' },
      workers: { type: 'string', default: `${os.availableParallelism()}` },
    },
  });
  const name = zooModelName(values.model, '--model');
  const batchSize = Number(values['batch-size']);
  const steps = Number(values.steps);
  const backend = await selectBackend();
  console.log(`${name}, backend ${backend.name}${backend.name === 'wasm' ? `, kernels ${kernelsDescription()}` : ''}`);
  const model = buildZooModel(name, { ...DEFAULT_HYPERPARAMETERS, seed: 1 });
  await profileStep(model, batchSize);
  if (steps > 0) {
    const epochSeconds = await epochEstimate(model, batchSize, steps, Number(values.workers));
    console.log(JSON.stringify({ model: name, batchSize, epochSeconds: Math.round(epochSeconds * 10) / 10 }));
  }
  model.dispose();
}

main().catch((e: Error) => {
  console.error(`profile-step: ${e.message}`);
  process.exit(1);
});
