import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES } from '../data/classes';
import { Rng } from '../data/rng';
import type { LabeledTensors } from '../data/tensors';
import { defaultGradientEngine } from '../engine/default-engine';
import type { GradientEngine } from '../engine/gradient-engine';
import type { Hyperparameters } from '../model/hyperparams';
import { evaluate, type Evaluation } from '../model/predict';
import { trainableVariables } from '../model/variables';
import { formatEpochLog, type EpochLog } from './epoch-log';
import type { LearningRateSchedule } from './schedule';

// Keeps the shuffling stream apart from the other streams seeded with the same number.
const SHUFFLE_STREAM = 0x5eed5eed;

/** Cross-entropy of a uniform guess over the classes: where training starts. */
const CHANCE_LOSS = Math.log(NUM_CLASSES);
/**
 * The clipped loss cannot reach NaN through the softmax, so a run whose
 * weights blew up shows instead as a loss stuck far above chance (it tops
 * out at -ln(1e-7) = 16.1); four times chance is well clear of any loss a
 * working run passes through.
 */
export const DIVERGED_LOSS = 4 * CHANCE_LOSS;

export interface BatchProgress {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
}

export interface TrainOptions {
  /** Called after every epoch; defaults to printing a Keras-style line. */
  onEpochEnd?: (log: EpochLog, epochs: number) => void;
  /** Called after every optimiser step. */
  onBatchEnd?: (progress: BatchProgress) => void;
  /** How gradients are computed; defaults to the fastest for the backend (worker threads on wasm). */
  engine?: GradientEngine;
  /** Called once before the first step with the engine's description; defaults to printing it. */
  onTrainBegin?: (engineDescription: string) => void;
  /** The learning rate of each step (lib/training/schedule.ts); defaults to `hp.learningRate` throughout. */
  learningRateSchedule?: LearningRateSchedule;
}

/** Thrown when the loss is NaN or above DIVERGED_LOSS; the model keeps its last good weights. */
export class TrainingDivergedError extends Error {
  constructor(
    message: string,
    readonly history: EpochLog[],
  ) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

function printEpoch(log: EpochLog, epochs: number): void {
  console.log(formatEpochLog(log, epochs));
}

/**
 * Trains with Adam, one update per `batchSize` images, the training rows
 * reshuffled every epoch from `seed`, and a validation pass after each epoch.
 * Returns the per-epoch history.
 */
export async function train(
  model: tf.LayersModel,
  data: { train: LabeledTensors; validation: LabeledTensors },
  hp: Pick<Hyperparameters, 'epochs' | 'batchSize' | 'learningRate' | 'seed'>,
  options: TrainOptions = {},
): Promise<EpochLog[]> {
  const onEpochEnd = options.onEpochEnd ?? printEpoch;
  const engine = options.engine ?? (await defaultGradientEngine(model, hp.seed, hp.batchSize));
  const optimizer = tf.train.adam(hp.learningRate);
  const shuffleRng = new Rng(hp.seed ^ SHUFFLE_STREAM);
  const weights = trainableVariables(model);
  const n = data.train.x.shape[0];
  const batches = Math.ceil(n / hp.batchSize);
  const history: EpochLog[] = [];
  let lastGood: tf.Tensor[] = [];
  try {
    (options.onTrainBegin ?? ((d: string) => console.log(`training with ${d}`)))(engine.description);
    for (let epoch = 1; epoch <= hp.epochs; epoch++) {
      const started = performance.now();
      const order = shuffleRng.permutation(n);
      let lossSum = 0;
      let correct = 0;
      for (let b = 0; b < batches; b++) {
        const indices = order.subarray(b * hp.batchSize, Math.min(n, (b + 1) * hp.batchSize));
        const step = await engine.gradientsAt(data.train, indices);
        const batchLoss = step.lossSum / indices.length;
        if (!(batchLoss <= DIVERGED_LOSS)) {
          tf.dispose(Object.values(step.grads));
          restore(weights, lastGood);
          throw diverged(`at epoch ${epoch}, batch ${b + 1}/${batches}: the loss is ${batchLoss}`, hp.learningRate, history);
        }
        tf.dispose(lastGood);
        lastGood = weights.map((w) => tf.clone(w));
        if (options.learningRateSchedule) {
          setLearningRate(optimizer, options.learningRateSchedule((epoch - 1) * batches + b, hp.epochs * batches));
        }
        optimizer.applyGradients(Object.entries(step.grads).map(([name, tensor]) => ({ name, tensor })));
        tf.dispose(Object.values(step.grads));
        lossSum += step.lossSum;
        correct += step.correct;
        options.onBatchEnd?.({
          epoch,
          batch: b + 1,
          batches,
          loss: batchLoss,
          accuracy: step.correct / indices.length,
        });
      }
      const val: Evaluation = await (engine.evaluate?.(data.validation) ?? evaluate(model, data.validation));
      if (!(val.loss <= DIVERGED_LOSS)) {
        restore(weights, lastGood);
        throw diverged(`at epoch ${epoch}: the validation loss is ${val.loss}`, hp.learningRate, history);
      }
      const log: EpochLog = {
        epoch,
        loss: lossSum / n,
        accuracy: correct / n,
        val_loss: val.loss,
        val_accuracy: val.accuracy,
        seconds: (performance.now() - started) / 1000,
      };
      history.push(log);
      onEpochEnd(log, hp.epochs);
    }
    return history;
  } finally {
    tf.dispose(lastGood);
    optimizer.dispose();
    if (!options.engine) await engine.dispose();
  }
}

function diverged(where: string, learningRate: number, history: EpochLog[]): TrainingDivergedError {
  return new TrainingDivergedError(
    `training diverged ${where} ` +
      `(guessing gives ${CHANCE_LOSS.toFixed(2)}; training stops above ${DIVERGED_LOSS.toFixed(2)} or at NaN). ` +
      `The model keeps the weights of the last step with a finite loss. ` +
      `Lower the learning rate (it is ${learningRate}; the original uses 0.001) and train again.`,
    history,
  );
}

function restore(weights: tf.Variable[], values: tf.Tensor[]): void {
  values.forEach((v, i) => weights[i].assign(v));
}

/**
 * tfjs's Adam has no public setter, but reads its `learningRate` field at
 * every applyGradients (tfjs-core optimizers/adam_optimizer.js), so a schedule can set it.
 */
function setLearningRate(optimizer: tf.AdamOptimizer, rate: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = rate;
}
