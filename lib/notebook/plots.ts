import { defaultClassNames, FASHION_MNIST_SHAPE, pixelsPerImage, shapeText, type LabeledImages } from '../data/labeled-images';
import { classificationReport } from '../report/metrics';
import type { F1Change } from '../report/model-comparison';
import type * as tf from '@tensorflow/tfjs';
import type { ClassProbability, ImagesToClassify } from '../report/classify';
import { historyRows, type EpochLog, type NamedHistory } from '../training/epoch-log';

/** A plotly figure as plain data: what `Plotly.newPlot(div, data, layout)` takes. */
export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/** Images as stored: `count` images of 0-255 values, row-major, of `shape` (28x28x1 when it is not given). */
export type Images = Pick<LabeledImages, 'images' | 'count'> & Partial<Pick<LabeledImages, 'shape'>>;

/** Blank pixels left of each tile, and above it per line of its title. */
const GAP = 10;
/** Screen pixels per tile width: 28 image pixels and the gap at about 3x. */
const TILE_WIDTH = 120;
/** Room for the figure title. */
const TITLE_HEIGHT = 60;

/**
 * Any images as tiles, `cols` to a row, each with a title above it (`<br>`
 * starts a second line), e.g. the model's mistakes with their true and
 * predicted classes. One trace instead of a subplot per image keeps the
 * figure light: a heat map for grey images, an image trace for colour (RGB).
 */
export function imageGalleryFigure(tiles: Images, titles: readonly string[], cols = 8, title = `${tiles.count} images`): Figure {
  const [height, width, channels] = tiles.shape ?? FASHION_MNIST_SHAPE;
  const pixels = pixelsPerImage([height, width, channels]);
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`cols must be a positive integer, got ${cols}`);
  if (titles.length !== tiles.count) {
    throw new RangeError(`${tiles.count} images but ${titles.length} titles were given; expected one title per image`);
  }
  if (tiles.images.length !== tiles.count * pixels) {
    throw new RangeError(`images holds ${tiles.images.length} pixels; expected count * ${pixels} = ${tiles.count * pixels}`);
  }
  if (channels !== 1 && channels !== 3) {
    throw new RangeError(`images of ${shapeText([height, width, channels])} cannot be drawn: expected 1 channel (grey) or 3 (RGB)`);
  }
  const rows = Math.max(1, Math.ceil(tiles.count / cols));
  const titleLines = Math.max(1, ...titles.map((t) => t.split('<br>').length));
  const gapAbove = GAP * titleLines;
  const cellWidth = width + GAP;
  const cellHeight = height + gapAbove;
  // Gaps: null in a heat map (not drawn), white in an image.
  const gap = channels === 1 ? null : [255, 255, 255];
  const z: unknown[][] = Array.from({ length: rows * cellHeight }, () => new Array(cols * cellWidth).fill(gap));
  const annotations: Record<string, unknown>[] = [];
  for (let i = 0; i < tiles.count; i++) {
    const top = Math.floor(i / cols) * cellHeight + gapAbove;
    const left = (i % cols) * cellWidth;
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const at = i * pixels + (r * width + c) * channels;
        z[top + r][left + c] = channels === 1 ? tiles.images[at] : Array.from(tiles.images.subarray(at, at + 3));
      }
    }
    annotations.push({ x: left + width / 2 - 0.5, y: top - gapAbove / 2, text: titles[i], showarrow: false, font: { size: 10 } });
  }
  const trace =
    channels === 1
      ? { type: 'heatmap', z, colorscale: 'Greys', reversescale: true, showscale: false, hoverongaps: false, zmin: 0, zmax: 255 }
      : { type: 'image', z };
  return {
    data: [trace],
    layout: {
      // Left-aligned: a long gallery title, centred, ran under plotly's mode bar at the top right.
      title: { text: title, x: 0, xref: 'paper', xanchor: 'left' },
      width: TILE_WIDTH * cols,
      height: Math.round((TILE_WIDTH * rows * cellHeight) / cellWidth) + TITLE_HEIGHT,
      annotations,
      xaxis: { visible: false, constrain: 'domain' },
      yaxis: { visible: false, autorange: 'reversed', scaleanchor: 'x' },
      margin: { l: 10, r: 10, t: 50, b: 10 },
      plot_bgcolor: 'white',
    },
  };
}

