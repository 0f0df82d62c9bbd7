import { escapeHtml, tableHtml } from './display';
import type { BatchProgress, EpochLog, TrainOptions } from './training';

/** Where live output goes: tslab's overwritable display, or any stand-in with `html`. */
export interface LiveDisplay {
  html(s: string): void;
}

const HEADER = ['epoch', 'seconds', 'loss', 'accuracy', 'val_loss', 'val_accuracy'];

function epochRow(log: EpochLog): (string | number)[] {
  return [log.epoch, log.seconds.toFixed(1), log.loss.toFixed(4), log.accuracy.toFixed(4), log.val_loss.toFixed(4), log.val_accuracy.toFixed(4)];
}

function bar(fraction: number, width = 30): string {
  const filled = Math.round(fraction * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/**
 * Training callbacks that redraw one output in place: the finished epochs as
 * a table and a bar for the epoch under way, so a long run shows its state at
 * a glance instead of a scroll of lines.
 */
export function notebookProgress(
  epochs: number,
  display: LiveDisplay = newNotebookDisplay(),
): Required<Pick<TrainOptions, 'onTrainBegin' | 'onEpochEnd' | 'onBatchEnd'>> {
  const done: EpochLog[] = [];
  let engine = '';
  let current = '';
  const render = () => display.html(`<p>Training with ${escapeHtml(engine)}</p>` + tableHtml(HEADER, done.map(epochRow)) + `<pre>${current}</pre>`);
  return {
    onTrainBegin(description: string) {
      engine = description;
      render();
    },
    onBatchEnd(p: BatchProgress) {
      current =
        `Epoch ${p.epoch}/${epochs} ${bar(p.batch / p.batches)} batch ${p.batch}/${p.batches}` +
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

function newNotebookDisplay(): LiveDisplay {
  return (require('tslab') as typeof import('tslab')).newDisplay();
}
