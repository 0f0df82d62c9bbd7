import type { LabeledTensors } from '../data/tensors';
import { dataShapeOf } from '../model/data-match';
import { buildZooModel } from '../model/zoo';
import { resolveHyperparameters, type Hyperparameters } from '../model/hyperparams';
import { consoleProgress } from './console-progress';
import type { NamedHistory } from './epoch-log';
import { stopSignal } from '../util/interrupt';
import { train, TrainingDivergedError, TrainingStoppedError, type TrainOptions } from './train';

/** One setting of a comparison: its name, full hyperparameters and history. */
export interface SettingRun extends NamedHistory {
  hp: Hyperparameters;
  /** Training stopped early because the loss blew up; `history` holds the epochs before. */
  diverged: boolean;
}

function printWithName(name: string): TrainOptions {
  return { callbacks: consoleProgress((line) => console.log(`${name}: ${line}`)) };
}

/**
 * Trains a fresh model per setting (`base` with the setting's overrides) on
 * the same data and returns the histories, e.g. to plot validation curves of
 * two learning rates together. Models are disposed as soon as they are done:
 * a comparison is about curves, and keeping several models would hold their
 * memory. A setting that diverges is kept, flagged, with the epochs it
 * finished, since "this one blows up" is a result of the comparison.
 * Kernel -> Interrupt stops it with a TrainingStoppedError naming the setting.
 */
export async function compareSettings(
  base: Hyperparameters,
  settings: Readonly<Record<string, Partial<Hyperparameters>>>,
  data: { train: LabeledTensors; validation: LabeledTensors },
  trainOptions: (name: string, hp: Hyperparameters) => TrainOptions = printWithName,
): Promise<SettingRun[]> {
  const runs: SettingRun[] = [];
  const settingCount = Object.keys(settings).length;
  // One stop for the whole comparison: an interrupt between two settings stops it too.
  const stop = stopSignal();
  try {
    for (const [name, overrides] of Object.entries(settings)) {
      const hp = resolveHyperparameters({ ...base, ...overrides });
      const options = trainOptions(name, hp);
      const model = buildZooModel(hp.model, { ...hp, ...dataShapeOf(data.train) });
      try {
        const signal = options.signal ? AbortSignal.any([stop.signal, options.signal]) : stop.signal;
        runs.push({ name, hp, history: await train(model, data, hp, { ...options, signal }), diverged: false });
      } catch (e) {
        if (e instanceof TrainingStoppedError) {
          const where = `${e.stop} of setting "${name}" (${runs.length} of ${settingCount} settings finished)`;
          throw new TrainingStoppedError(where, e.history, 'its model is disposed');
        }
        if (!(e instanceof TrainingDivergedError)) throw e;
        runs.push({ name, hp, history: e.history, diverged: true });
      } finally {
        model.dispose();
      }
    }
  } finally {
    stop.release();
  }
  return runs;
}
