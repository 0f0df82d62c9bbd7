/**
 * Kernel -> Interrupt for tfjs's own `model.fit`, as Keras's fit stops on
 * KeyboardInterrupt: between batches, with the weights of the last finished
 * batch. tfjs makes one instance of every registered callback constructor
 * for each fit() (tf.registerCallbackConstructor); this module registers
 * StopFitOnInterrupt when it is loaded (lib/index.ts loads it).
 */
import * as tf from '@tensorflow/tfjs';
import { checkpoint, stopSignal, type StopSignal } from '../util/interrupt';
import { kerasEpochLog, type EpochLog, type KerasLogs } from './epoch-log';
import { rememberHistory, stoppedTraining } from './train';

interface Begun {
  stop: StopSignal;
  running: () => boolean;
}

/**
 * The stop signals of fits under way. A fit() that fails for another reason
 * never reaches onTrainEnd: the next fit releases its signal (and an
 * interrupt finds it not running, so it does not hold the cell).
 */
const begun = new Set<Begun>();

class StopFitOnInterrupt extends tf.Callback {
  private fit: Begun | undefined;
  private readonly history: EpochLog[] = [];
  private epoch = 0;
  private epochStarted = 0;
  /** A stop asked for mid-epoch: fit() breaks its batch loop on stopTraining, and onEpochEnd throws. */
  private cutShort = false;

  async onTrainBegin(): Promise<void> {
    for (const fit of begun) {
      if (!fit.running()) {
        fit.stop.release();
        begun.delete(fit);
      }
    }
    // tfjs's fit() sets isTraining (protected) from its start to its end, failed or not.
    const model = this.model as unknown as { isTraining?: boolean } | undefined;
    const running = () => model?.isTraining === true;
    this.fit = { stop: stopSignal(undefined, running), running };
    begun.add(this.fit);
    if (this.model) rememberHistory(this.model, this.history);
  }

  /** Stops listening: the fit has ended, or is about to throw. */
  private end(): void {
    if (this.fit === undefined) return;
    this.fit.stop.release();
    begun.delete(this.fit);
  }

  async onEpochBegin(epoch: number): Promise<void> {
    this.epoch = epoch + 1;
    await this.throwIfStopped();
    this.epochStarted = performance.now();
  }

  async onBatchEnd(batch: number): Promise<void> {
    await checkpoint();
    // After the last batch the epoch's validation has run: it finishes, and the next epoch does not begin.
    if (this.fit?.stop.signal.aborted && batch + 1 < this.batches()) {
      this.cutShort = true;
      if (this.model) this.model.stopTraining = true;
    }
  }

  async onEpochEnd(epoch: number, logs?: KerasLogs): Promise<void> {
    if (this.cutShort) {
      // Thrown before History records an epoch without its validation, so the means of the batches
      // that BaseLogger made for it have no owner.
      tf.dispose(Object.values(logs ?? {}).filter((v): v is tf.Scalar => v instanceof tf.Tensor));
      await this.throwIfStopped();
    }
    this.history.push(await kerasEpochLog(epoch, logs, (performance.now() - this.epochStarted) / 1000));
  }

  // A stop after the last epoch's validation ends nothing: fit() returns, as train() does then.
  async onTrainEnd(): Promise<void> {
    this.end();
  }

  private batches(): number {
    const { samples, batchSize, steps } = this.params ?? {};
    if (typeof steps === 'number') return steps;
    return typeof samples === 'number' && typeof batchSize === 'number' ? Math.ceil(samples / batchSize) : Infinity;
  }

  private async throwIfStopped(): Promise<void> {
    const signal = this.fit?.stop.signal;
    if (!signal?.aborted) return;
    this.end();
    // fit() turns the history's tensors into numbers only when it ends well.
    await this.model?.history?.syncData();
    const epochs = typeof this.params?.epochs === 'number' ? this.params.epochs : NaN;
    throw stoppedTraining(signal, this.epoch, epochs, this.history);
  }
}

tf.registerCallbackConstructor(0, StopFitOnInterrupt);
