import * as tf from '@tensorflow/tfjs';
import { formatEpochLog, kerasEpochLog, type EpochLog, type KerasLogs } from './epoch-log';

/**
 * A callback that shows training's progress, as Keras's ProgbarLogger does:
 * train() adds its printed lines (ConsoleProgress) only when the callbacks
 * hold none, so the notebook's live table replaces them.
 */
export class ProgressDisplay extends tf.Callback {
  private epochStarted = 0;

  async onEpochBegin(): Promise<void> {
    this.epochStarted = performance.now();
  }

  /** The history row of epoch `epoch` (Keras's, from 0) from its logs, timed from onEpochBegin. */
  protected epochLog(epoch: number, logs: KerasLogs): Promise<EpochLog> {
    return kerasEpochLog(epoch, logs, (performance.now() - this.epochStarted) / 1000);
  }
}

/**
 * Keras-style progress lines, as train() prints them unless `verbose: 0`: the
 * engine once, then a line per epoch (`Epoch 3/25 - 5.2s - loss: ...`).
 * `write` takes each line (console.log by default; the CLI's --json sends
 * them to stderr). Works with tfjs's model.fit too.
 */
export class ConsoleProgress extends ProgressDisplay {
  constructor(private readonly write: (line: string) => void = (line) => console.log(line)) {
    super();
  }

  async onTrainBegin(): Promise<void> {
    if (typeof this.params?.engine === 'string') this.write(`training with ${this.params.engine}`);
  }

  async onEpochEnd(epoch: number, logs?: KerasLogs): Promise<void> {
    const log = await this.epochLog(epoch, logs);
    this.write(formatEpochLog(log, typeof this.params?.epochs === 'number' ? this.params.epochs : NaN));
  }
}

/** Progress lines for train() or model.fit, each given to `write`; e.g. `callbacks: consoleProgress((l) => console.error(l))`. */
export function consoleProgress(write?: (line: string) => void): ConsoleProgress {
  return new ConsoleProgress(write);
}
