import * as tf from '@tensorflow/tfjs';
import { textBar } from '../util/progress-bar';
import { ProgressDisplay } from '../training/console-progress';
import { EPOCH_COLUMNS, epochFields, kerasMetric, type EpochLog, type KerasLogs } from '../training/epoch-log';
import { escapeHtml, liveSink, tableHtml, type HtmlSink } from './display';

/**
 * A Keras callback that redraws one output in place: the finished epochs as a
 * table and a bar for the epoch under way, so a long run shows its state at a
 * glance instead of a scroll of lines. Works with train() and with tfjs's
 * `model.fit(x, y, { callbacks: ... })`.
 */
export class NotebookProgress extends ProgressDisplay {
  private readonly done: EpochLog[] = [];
  private current = '';

  constructor(
    private readonly epochs: number | undefined,
    private readonly display: HtmlSink,
  ) {
    super();
  }

  private get totalEpochs(): number {
    return typeof this.params?.epochs === 'number' ? this.params.epochs : (this.epochs ?? NaN);
  }

  private get batches(): number {
    const { samples, batchSize, steps } = this.params ?? {};
    if (typeof steps === 'number') return steps;
    return typeof samples === 'number' && typeof batchSize === 'number' ? Math.ceil(samples / batchSize) : NaN;
  }

  private render(): void {
    const engine = typeof this.params?.engine === 'string' ? this.params.engine : `model.fit on ${tf.getBackend()}`;
    this.display.html(`<p>Training with ${escapeHtml(engine)}</p>` + tableHtml(EPOCH_COLUMNS, this.done.map(epochFields)) + `<pre>${this.current}</pre>`);
  }

  async onTrainBegin(): Promise<void> {
    this.done.length = 0;
    this.current = '';
    this.render();
  }

  async onBatchEnd(batch: number, logs?: KerasLogs): Promise<void> {
    const batches = this.batches;
    this.current =
      `Epoch ${this.done.length + 1}/${this.totalEpochs} ${textBar((batch + 1) / batches)} batch ${batch + 1}/${batches}` +
      ` - loss: ${(await kerasMetric(logs, 'loss')).toFixed(4)} - accuracy: ${(await kerasMetric(logs, 'acc', 'accuracy')).toFixed(4)}`;
    this.render();
  }

  async onEpochEnd(epoch: number, logs?: KerasLogs): Promise<void> {
    this.done.push(await this.epochLog(epoch, logs));
    this.current = '';
    this.render();
  }

  async onTrainEnd(): Promise<void> {
    const seconds = this.done.reduce((s, l) => s + l.seconds, 0).toFixed(1);
    const stopped = this.done.length < this.totalEpochs ? ` (stopped early, of ${this.totalEpochs})` : '';
    this.current = `Done: ${this.done.length} epochs${stopped} in ${seconds} s`;
    this.render();
  }
}

/**
 * Live training progress for a notebook cell, as a Keras callback: pass it in
 * train()'s callbacks (`train(model, data, hp, { callbacks: notebookProgress(hp.epochs) })`,
 * where it replaces the printed lines) or tfjs's `model.fit(x, y, { epochs, callbacks: notebookProgress() })`.
 * `epochs` is only a fallback: both tell the callback how many epochs there are.
 */
export function notebookProgress(epochs?: number, display: HtmlSink = liveSink()): NotebookProgress {
  return new NotebookProgress(epochs, display);
}
