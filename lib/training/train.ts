import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import type { LabeledTensors } from '../data/tensors';
import { defaultGradientEngine, defaultTrainingLayout } from '../engine/default-engine';
import type { GradientEngine } from '../engine/gradient-engine';
import type { Hyperparameters } from '../model/hyperparams';
import { checkModelMatchesData, modelIo } from '../model/data-match';
import { checkModelFits } from '../model/memory';
import { evaluate, type Evaluation } from '../model/predict';
import { trainableVariables } from '../model/variables';
import { checkpoint, stopSignal, stoppedBy } from '../util/interrupt';
import { Adam } from './adam';
import { zooSchedule, type LearningRateSchedule } from './schedule';
import { divergenceRule, DivergenceWatch } from './divergence';
import { consoleProgress, ProgressDisplay } from './console-progress';
import type { EpochLog } from './epoch-log';

// Keeps the shuffling stream apart from the other streams seeded with the same number.
const SHUFFLE_STREAM = 0x5eed5eed;

type TrainingData = { train: LabeledTensors; validation: LabeledTensors };
/** What train() reads of the hyperparameters; `model`, when given, brings the zoo model's schedule. */
type TrainingHyperparameters = Pick<Hyperparameters, 'epochs' | 'batchSize' | 'learningRate' | 'seed'> & Partial<Pick<Hyperparameters, 'model'>>;

/**
 * What `model.fit` takes as `callbacks`: tf.callbacks.earlyStopping(...),
 * tf.Callback instances (their type fits CustomCallbackArgs), or plain objects of hooks.
 */
export type KerasCallbacks = tf.CustomCallbackArgs | tf.CustomCallbackArgs[];

/** train()'s options, as `model.fit` takes them where they are the same. */
export interface TrainOptions {
  /**
   * Keras callbacks, called as `model.fit` calls them: epochs and batches
   * counted from 0, logs named `loss`, `acc`/`accuracy`, `val_loss`,
   * `val_acc`/`val_accuracy` (batch logs: `batch`, `size`, `loss`,
   * `acc`/`accuracy`). Setting `model.stopTraining` (as earlyStopping does)
   * ends training after the current batch; an epoch cut short still gets its
   * validation pass and its row in the history. `params` holds fit's keys plus
   * `engine`, the engine's description. The notebook's live table
   * (notebookProgress) and the printed lines (consoleProgress) are callbacks too.
   */
  callbacks?: KerasCallbacks;
  /**
   * 1 (the default) prints the engine and a line per epoch (consoleProgress()),
   * unless `callbacks` hold a progress display of their own (notebookProgress); 0 prints nothing.
   */
  verbose?: 0 | 1;
  /** How gradients are computed; defaults to the fastest for the backend and batch size (defaultGradientEngine). */
  engine?: GradientEngine;
  /**
   * The learning rate of each step (lib/training/schedule.ts); defaults to the
   * schedule of the zoo model `hp.model` names (the better model's one cycle),
   * else `hp.learningRate` throughout.
   */
  learningRateSchedule?: LearningRateSchedule;
  /**
   * Stops training within a step when it aborts, as Kernel -> Interrupt does
   * without it: train() then rejects with a TrainingStoppedError.
   */
  signal?: AbortSignal;
}

/** Thrown when training diverges (divergenceRule); the model keeps the weights from before the diverging steps. */
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
 * Thrown when Kernel -> Interrupt or the `signal` option stops training.
 * `history` (and trainingHistory(model)) holds the epochs that finished.
 */
export class TrainingStoppedError extends Error {
  declare readonly history: EpochLog[];
  /** Who stopped it and where, without advice: "stopped by Ctrl-C during epoch 2 of 25 (1 finished)". */
  declare readonly stop: string;

  /** `stop` from describeStop(); `advice` says what the user still has. */
  constructor(stop: string, history: EpochLog[], advice: string) {
    const message = `${stop}; ${advice}`;
    super(message);
    this.name = 'TrainingStoppedError';
    // A stop is the user's request, not a fault: the cell shows this one line, not the library's stack,
    // and not the history (console.error prints an error's enumerable fields).
    this.stack = `${this.name}: ${message}`;
    Object.defineProperties(this, { history: { value: history }, stop: { value: stop } });
  }

