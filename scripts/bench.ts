/**
 * Training and evaluation speed of a zoo model, against PyTorch on the same machine.
 * npm run bench -- [--model NAME] [--workers N] [--batch-size N] [--steps N] [--json]
 *
 * --model is one of the zoo's (lib/model/zoo.ts; default seed, the original CNN).
 * Without --workers, the engine train() picks for the batch size (defaultGradientEngine); --workers 0
 * is the main thread (localGradientEngine), --workers N that many worker threads (parallelGradientEngine).
 * Every engine gives the same results; only the time differs.
 * Times --steps optimiser steps after one warm-up step, then one evaluation of the 12,000
 * validation images; epochSeconds extrapolates the steps to 48,000 training images and adds it.
 * Ends with one JSON line: model, backend, kernels (which ran: "x86-64 avx512 + wasm simd128",
 * or the wasm build alone and why not the x86-64 ones; X86_KERNELS=off|avx2|avx512 chooses), engine, batchSize, steps, data, images/s, epochSeconds, peakRssMB; then
 * pytorchEpochSeconds and epochSecondsOverPytorch (> 1: slower than PyTorch) from
 * scripts/torch_reference.py when /usr/bin/python3 has torch.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../lib/engine/backend';
import { CLASS_NAMES, PIXELS } from '../lib/data/classes';
import { FASHION_MNIST_SHAPE } from '../lib/data/labeled-images';
import { loadFashionMnist, type FashionMnist, type LabeledImages } from '../lib/data/fashion-mnist';
import { evaluate } from '../lib/model/predict';
import { defaultGradientEngine, defaultTrainingLayout } from '../lib/engine/default-engine';
import { localGradientEngine } from '../lib/engine/local-engine';
import { type GradientEngine } from '../lib/engine/gradient-engine';
import { DEFAULT_HYPERPARAMETERS, resolveHyperparameters, type Hyperparameters } from '../lib/model/hyperparams';
import { DEFAULT_CHUNK_SIZE } from '../lib/engine/chunk-size';
import { checkModelFits } from '../lib/model/memory';
import { buildZooModel, zooModelName } from '../lib/model/zoo';
import { kernelsDescription } from '../lib/engine/wasm-kernels/x86-64';
import { parallelGradientEngine } from '../lib/engine/parallel-engine';
import { disposeData, prepareData } from '../lib/pipeline';
import { Rng } from '../lib/util/rng';
import { trainableVariables } from '../lib/model/variables';
import { Adam } from '../lib/training/adam';
import { trainStep } from '../lib/training/train';
import type { LabeledTensors } from '../lib/data/tensors';
import { StopRequest } from '../lib/util/interrupt';
import { ctrlC, STOPPED_EXIT } from './ctrl-c';

const TRAIN_IMAGES = 48_000;
const VALIDATION_IMAGES = 12_000;
const PYTHON = '/usr/bin/python3';

function count(flag: string, raw: string | undefined, fallback: number, min: number, max = Infinity): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`--${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Fashion-MNIST from data/fashion-mnist when it is there (never downloads), else random pixels of its shape. */
async function loadData(log: (s: string) => void): Promise<{ raw: FashionMnist; source: string }> {
  try {
    return { raw: await loadFashionMnist({ download: false }), source: 'fashion-mnist' };
  } catch (e) {
    log(`timing on random pixels: ${(e as Error).message.split('\n')[0]}`);
    const rng = new Rng(1);
    const random = (n: number): LabeledImages => ({
      images: Uint8Array.from({ length: n * PIXELS }, () => rng.int(256)),
      labels: Uint8Array.from({ length: n }, () => rng.int(10)),
      count: n,
      shape: FASHION_MNIST_SHAPE,
      classNames: CLASS_NAMES,
    });
    return { raw: { train: random(TRAIN_IMAGES + VALIDATION_IMAGES), test: random(1) }, source: 'random pixels' };
  }
}

/**
 * PyTorch's numbers for the same model and work, or null when torch is not installed. Refuses a
 * reference whose trainable parameter count differs from the tfjs model's: a ratio between two
 * different architectures means nothing.
 */