/** The first `rows * cols` images, each titled with its class (the data's names unless `classNames` says otherwise). */
export function imageGridFigure(split: LabeledImages, rows = 8, cols = 8, classNames: readonly string[] = split.classNames): Figure {
  const count = Math.min(rows * cols, split.count);
  const first = { images: split.images.subarray(0, count * pixelsPerImage(split.shape)), count, shape: split.shape };
  const titles = Array.from(split.labels.subarray(0, count), (label) => classNames[label]);
  return imageGalleryFigure(first, titles, cols, `First ${count} training images`);
}

/**
 * One image beside a bar chart of its most likely classes (classifyImages),
 * as the TensorFlow clothing tutorial shows a prediction.
 */
export function predictionFigure(image: ImagesToClassify, top: readonly ClassProbability[], title = `Predicted: ${top[0]?.name ?? '?'}`): Figure {
  const shape = image.shape ?? FASHION_MNIST_SHAPE;
  const first = { images: image.images.subarray(0, pixelsPerImage(shape)), count: 1, shape };
  const picture = imageGalleryFigure(first, [''], 1).data[0];
  const bars = [...top].reverse();
  return {
    data: [
      picture,
      { type: 'bar', orientation: 'h', x: bars.map((c) => c.probability), y: bars.map((c) => c.name), xaxis: 'x2', yaxis: 'y2', text: bars.map((c) => `${(100 * c.probability).toFixed(1)} %`), textposition: 'auto' },
    ],
    layout: {
      title: { text: title, x: 0, xref: 'paper', xanchor: 'left' },
      width: 640,
      height: 300,
      xaxis: { domain: [0, 0.35], visible: false, constrain: 'domain' },
      yaxis: { visible: false, autorange: 'reversed', scaleanchor: 'x' },
      xaxis2: { domain: [0.5, 1], range: [0, 1], title: { text: 'probability' } },
      yaxis2: { anchor: 'x2', automargin: true },
      margin: { l: 10, r: 20, t: 50, b: 50 },
      showlegend: false,
      plot_bgcolor: 'white',
    },
  };
}

/** A per-epoch number of the training history. */
export type EpochMetric = Exclude<keyof EpochLog, 'epoch' | 'seconds'>;

function epochCurve(name: string, history: readonly EpochLog[], metric: EpochMetric): Record<string, unknown> {
  return { type: 'scatter', mode: 'lines+markers', name, x: history.map((h) => h.epoch), y: history.map((h) => h[metric]) };
}

// One tick per epoch stays legible up to a dozen; beyond that the labels crowd and tilt (25 epochs did), so plotly picks round steps.
const MAX_EPOCH_TICKS = 12;

function epochCurvesFigure(curves: Record<string, unknown>[], title: string, yTitle: string, epochs: number): Figure {
  return {
    data: curves,
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'epoch' }, dtick: epochs > MAX_EPOCH_TICKS ? undefined : 1 },
      yaxis: { title: { text: yTitle } },
      width: 700,
      height: 420,
    },
  };
}

/** Training vs validation curve of one metric per epoch, from train()'s history or the tf.History of tfjs's model.fit. */
export function historyFigure(history: readonly EpochLog[] | tf.History, metric: 'loss' | 'accuracy'): Figure {
  // By its fields, not instanceof: a History of another copy of tfjs (a notebook's own node_modules) is one too.
  if ('epoch' in history && 'history' in history) history = historyRows(history);
  return epochCurvesFigure(
    [epochCurve(`training ${metric}`, history, metric), epochCurve(`validation ${metric}`, history, `val_${metric}`)],
    `Training and validation ${metric}`,
    metric,
    history.length,
  );
}

