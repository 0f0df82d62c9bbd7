import { textBar } from '../data/download-progress';
import { EPOCH_COLUMNS, epochFields, type EpochLog } from '../training/epoch-log';
import type { BatchProgress, TrainOptions } from '../training/train';
import { escapeHtml, liveSink, tableHtml, type HtmlSink } from './display';

/**
 * Training callbacks that redraw one output in place: the finished epochs as
 * a table and a bar for the epoch under way, so a long run shows its state at
 * a glance instead of a scroll of lines.
 */
export function notebookProgress(
  epochs: number,
  display: HtmlSink = liveSink(),
): Required<Pick<TrainOptions, 'onTrainBegin' | 'onEpochEnd' | 'onBatchEnd'>> {
  const done: EpochLog[] = [];
  let engine = '';
  let current = '';
  const render = () => display.html(`<p>Training with ${escapeHtml(engine)}</p>` + tableHtml(EPOCH_COLUMNS, done.map(epochFields)) + `<pre>${current}</pre>`);
  return {
    onTrainBegin(description: string) {
      engine = description;
      render();
    },
    onBatchEnd(p: BatchProgress) {
      current =
        `Epoch ${p.epoch}/${epochs} ${textBar(p.batch / p.batches)} batch ${p.batch}/${p.batches}` +
        ` - loss: ${p.loss.toFixed(4)} - accuracy: ${p.accuracy.toFixed(4)}`;
      render();
    },
    onEpochEnd(log: EpochLog) {
      done.push(log);
      current = log.epoch === epochs ? `Done: ${epochs} epochs in ${done.reduce((s, l) => s + l.seconds, 0).toFixed(1)} s` : '';
      render();
    },
  };
}
