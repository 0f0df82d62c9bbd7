import * as fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import type * as dfd from 'danfojs-node';
import type { ClassMetrics, ClassificationReport } from '../report/metrics';
import type { Figure } from './plots';

/** Rich output of the running notebook; injectable so the HTML can be tested outside Jupyter. */
export interface HtmlSink {
  html(s: string): void;
}

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

/** The project's kernel spec (scripts/kernel-spec.ts installs it); Jupyter serves its files at `kernelspecs/NAME/`. */
export const KERNEL_NAME = 'fashion-mnist-ts';
/** plotly.js as installed into the kernel spec's folder. */
export const PLOTLY_FILE = 'plotly.min.js';

export function plotlyPath(): string {
  return require.resolve(`plotly.js-dist-min/${PLOTLY_FILE}`);
}

/** The minified plotly bundle in a script tag, for pages that open offline (scripts/execute.ts, scripts/screenshots.ts). */
export function plotlyLibraryHtml(): string {
  const source = fs.readFileSync(plotlyPath(), 'utf8');
  return `<script type="text/javascript">${source.replace(/<\/script/gi, '<\\/script')}</script>`;
}

/** An exported page (nbconvert's HTML) with plotly in its head, once, so its figures draw offline. */
export function withPlotly(page: string): string {
  const head = page.indexOf('</head>');
  if (head < 0) throw new Error('the exported page has no </head> to put plotly.js in');
  return page.slice(0, head) + plotlyLibraryHtml() + page.slice(head);
}

/**
 * A figure's output: its spec and a loader that draws it. Plotly itself (5 MB)
 * is not in the output: a rerun replaces the output that carried it, and it
 * would bloat every saved notebook. The page has it already (an exported
 * page, or a figure drawn before), or the loader fetches it once from the
 * kernel spec's folder, which the notebook server serves; so figures draw
 * after a reload, offline. A page with neither says so where the figure goes.
 */
export function figureHtml(figure: Figure): string {
  const id = `plot-${randomUUID()}`;
  const spec = JSON.stringify(figure).replace(/</g, '\\u003c');
  return (
    `<div id="${id}" class="${FIGURE_CLASS}"></div><script type="text/javascript">(function () {` +
    `var fig = ${spec};` +
    `function draw() { window.Plotly.newPlot('${id}', fig.data, fig.layout, {responsive: true}); }` +
    `function fail(why) { document.getElementById('${id}').textContent = 'This figure cannot be drawn: ' + why; }` +
    `if (window.Plotly) { draw(); return; }` +
    // Classic notebook puts the server's base URL on <body>; JupyterLab and Notebook 7 in #jupyter-config-data.
    `window.fashionMnistPlotly = window.fashionMnistPlotly || new Promise(function (resolve, reject) {` +
    `var config = document.getElementById('jupyter-config-data');` +
    `var base = document.body.getAttribute('data-base-url') || (config && JSON.parse(config.textContent).baseUrl);` +
    `if (!base) { reject('plotly.js is not in this page, which is not a Jupyter page to load it from (npm run report exports pages that carry it).'); return; }` +
    `var script = document.createElement('script');` +
    `script.src = base.replace(/\\/?$/, '/') + 'kernelspecs/${KERNEL_NAME}/${PLOTLY_FILE}';` +
    `script.onload = resolve;` +
    `script.onerror = function () { reject('plotly.js did not load from ' + script.src + ' (run npm run setup-kernel, then reload the page).'); };` +
    `document.head.appendChild(script); });` +
    `window.fashionMnistPlotly.then(draw, fail); })();</script>`
  );
}

/** The class of every figure's element, for tests and tools that look for the figures in a page. */
export const FIGURE_CLASS = 'fashion-mnist-figure';

export function showFigure(figure: Figure, sink: HtmlSink = notebookSink()): void {
  sink.html(figureHtml(figure));
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
