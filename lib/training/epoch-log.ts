import * as tf from '@tensorflow/tfjs';
import type { EpochLog } from '../model/metadata';

// A saved model's metadata holds the history, so the row's type lives with it (lib/model/metadata.ts).
export type { EpochLog };

/** The columns of an epoch's row, as formatted in the Keras-style line and the notebook's table. */
export const EPOCH_COLUMNS = ['epoch', 'seconds', 'loss', 'accuracy', 'val_loss', 'val_accuracy'] as const;

/** An epoch's values formatted as Keras prints them, in EPOCH_COLUMNS order. */
export function epochFields(log: EpochLog): string[] {
  const f = (v: number) => v.toFixed(4);
  return [String(log.epoch), log.seconds.toFixed(1), f(log.loss), f(log.accuracy), f(log.val_loss), f(log.val_accuracy)];
}

/** `Epoch 3/25 - 5.2s - loss: … - accuracy: … - val_loss: … - val_accuracy: …`, as Keras prints an epoch. */
export function formatEpochLog(log: EpochLog, epochs: number): string {
  const [, seconds, ...metrics] = epochFields(log);
  const named = EPOCH_COLUMNS.slice(2).map((name, i) => `${name}: ${metrics[i]}`);
  return [`Epoch ${log.epoch}/${epochs}`, `${seconds}s`, ...named].join(' - ');
}

/** A training history under a name, e.g. one setting of a comparison. */
export interface NamedHistory {
  name: string;
  history: readonly EpochLog[];
}

/** What Keras callbacks get: tfjs's fit() passes scalars (it reads them only when a CustomCallback asks), train() numbers. */
export type KerasLogs = Record<string, number | tf.Scalar> | undefined;

/** A metric under the first of its Keras names that is there (tfjs's fit logs `acc`, Keras and train() also `accuracy`); NaN if none. */
export async function kerasMetric(logs: KerasLogs, ...names: string[]): Promise<number> {
  for (const name of names) {
    const v = logs?.[name];
    if (typeof v === 'number') return v;
    if (v instanceof tf.Tensor) return (await v.data())[0];
  }
  return NaN;
}

/**
 * A history row from Keras's epoch numbering (from 0; rows count from 1) and
 * its logs' numbers, each metric under the first of its Keras names that is
 * there (tfjs's fit logs `acc`, Keras and train() also `accuracy`).
 */
function kerasRow(epoch: number, seconds: number, logged: (name: string) => unknown): EpochLog {
  const metric = (...names: string[]) => {
    for (const name of names) {
      const v = logged(name);
      if (typeof v === 'number') return v;
    }
    return NaN;
  };
  return {
    epoch: epoch + 1,
    loss: metric('loss'),
    accuracy: metric('acc', 'accuracy'),
    val_loss: metric('val_loss'),
    val_accuracy: metric('val_acc', 'val_accuracy'),
    seconds,
  };
}

/** The history row of a Keras callback's onEpochEnd(epoch, logs). */
export async function kerasEpochLog(epoch: number, logs: KerasLogs, seconds: number): Promise<EpochLog> {
  const values = new Map<string, unknown>();
  for (const [name, v] of Object.entries(logs ?? {})) values.set(name, v instanceof tf.Tensor ? (await v.data())[0] : v);
  return kerasRow(epoch, seconds, (name) => values.get(name));
}

/** The history tfjs's model.fit returns, as rows (its values are numbers once fit has returned; seconds are not kept: NaN). */
export function historyRows(history: tf.History): EpochLog[] {
  return history.epoch.map((epoch, i) => kerasRow(epoch, NaN, (name) => history.history[name]?.[i]));
}