  /** The same stop, with other advice (a caller that disposed the model says so). */
  withAdvice(advice: string): TrainingStoppedError {
    return new TrainingStoppedError(this.stop, this.history, advice);
  }
}

/** "stopped by Kernel -> Interrupt during epoch 4 of 25 (3 finished)": `epoch` counts from 1, 0 is before the first. */
function describeStop(signal: AbortSignal, epoch: number, epochs: number, finished: number): string {
  const where = epoch === 0 ? `before epoch 1 of ${epochs}` : `during epoch ${Math.min(epoch, epochs)} of ${epochs} (${finished} finished)`;
  return `stopped by ${stoppedBy(signal)} ${where}`;
}

/** The error of a train() or model.fit() that `signal` stopped in `epoch`, the model kept. */
export function stoppedTraining(signal: AbortSignal, epoch: number, epochs: number, history: EpochLog[]): TrainingStoppedError {
  const advice = epoch === 0 ? 'the model is unchanged' : 'the model keeps the weights of its last step, trainingHistory(model) the finished epochs';
  return new TrainingStoppedError(describeStop(signal, epoch, epochs, history.length), history, advice);
}

const histories = new WeakMap<tf.LayersModel, EpochLog[]>();

// tfjs's Sequential.fit() runs the fit() of a model it keeps inside (a private field), and callbacks see that one.
const fitted = (model: tf.LayersModel) => (model instanceof tf.Sequential ? ((model as unknown as { model?: tf.LayersModel }).model ?? model) : model);

/** Makes `history`, which fills in as epochs finish, the model's trainingHistory(). */
export function rememberHistory(model: tf.LayersModel, history: EpochLog[]): void {
  histories.set(fitted(model), history);
}

/** The epochs that the latest train() or model.fit() of `model` finished, also when it was stopped or diverged; [] before any. */
export function trainingHistory(model: tf.LayersModel): EpochLog[] {
  return histories.get(fitted(model)) ?? [];
}

/**
 * One optimiser step: the gradients of the rows `indices` of `data`, applied
 * by `optimizer`. Returns the batch's loss sum and right answers (before the
 * update). When `signal` aborts first, it rejects with the signal's reason
 * and applies no gradients (the project's engines leave the model's
 * batch-norm statistics as they were, too).
 */
export async function trainStep(
  engine: GradientEngine,
  optimizer: Adam,
  data: LabeledTensors,
  indices: Int32Array,
  signal?: AbortSignal,
): Promise<{ lossSum: number; correct: number }> {
  const batch = await engine.gradientsAt(data, indices, signal);
  // An engine of the user's may finish its step without reading the signal.
  signal?.throwIfAborted();
  optimizer.applyGradients(batch);
  return { lossSum: batch.lossSum, correct: batch.correct };
}

const isCallbackObject = (c: unknown): c is tf.Callback =>
  typeof (c as { setModel?: unknown }).setModel === 'function' && typeof (c as { setParams?: unknown }).setParams === 'function';

/**
 * Keras callbacks as tfjs's own fit() standardises them, then the printed
 * progress unless `verbose` is 0 or a progress display is among them (as
 * Keras adds its ProgbarLogger only when there is none).
 */
function callbackList(callbacks: KerasCallbacks | undefined, verbose: 0 | 1): tf.CallbackList {
  const list = (callbacks === undefined ? [] : Array.isArray(callbacks) ? callbacks : [callbacks]).map((c) =>
    isCallbackObject(c) ? c : new tf.CustomCallback(c, 'auto'),
  );
  const shown = verbose === 0 || list.some((c) => c instanceof ProgressDisplay);
  return new tf.CallbackList(shown ? list : [...list, consoleProgress()]);
}

/**
 * Trains with Adam, one update per `batchSize` images, the training rows
 * reshuffled every epoch from `seed`, and a validation pass after each epoch.
 * Returns the per-epoch history.
 *
 * Kernel -> Interrupt (or `options.signal`) stops it within a step: the
 * workers end, the model keeps the weights of its last finished step, and it
 * rejects with a TrainingStoppedError that says where it stopped.
 *
 *   await train(model, data, hp, { callbacks: [tf.callbacks.earlyStopping({ patience: 2 })] });
 */
