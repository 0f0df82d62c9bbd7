import * as tf from '@tensorflow/tfjs';
import { Rng } from '../data/rng';
import type { LabeledTensors } from '../data/tensors';
import { defaultGradientEngine } from '../engine/default-engine';
import type { GradientEngine } from '../engine/gradient-engine';
import type { Hyperparameters } from '../model/hyperparams';
import { evaluate, type Evaluation } from '../model/predict';
import { trainableVariables } from '../model/variables';
import { Adam } from './adam';
import type { LearningRateSchedule } from './schedule';
import { DIVERGENCE_RULE, DivergenceWatch } from './divergence';
import { formatEpochLog, type EpochLog } from './epoch-log';

// Keeps the shuffling stream apart from the other streams seeded with the same number.
const SHUFFLE_STREAM = 0x5eed5eed;

export interface BatchProgress {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
}

type TrainingData = { train: LabeledTensors; validation: LabeledTensors };
type TrainingHyperparameters = Pick<Hyperparameters, 'epochs' | 'batchSize' | 'learningRate' | 'seed'>;

/**
 * What `model.fit` takes as `callbacks`: tf.callbacks.earlyStopping(...),
 * tf.Callback instances (their type fits CustomCallbackArgs), or plain objects of hooks.
 */
export type KerasCallbacks = tf.CustomCallbackArgs | tf.CustomCallbackArgs[];

export interface TrainOptions {
  /** Called after every epoch; defaults to printing a Keras-style line. */
  onEpochEnd?: (log: EpochLog, epochs: number) => void;
  /** Called after every optimiser step. */
  onBatchEnd?: (progress: BatchProgress) => void;
  /** Called once before the first step with the engine's description; defaults to printing it. */
  onTrainBegin?: (engineDescription: string) => void;
  /**
   * Keras callbacks, called as `model.fit` calls them: epochs and batches
   * counted from 0, logs named `loss`, `acc`/`accuracy`, `val_loss`,
   * `val_acc`/`val_accuracy` (batch logs: `batch`, `size`, `loss`,
   * `acc`/`accuracy`). Setting `model.stopTraining` (as earlyStopping does)
   * ends training after the current batch; an epoch cut short still gets its
   * validation pass and its row in the history. `params` holds fit's keys plus
   * `engine`, the engine's description.
   */
  callbacks?: KerasCallbacks;
  /** 0: print nothing by default (no engine line, no epoch lines); defaults to 1. */
  verbose?: 0 | 1;
  /** How gradients are computed; defaults to the fastest for the backend and batch size (defaultGradientEngine). */
  engine?: GradientEngine;
  /** The learning rate of each step (lib/training/schedule.ts); defaults to `hp.learningRate` throughout. */
  learningRateSchedule?: LearningRateSchedule;
}