function pytorchReference(hp: Hyperparameters, parameters: number, steps: number): { epochSeconds: number } | null {
  if (spawnSync(PYTHON, ['-c', 'import torch']).status !== 0) return null;
  const script = path.join(__dirname, 'torch_reference.py');
  const model = hp.model;
  const args = [
    ...[script, '--model', model, '--batch-size', `${hp.batchSize}`, '--steps', `${steps}`, '--threads', `${os.availableParallelism()}`],
    ...['--filters', `${hp.filters}`, '--dense-units', `${hp.denseUnits}`, '--dropout', `${hp.dropout}`],
  ];
  const run = spawnSync(PYTHON, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${script} failed (exit ${run.status}): ${run.stderr.trim()}`);
  const result: { epochSeconds: number; parameters: number } = JSON.parse(run.stdout.trim().split('\n').pop()!);
  if (result.parameters !== parameters) {
    throw new Error(`${script} --model ${model} has ${result.parameters} trainable parameters; the tfjs model has ${parameters}`);
  }
  return result;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'seed' },
      workers: { type: 'string' },
      'batch-size': { type: 'string' },
      steps: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const workers = values.workers === undefined ? undefined : count('workers', values.workers, 0, 0);
  const batchSize = count('batch-size', values['batch-size'], DEFAULT_HYPERPARAMETERS.batchSize, 1, TRAIN_IMAGES);
  const hp = resolveHyperparameters({ model: zooModelName(values.model, '--model'), batchSize });
  const steps = count('steps', values.steps, 3, 1);
  // With --json, stdout carries only the result line.
  const log = values.json ? (s: string) => console.error(s) : (s: string) => console.log(s);

  const backend = await selectBackend();
  const { raw, source } = await loadData(log);
  const data = prepareData(raw, hp);
  const model = buildZooModel(hp.model, hp);
  const images = data.train.x.shape[0] + data.validation.x.shape[0] + data.test.x.shape[0];
  const layout = workers === undefined ? defaultTrainingLayout(batchSize, images) : { batchSize, workers, microBatchSize: DEFAULT_CHUNK_SIZE, datasetImages: images };
  const parameters = checkModelFits(model, layout).footprint.trainableWeights;
  // From the workers' start on, Ctrl-C ends them before the process exits; before, Node's default ends it at once.
  const stopped = ctrlC();
  const engine: GradientEngine =
    workers === undefined
      ? await defaultGradientEngine(model, hp.seed, hp.batchSize, stopped)
      : workers === 0
        ? localGradientEngine(model, { seed: hp.seed })
        : await parallelGradientEngine(model, { seed: hp.seed, workers, signal: stopped });
  const evaluateOn = (split: LabeledTensors) => engine.evaluate?.(split, stopped) ?? evaluate(model, split, undefined, stopped);
  log(`${hp.model} (${parameters} trainable parameters), backend ${backend.name}, kernels ${kernelsDescription()}, ${engine.description}, batch ${hp.batchSize}, data: ${source}`);

  const optimizer = new Adam(trainableVariables(model), hp.learningRate);
  const order = new Rng(hp.seed).permutation(data.train.x.shape[0]);
  const step = (s: number) => trainStep(engine, optimizer, data.train, order.subarray(s * hp.batchSize, (s + 1) * hp.batchSize), stopped);
  let trainImagesPerSec: number;
  let evalImagesPerSec: number;
  try {
    await step(0);
    let started = performance.now();
    for (let s = 1; s <= steps; s++) await step(s % Math.floor(order.length / hp.batchSize));
    trainImagesPerSec = (steps * hp.batchSize * 1000) / (performance.now() - started);

    // The training steps already ran every kernel of the forward pass, so no warm-up is needed.
    started = performance.now();
    await evaluateOn(data.validation);
    evalImagesPerSec = (data.validation.x.shape[0] * 1000) / (performance.now() - started);
  } finally {
    await engine.dispose();
  }
  const epochSeconds = TRAIN_IMAGES / trainImagesPerSec + VALIDATION_IMAGES / evalImagesPerSec;
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  log(`train ${trainImagesPerSec.toFixed(0)} images/s, eval ${evalImagesPerSec.toFixed(0)} images/s, epoch ~${epochSeconds.toFixed(1)} s`);

  stopped.throwIfAborted();
  const torch = pytorchReference(hp, parameters, steps);
  if (torch) log(`PyTorch epoch ~${torch.epochSeconds.toFixed(1)} s`);
  console.log(
    JSON.stringify({
      model: hp.model,
      backend: backend.name,
      kernels: kernelsDescription(),
      engine: engine.description,
      batchSize: hp.batchSize,
      steps,
      data: source,
      trainImagesPerSec: Math.round(trainImagesPerSec),
      evalImagesPerSec: Math.round(evalImagesPerSec),
      epochSeconds: round(epochSeconds),
      peakRssMB: Math.round(peakRssMB),
      ...(torch && {
        pytorchEpochSeconds: round(torch.epochSeconds),
        epochSecondsOverPytorch: round(epochSeconds / torch.epochSeconds),
      }),
    }),
  );
  model.dispose();
  disposeData(data);
}

const round = (v: number) => Math.round(v * 100) / 100;

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(e instanceof StopRequest ? STOPPED_EXIT : 1);
});