/** One metric of several runs, one curve per run, e.g. `val_accuracy` of two learning rates. */
export function curvesFigure(runs: readonly NamedHistory[], metric: EpochMetric): Figure {
  const label = metric.startsWith('val_') ? `validation ${metric.slice(4)}` : `training ${metric}`;
  return epochCurvesFigure(
    runs.map((run) => epochCurve(run.name, run.history, metric)),
    `${label[0].toUpperCase()}${label.slice(1)} per run`,
    label,
    Math.max(0, ...runs.map((run) => run.history.length)),
  );
}

/**
 * Share of each class's images classified correctly (its recall), with the
 * overall accuracy as a dashed line to see which classes pull it down.
 */
export function perClassAccuracyFigure(matrix: readonly (readonly number[])[], classNames: readonly string[] = defaultClassNames(matrix.length)): Figure {
  const { classes, accuracy } = classificationReport(matrix, classNames);
  const recalls = classes.map((c) => c.recall);
  return {
    data: [
      {
        type: 'bar',
        x: classNames,
        y: recalls,
        text: recalls.map((r) => `${(100 * r).toFixed(1)}%`),
        textposition: 'outside',
        customdata: classes.map((c) => c.support),
        hovertemplate: '%{x}<br>%{y:.1%} of %{customdata} images<extra></extra>',
      },
    ],
    layout: {
      title: { text: 'Accuracy per class (test set)' },
      xaxis: { title: { text: 'True class' } },
      yaxis: { title: { text: 'correctly classified' }, range: [0, 1.08], tickformat: '.0%' },
      shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: accuracy, y1: accuracy, line: { dash: 'dash', color: 'gray' } }],
      annotations: [
        // Right of the plot area, where no bar can hide it.
        { xref: 'paper', x: 1, y: accuracy, xanchor: 'left', text: `overall<br>${(100 * accuracy).toFixed(1)}%`, showarrow: false },
      ],
      width: 760,
      height: 440,
      margin: { r: 80, b: 90 },
    },
  };
}

/** Counts heat map, true classes down, predicted across, counts in the cells. */
export function confusionMatrixFigure(
  matrix: readonly (readonly number[])[],
  classNames: readonly string[] = defaultClassNames(matrix.length),
  title = 'Confusion matrix (test set)',
): Figure {
  return {
    data: [
      {
        type: 'heatmap',
        z: matrix,
        x: classNames,
        y: classNames,
        // Plotly's Blues runs dark to light; reversed, the diagonal (what the model gets right) is the dark band.
        colorscale: 'Blues',
        reversescale: true,
        texttemplate: '%{z}',
        hovertemplate: 'true %{y}<br>predicted %{x}<br>%{z} images<extra></extra>',
      },
    ],
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'Predicted' }, side: 'bottom', automargin: true },
      yaxis: { title: { text: 'True' }, autorange: 'reversed', automargin: true },
      width: 760,
      height: 680,
    },
  };
}

/** Per-class F1 of two models as paired bars, e.g. the original model against a better one. */
export function f1ComparisonFigure(changes: readonly F1Change[], names: readonly [string, string]): Figure {
  const bars = (name: string, values: number[]) => ({
    type: 'bar',
    name,
    x: changes.map((c) => c.name),
    y: values,
    text: values.map((v) => v.toFixed(2)),
    textposition: 'outside',
    hovertemplate: `${name}<br>%{x}: F1 %{y:.4f}<extra></extra>`,
  });
  return {
    data: [bars(names[0], changes.map((c) => c.before)), bars(names[1], changes.map((c) => c.after))],
    layout: {
      title: { text: 'F1 per class (test set)' },
      barmode: 'group',
      xaxis: { title: { text: 'class' } },
      yaxis: { title: { text: 'F1' }, range: [Math.max(0, Math.min(...changes.map((c) => Math.min(c.before, c.after))) - 0.1), 1.02] },
      legend: { orientation: 'h', y: -0.25 },
      width: 860,
      height: 460,
      margin: { b: 120 },
    },
  };
}