/** Thrown when training diverges (DIVERGENCE_RULE); the model keeps the weights from before the diverging steps. */
export class TrainingDivergedError extends Error {
  constructor(
    message: string,
    readonly history: EpochLog[],
  ) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

/**
 * One optimiser step: the gradients of the rows `indices` of `data`, applied
 * by `optimizer`. Returns the batch's loss sum and right answers (before the update).
 */
export async function trainStep(
  engine: GradientEngine,
  optimizer: Adam,
  data: LabeledTensors,
  indices: Int32Array,
): Promise<{ lossSum: number; correct: number }> {
  const batch = await engine.gradientsAt(data, indices);
  optimizer.applyGradients(batch);
  tf.dispose(Object.values(batch.grads));
  return { lossSum: batch.lossSum, correct: batch.correct };
}

const isCallbackObject = (c: unknown): c is tf.Callback =>
  typeof (c as { setModel?: unknown }).setModel === 'function' && typeof (c as { setParams?: unknown }).setParams === 'function';

/** `options` as TrainOptions: a tf.Callback alone (e.g. notebookProgress) replaces the default printing. */
export function asTrainOptions(options: TrainOptions | tf.Callback): TrainOptions {
  return isCallbackObject(options) ? { callbacks: options, verbose: 0 } : options;
}

/** Keras callbacks as tfjs's own fit() standardises them. */
function callbackList(callbacks: KerasCallbacks | undefined): tf.CallbackList {
  const list = callbacks === undefined ? [] : Array.isArray(callbacks) ? callbacks : [callbacks];
  return new tf.CallbackList(list.map((c) => (isCallbackObject(c) ? c : new tf.CustomCallback(c, 'auto'))));
}

/**
 * Trains with Adam, one update per `batchSize` images, the training rows
 * reshuffled every epoch from `seed`, and a validation pass after each epoch.
 * Returns the per-epoch history. `options` may be a tf.Callback (such as
 * notebookProgress(...)) instead: it then gets the Keras callbacks and
 * replaces the default printing.
 *
 *   await train(model, data, hp, { callbacks: [tf.callbacks.earlyStopping({ patience: 2 })] });
 */
export async function train(model: tf.LayersModel, data: TrainingData, hp: TrainingHyperparameters, options?: TrainOptions): Promise<EpochLog[]>;
export async function train(model: tf.LayersModel, data: TrainingData, hp: TrainingHyperparameters, callback: tf.Callback): Promise<EpochLog[]>;
export async function train(
  model: tf.LayersModel,
  data: TrainingData,
  hp: TrainingHyperparameters,
  options: TrainOptions | tf.Callback = {},
): Promise<EpochLog[]> {
  const opts = asTrainOptions(options);
  const quiet = opts.verbose === 0;
  const onEpochEnd = opts.onEpochEnd ?? (quiet ? undefined : (log: EpochLog, epochs: number) => console.log(formatEpochLog(log, epochs)));
  const onTrainBegin = opts.onTrainBegin ?? (quiet ? undefined : (d: string) => console.log(`training with ${d}`));
  const engine = opts.engine ?? (await defaultGradientEngine(model, hp.seed, hp.batchSize));
  const variables = trainableVariables(model);
  const optimizer = new Adam(variables, hp.learningRate);
  const n = data.train.x.shape[0];
  const watch = new DivergenceWatch(variables, n);
  try {
    const shuffleRng = new Rng(hp.seed ^ SHUFFLE_STREAM);
    const batches = Math.ceil(n / hp.batchSize);
    const history: EpochLog[] = [];
    // A Sequential keeps stopTraining on an inner model it makes on its first apply() or compile();
    // build() makes it now, so callbacks can set it before either (tfjs throws otherwise).
    if (model instanceof tf.Sequential && !model.built) model.build();
    const keras = callbackList(opts.callbacks);
    keras.setModel(model);
    keras.setParams({
      epochs: hp.epochs,
      initialEpoch: 0,
      samples: n,
      batchSize: hp.batchSize,
      verbose: quiet ? 0 : 1,
      doValidation: true,
      metrics: ['loss', 'acc', 'accuracy', 'val_loss', 'val_acc', 'val_accuracy'],
      engine: engine.description,
    });
    const diverged = (where: string) => {
      watch.restore();
      return new TrainingDivergedError(
        `training diverged ${where}. The rule: ${DIVERGENCE_RULE}. ` +
          `The model keeps the weights from before the diverging steps. ` +
          `Lower the learning rate (it is ${hp.learningRate}; the original uses 0.001) and train again.`,
        history,
      );
    };
    await keras.onTrainBegin();
    // After onTrainBegin, as fit() does: a callback may have left it set by an earlier run.
    model.stopTraining = false;
    onTrainBegin?.(engine.description);
    for (let epoch = 1; epoch <= hp.epochs; epoch++) {
      const started = performance.now();
      await keras.onEpochBegin(epoch - 1);
      const order = shuffleRng.permutation(n);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < batches && !model.stopTraining; b++) {
        const indices = order.subarray(b * hp.batchSize, Math.min(n, (b + 1) * hp.batchSize));
        await keras.onBatchBegin(b, { batch: b, size: indices.length });
        if (opts.learningRateSchedule) optimizer.learningRate = opts.learningRateSchedule((epoch - 1) * batches + b, hp.epochs * batches);
        const step = await trainStep(engine, optimizer, data.train, indices);
        const problem = watch.afterStep(step.lossSum, indices.length);
        if (problem !== null) throw diverged(`at epoch ${epoch}, batch ${b + 1}/${batches}: ${problem}`);
        lossSum += step.lossSum;
        correct += step.correct;
        seen += indices.length;
        const loss = step.lossSum / indices.length;
        const accuracy = step.correct / indices.length;
        opts.onBatchEnd?.({ epoch, batch: b + 1, batches, loss, accuracy });
        await keras.onBatchEnd(b, { batch: b, size: indices.length, loss, acc: accuracy, accuracy });
      }
      // Stopped by a callback before this epoch ran a batch: nothing to log.
      if (seen === 0) break;
      const val: Evaluation = await (engine.evaluate?.(data.validation) ?? evaluate(model, data.validation));
      if (!Number.isFinite(val.loss)) throw diverged(`at epoch ${epoch}: the validation loss is ${val.loss}`);
      const log: EpochLog = {
        epoch,
        loss: lossSum / seen,
        accuracy: correct / seen,
        val_loss: val.loss,
        val_accuracy: val.accuracy,
        seconds: (performance.now() - started) / 1000,
      };
      history.push(log);
      onEpochEnd?.(log, hp.epochs);
      await keras.onEpochEnd(epoch - 1, {
        loss: log.loss,
        acc: log.accuracy,
        accuracy: log.accuracy,
        val_loss: log.val_loss,
        val_acc: log.val_accuracy,
        val_accuracy: log.val_accuracy,
      });
      if (model.stopTraining) break;
    }
    await keras.onTrainEnd();
    return history;
  } finally {
    watch.dispose();
    if (!opts.engine) await engine.dispose();
  }
}
