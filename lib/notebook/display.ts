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

/** One output in several forms (mime type -> content): each front end shows the richest it can draw. */
export type MimeBundle = Record<string, unknown>;

/** Where figures go; injectable so the bundles can be tested outside Jupyter. */
export interface FigureSink {
  bundle(data: MimeBundle): void;
}

/** tslab's writer of the running cell's display_data; null outside a cell. */
interface TslabWriter {
  lastWriteDisplayData: ((message: { data: MimeBundle; metadata: object; transient: object }, update: boolean) => void) | null;
}

/** The output of the cell that is running. */
function notebookSink(): HtmlSink & FigureSink {
  return {
    html: (s) => tslab().display.html(s),
    bundle: (data) => {
      // tslab's display.raw sends one mime type per output (tslab 1.0.22, dist/public.js); the writer
      // under it sends whatever data it is given, as one display_data message.
      const writer = require('tslab/dist/jupyter') as TslabWriter;
      if (writer.lastWriteDisplayData === null) throw new Error('a figure can be shown only while a notebook cell runs');
      writer.lastWriteDisplayData({ data, metadata: {}, transient: {} }, false);
    },
  };
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
  return loaderHtml(compactFigure(figure));
}

/** `value` as JSON that is safe inside a `<script>` element (no `</script>` can end it early). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * A script expression for the Jupyter server's base URL, or null outside a
 * Jupyter page: the classic page puts it on <body>, JupyterLab and Notebook 7
 * in #jupyter-config-data.
 */
export const JUPYTER_BASE_URL_JS =
  "(document.body.getAttribute('data-base-url') || (function (c) { return c && JSON.parse(c.textContent).baseUrl; })(document.getElementById('jupyter-config-data')))";

/** figureHtml of a figure already compacted. */
function loaderHtml(figure: Figure): string {
  const id = `plot-${randomUUID()}`;
  const spec = scriptJson(figure);
  return (
    `<div id="${id}" class="${FIGURE_CLASS}"></div><script type="text/javascript">(function () {` +
    `var fig = ${spec};` +
    `function draw() { window.Plotly.newPlot('${id}', fig.data, fig.layout, {responsive: true}); }` +
    `function fail(why) { document.getElementById('${id}').textContent = 'This figure cannot be drawn: ' + why; }` +
    `if (window.Plotly) { draw(); return; }` +
    `window.fashionMnistPlotly = window.fashionMnistPlotly || new Promise(function (resolve, reject) {` +
    `var base = ${JUPYTER_BASE_URL_JS};` +
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

/** Plotly's mime type: what VS Code's notebook renderers and JupyterLab's plotly extension draw. */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/**
 * A figure as one output for every front end: plotly's JSON (VS Code,
 * JupyterLab, Notebook 7), the HTML loader (the classic page, nbconvert and
 * exported reports) and a line of text (consoles, GitHub's preview).
 */
export function figureBundle(figure: Figure): MimeBundle {
  const compact = compactFigure(figure);
  return {
    [PLOTLY_MIME]: { ...compact, config: { responsive: true } },
    'text/html': loaderHtml(compact),
    'text/plain': figureText(figure),
  };
}

/** Heat maps of at least this many cells travel as bytes (an image grid is 304 x 304). */
const BYTES_FROM_CELLS = 10_000;

/**
 * `figure` as it travels: a large heat map of pixel values (0-255, gaps null)
 * as plotly's typed-array spec (`{ dtype, bdata, shape }`, plotly.js 2.28+)
 * instead of nested arrays. Jupyter saves a notebook's JSON indented, one
 * number a line, which made a 64-image grid 1.2 MB of the saved notebook;
 * as bytes it is 0.12 MB. Gaps become 0, drawn the same (white).
 */
export function compactFigure(figure: Figure): Figure {
  return { data: figure.data.map(compactTrace), layout: figure.layout };
}

function compactTrace(trace: Record<string, unknown>): Record<string, unknown> {
  const z = trace.z;
  if (trace.type !== 'heatmap' || !Array.isArray(z) || z.length === 0 || !Array.isArray(z[0])) return trace;
  const rows = z as unknown[][];
  const cols = rows[0].length;
  if (rows.length * cols < BYTES_FROM_CELLS || rows.some((row) => row.length !== cols)) return trace;
  const bytes = new Uint8Array(rows.length * cols);
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < cols; c++) {
      const v = rows[r][c];
      if (v === null) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) return trace;
      bytes[r * cols + c] = v;
    }
  }
  return { ...trace, z: { dtype: 'u1', bdata: Buffer.from(bytes).toString('base64'), shape: `${rows.length},${cols}` } };
}

/** What a figure shows, in words: its title and its kind, e.g. "Confusion matrix: seed CNN (heat map, 10 x 10)". */
export function figureText(figure: Figure): string {
  const kinds = [...new Set(figure.data.map(traceText))].join('; ');
  return `${figureTitle(figure) || 'Figure'} (${kinds || 'no data'})`;
}

/** A figure's title text; '' when it has none. */
export function figureTitle(figure: Figure): string {
  const title = figure.layout.title;
  if (typeof title === 'string') return title;
  const text = (title as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' ? text : '';
}

function traceText(trace: Record<string, unknown>): string {
  const rows = (v: unknown) => (Array.isArray(v) ? v.length : 0);
  const count = (v: unknown, what: string) => `${rows(v)} ${what}${rows(v) === 1 ? '' : 's'}`;
  const z = trace.z as unknown[][] | undefined;
  switch (trace.type) {
    case 'heatmap':
      return `heat map, ${rows(z)} x ${rows(z?.[0])}`;
    case 'image':
      return `image, ${rows(z)} x ${rows(z?.[0])} pixels`;
    case 'bar':
      return `bar chart, ${count(trace.orientation === 'h' ? trace.y : trace.x, 'bar')}`;
    default:
      return `line chart, ${count(trace.y, 'point')}`;
  }
}

export function showFigure(figure: Figure, sink: FigureSink = notebookSink()): void {
  sink.bundle(figureBundle(figure));
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