export async function train(model: tf.LayersModel, data: TrainingData, hp: TrainingHyperparameters, opts: TrainOptions = {}): Promise<EpochLog[]> {
  const verbose = opts.verbose ?? 1;
  const { classes } = modelIo(model);
  checkModelMatchesData(model, data.train, 'training data');
  checkModelMatchesData(model, data.validation, 'validation data');
  // Before any of training's allocations, sized by this data and the engine that will run. A user's
  // engine is sized as the default one would be (it does not say how it holds a batch).
  checkModelFits(model, defaultTrainingLayout(hp.batchSize, data.train.x.shape[0] + data.validation.x.shape[0]));
  const schedule = opts.learningRateSchedule ?? zooSchedule(hp);
  const stop = stopSignal(opts.signal);
  const history: EpochLog[] = [];
  let epoch = 0;
  let engine: GradientEngine | undefined;
  let watch: DivergenceWatch | undefined;
  try {
    stop.signal.throwIfAborted();
    engine = opts.engine ?? (await defaultGradientEngine(model, hp.seed, hp.batchSize, stop.signal));
    const variables = trainableVariables(model);
    const optimizer = new Adam(variables, hp.learningRate);
    const n = data.train.x.shape[0];
    watch = new DivergenceWatch(variables, n, classes);
    const shuffleRng = new Rng(hp.seed ^ SHUFFLE_STREAM);
    const batches = Math.ceil(n / hp.batchSize);
    // A Sequential keeps stopTraining on an inner model it makes on its first apply() or compile();
    // build() makes it now, so callbacks can set it before either (tfjs throws otherwise).
    if (model instanceof tf.Sequential && !model.built) model.build();
    rememberHistory(model, history);
    const keras = callbackList(opts.callbacks, verbose);
    keras.setModel(model);
    keras.setParams({
      epochs: hp.epochs,
      initialEpoch: 0,
      samples: n,
      batchSize: hp.batchSize,
      verbose,
      doValidation: true,
      metrics: ['loss', 'acc', 'accuracy', 'val_loss', 'val_acc', 'val_accuracy'],
      engine: engine.description,
    });
    const diverged = (where: string) => {
      watch!.restore();
      return new TrainingDivergedError(
        `training diverged ${where}. The rule: ${divergenceRule(classes)}. ` +
          `The model keeps the weights from before the diverging steps. ` +
          `Lower the learning rate (it is ${hp.learningRate}; the original uses 0.001) and train again.`,
        history,
      );
    };
    await keras.onTrainBegin();
    // After onTrainBegin, as fit() does: a callback may have left it set by an earlier run.
    model.stopTraining = false;
    for (epoch = 1; epoch <= hp.epochs; epoch++) {
      const started = performance.now();
      await keras.onEpochBegin(epoch - 1);
      const order = shuffleRng.permutation(n);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < batches && !model.stopTraining; b++) {
        const indices = order.subarray(b * hp.batchSize, Math.min(n, (b + 1) * hp.batchSize));
        await keras.onBatchBegin(b, { batch: b, size: indices.length });
        if (schedule) optimizer.learningRate = schedule((epoch - 1) * batches + b, hp.epochs * batches);
        await checkpoint(stop.signal);
        const step = await trainStep(engine, optimizer, data.train, indices, stop.signal);
        const problem = watch.afterStep(step.lossSum, indices.length);
        if (problem !== null) throw diverged(`at epoch ${epoch}, batch ${b + 1}/${batches}: ${problem}`);
        lossSum += step.lossSum;
        correct += step.correct;
        seen += indices.length;
        const loss = step.lossSum / indices.length;
        const accuracy = step.correct / indices.length;
        await keras.onBatchEnd(b, { batch: b, size: indices.length, loss, acc: accuracy, accuracy });
      }
      // Stopped by a callback before this epoch ran a batch: nothing to log.
      if (seen === 0) break;
      const val: Evaluation = await (engine.evaluate?.(data.validation, stop.signal) ?? evaluate(model, data.validation, undefined, stop.signal));
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
  } catch (e) {
    if (!stop.signal.aborted) throw e;
    throw stoppedTraining(stop.signal, epoch, hp.epochs, history);
  } finally {
    watch?.dispose();
    if (!opts.engine) await engine?.dispose();
    // Last: until its workers are gone, an interrupt is this run's to handle.
    stop.release();
  }
}
