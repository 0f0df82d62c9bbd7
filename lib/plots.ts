import { CLASS_NAMES, IMAGE_SIZE, PIXELS } from './classes';
import type { Split } from './data-files';
import type { EpochLog } from './training';

/** A plotly figure as plain data: what `Plotly.newPlot(div, data, layout)` takes. */
export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

const GAP = 10; // blank pixels between tiles, room for each tile's title

/**
 * The first `rows * cols` images as one heat map of tiles, each titled with
 * its class. One trace instead of 64 subplots keeps the figure light.
 */
export function imageGridFigure(split: Split, rows = 8, cols = 8, classNames: readonly string[] = CLASS_NAMES): Figure {
  const count = Math.min(rows * cols, split.count);
  const cell = IMAGE_SIZE + GAP;
  const z: (number | null)[][] = Array.from({ length: rows * cell }, () => new Array(cols * cell).fill(null));
  const annotations: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const top = Math.floor(i / cols) * cell + GAP;
    const left = (i % cols) * cell;
    for (let r = 0; r < IMAGE_SIZE; r++) {
      for (let c = 0; c < IMAGE_SIZE; c++) z[top + r][left + c] = split.images[i * PIXELS + r * IMAGE_SIZE + c];
    }
    annotations.push({
      x: left + IMAGE_SIZE / 2 - 0.5,
      y: top - GAP / 2,
      text: classNames[split.labels[i]],
      showarrow: false,
      font: { size: 10 },
    });
  }
  return {
    data: [{ type: 'heatmap', z, colorscale: 'Greys', reversescale: true, showscale: false, hoverongaps: false, zmin: 0, zmax: 255 }],
    layout: {
      title: { text: `First ${count} training images` },
      width: 120 * cols,
      height: 120 * rows + 60,
      annotations,
      xaxis: { visible: false, constrain: 'domain' },
      yaxis: { visible: false, autorange: 'reversed', scaleanchor: 'x' },
      margin: { l: 10, r: 10, t: 50, b: 10 },
      plot_bgcolor: 'white',
    },
  };
}

/** Training vs validation curve of one metric per epoch. */
export function historyFigure(history: readonly EpochLog[], metric: 'loss' | 'accuracy'): Figure {
  const epochs = history.map((h) => h.epoch);
  const line = (name: string, y: number[]) => ({ type: 'scatter', mode: 'lines+markers', name, x: epochs, y });
  return {
    data: [line(`training ${metric}`, history.map((h) => h[metric])), line(`validation ${metric}`, history.map((h) => h[`val_${metric}`]))],
    layout: {
      title: { text: `Training and validation ${metric}` },
      xaxis: { title: { text: 'epoch' }, dtick: epochs.length > 30 ? undefined : 1 },
      yaxis: { title: { text: metric } },
      width: 700,
      height: 420,
    },
  };
}

/** Counts heat map, true classes down, predicted across, counts in the cells. */
export function confusionMatrixFigure(matrix: readonly (readonly number[])[], classNames: readonly string[] = CLASS_NAMES): Figure {
  return {
    data: [
      {
        type: 'heatmap',
        z: matrix,
        x: classNames,
        y: classNames,
        colorscale: 'Blues',
        texttemplate: '%{z}',
        hovertemplate: 'true %{y}<br>predicted %{x}<br>%{z} images<extra></extra>',
      },
    ],
    layout: {
      title: { text: 'Confusion matrix (test set)' },
      xaxis: { title: { text: 'Predicted' }, side: 'bottom' },
      yaxis: { title: { text: 'True' }, autorange: 'reversed' },
      width: 760,
      height: 680,
      margin: { l: 110, b: 110 },
    },
  };
}
