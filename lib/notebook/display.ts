import * as fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import type * as dfd from 'danfojs-node';
import type { ClassMetrics, ClassificationReport } from '../report/metrics';
import type { Figure } from './plots';

/** Rich output of the running notebook; injectable so the HTML can be tested outside Jupyter. */
export interface HtmlSink {
  html(s: string): void;
}

let plotlyInlined = false;

function tslab(): typeof import('tslab') {
  // tslab exists only inside the kernel; requiring it lazily keeps lib usable from plain node.
  return require('tslab') as typeof import('tslab');
}

/** The output of the cell that is running. */
function notebookSink(): HtmlSink {
  return tslab().display;
}

/** An output of the running cell that each `html()` call redraws in place, for live progress. */
export function liveSink(): HtmlSink {
  return tslab().newDisplay();
}

/**
 * The minified plotly bundle goes into the notebook once per kernel, in the
 * first figure's output, so saved notebooks and their HTML export open
 * offline without carrying a copy per figure.
 */
export function plotlyLibraryHtml(): string {
  const source = fs.readFileSync(require.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
  return `<script type="text/javascript">${source.replace(/<\/script/gi, '<\\/script')}</script>`;
}

export function figureHtml(figure: Figure): string {
  const id = `plot-${randomUUID()}`;
  const spec = JSON.stringify(figure).replace(/</g, '\\u003c');
  // Waits for Plotly because notebook 6 may run this before the library's script when a page reloads.
  return (
    `<div id="${id}"></div><script type="text/javascript">(function () {` +
    `var fig = ${spec};` +
    `function draw() { if (window.Plotly) { window.Plotly.newPlot('${id}', fig.data, fig.layout, {responsive: true}); } else { setTimeout(draw, 50); } }` +
    `draw(); })();</script>`
  );
}

export function showFigure(figure: Figure, sink: HtmlSink = notebookSink()): void {
  const library = plotlyInlined ? '' : plotlyLibraryHtml();
  sink.html(library + figureHtml(figure));
  plotlyInlined = true;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An HTML table from a header row and body rows. */
export function tableHtml(header: readonly string[], rows: readonly (readonly (string | number)[])[], caption?: string): string {
  const cells = (r: readonly (string | number)[], tag: string) => r.map((c) => `<${tag}>${escapeHtml(String(c))}</${tag}>`).join('');
  return (
    '<table>' +
    (caption ? `<caption>${escapeHtml(caption)}</caption>` : '') +
    `<thead><tr>${cells(header, 'th')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${cells(r, 'td')}</tr>`).join('')}</tbody></table>`
  );
}

/**
 * The first rows of a frame, with the columns elided in the middle as pandas
 * shows a wide table (785 columns would not fit on a screen).
 */
export function frameHtml(df: dfd.DataFrame, rows = 5, edgeColumns = 8): string {
  const columns = df.columns;
  const keep = columns.length > 2 * edgeColumns ? [...columns.slice(0, edgeColumns), '…', ...columns.slice(-edgeColumns)] : columns;
  const head = df.head(Math.min(rows, df.shape[0]));
  const values = head.values as number[][];
  const body = values.map((row, r) => [
    String(head.index[r]),
    ...keep.map((c) => (c === '…' ? '…' : row[columns.indexOf(c)])),
  ]);
  return tableHtml(['', ...keep], body, `${df.shape[0]} rows × ${df.shape[1]} columns`);
}

/** The classification report as a table: one row per class, then accuracy and the averages. */
export function reportHtml(report: ClassificationReport, digits = 4): string {
  const f = (v: number) => v.toFixed(digits);
  const row = (name: string, m: ClassMetrics) => [name, f(m.precision), f(m.recall), f(m.f1), m.support];
  return tableHtml(
    ['', 'precision', 'recall', 'f1-score', 'support'],
    [
      ...report.classes.map((c) => row(c.name, c)),
      ['accuracy', '', '', f(report.accuracy), report.total],
      row('macro avg', report.macroAvg),
      row('weighted avg', report.weightedAvg),
    ],
  );
}

export function showHtml(html: string, sink: HtmlSink = notebookSink()): void {
  sink.html(html);
}
