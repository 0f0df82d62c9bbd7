import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLASS_NAMES } from '../../lib/data/classes';
import { compactFigure, figureBundle, figureHtml, figureText, frameHtml, PLOTLY_MIME, reportHtml, showFigure, tableHtml, type MimeBundle } from '../../lib/notebook/display';
import { chromiumMissing, drawPlotlyJson, type PlotlyJson } from '../helpers/chromium';
import { toDataFrame } from '../../lib/data/frames';
import { classificationReport } from '../../lib/report/metrics';
import { confusionMatrixFigure, historyFigure, imageGridFigure, type Figure } from '../../lib/notebook/plots';
import { takeRows } from '../../lib/data/split';
import type { EpochLog } from '../../lib/training/epoch-log';
import { realData } from '../helpers/data-fixture';

test('image grid: 64 tiles holding the first 64 images, each titled with its class', async () => {
  const { train } = await realData();
  const fig = imageGridFigure(train);
  const z = fig.data[0].z as (number | null)[][];
  const annotations = fig.layout.annotations as { text: string }[];
  assert.equal(annotations.length, 64);
  assert.deepEqual(
    annotations.map((a) => a.text),
    Array.from(train.labels.subarray(0, 64), (l) => CLASS_NAMES[l]),
  );
  assert.equal(annotations[0].text, 'Ankle boot');
  // Tile k sits at row floor(k/8), column k%8 of 38-pixel cells, 10 blank rows above each image.
  for (const k of [0, 9, 63]) {
    const top = Math.floor(k / 8) * 38 + 10;
    const left = (k % 8) * 38;
    for (const [r, c] of [[0, 0], [14, 14], [27, 20]]) {
      assert.equal(z[top + r][left + c], train.images[k * 784 + r * 28 + c], `tile ${k} pixel ${r},${c}`);
    }
  }
  assert.equal(z[0][0], null, 'gaps are blank');
  assert.equal(fig.layout.yaxis && (fig.layout.yaxis as { autorange: string }).autorange, 'reversed', 'image rows go down');
});

test('history figure: training and validation curves of one metric per epoch', () => {
  const history: EpochLog[] = [1, 2, 3].map((epoch) => ({ epoch, loss: 1 / epoch, accuracy: epoch / 4, val_loss: 1.1 / epoch, val_accuracy: epoch / 5, seconds: 1 }));
  const fig = historyFigure(history, 'accuracy');
  assert.deepEqual(
    fig.data.map((d) => [d.name, d.x, d.y]),
    [
      ['training accuracy', [1, 2, 3], [0.25, 0.5, 0.75]],
      ['validation accuracy', [1, 2, 3], [0.2, 0.4, 0.6]],
    ],
  );
  assert.deepEqual(historyFigure(history, 'loss').data[1].y, [1.1, 0.55, 1.1 / 3]);
});

test('confusion matrix figure: counts in the cells, class names on both axes, true classes down', () => {
  const matrix = Array.from({ length: 10 }, (_, t) => Array.from({ length: 10 }, (_, p) => (t === p ? 90 : 1)));
  const fig = confusionMatrixFigure(matrix);
  const trace = fig.data[0];
  assert.equal(trace.type, 'heatmap');
  assert.deepEqual(trace.z, matrix);
  assert.deepEqual(trace.x, CLASS_NAMES);
  assert.deepEqual(trace.y, CLASS_NAMES);
  assert.equal(trace.texttemplate, '%{z}');
  assert.equal(trace.reversescale, true, 'high counts dark');
  assert.equal((fig.layout.xaxis as { title: { text: string } }).title.text, 'Predicted');
  assert.equal((fig.layout.yaxis as { title: { text: string } }).title.text, 'True');
  assert.equal((fig.layout.yaxis as { autorange: string }).autorange, 'reversed');
});

test('a figure output is one bundle: plotly JSON, HTML whose loader takes plotly from the page or the kernel spec folder, and text', () => {
  const bundles: MimeBundle[] = [];
  const sink = { bundle: (data: MimeBundle) => bundles.push(data) };
  const fig: Figure = { data: [{ type: 'bar', x: [1], y: [2] }], layout: {} };
  showFigure(fig, sink);
  showFigure(fig, sink);
  assert.deepEqual(Object.keys(bundles[0]).sort(), ['application/vnd.plotly.v1+json', 'text/html', 'text/plain']);
  assert.deepEqual(bundles[0]['application/vnd.plotly.v1+json'], { data: fig.data, layout: fig.layout, config: { responsive: true } });
  assert.equal(bundles[0]['text/plain'], 'Figure (bar chart, 1 bar)');
  const outputs = bundles.map((b) => b['text/html'] as string);
  for (const output of outputs) {
    assert.doesNotMatch(output, /plotly\.js v4/, 'no bundle in any output: a rerun would take it away');
    assert.ok(output.length < 3_000, `a small output, got ${output.length} characters`);
    assert.match(output, /^<div id="(plot-[0-9a-f-]+)" class="fashion-mnist-figure"><\/div>/);
    assert.match(output, /Plotly\.newPlot\('plot-[0-9a-f-]+', fig\.data, fig\.layout/);
    assert.match(output, /"type":"bar"/);
    assert.match(output, /'kernelspecs\/fashion-mnist-ts\/plotly\.min\.js'/);
  }
  assert.notEqual(outputs[0].slice(0, 60), outputs[1].slice(0, 60), 'each figure draws into its own element');
});

test("a figure's text names its title and what it draws, for front ends that show only text", async () => {
  const { test: split } = await realData();
  assert.equal(figureText(confusionMatrixFigure(Array.from({ length: 10 }, () => new Array(10).fill(1)), CLASS_NAMES, 'Confusion matrix')), 'Confusion matrix (heat map, 10 x 10)');
  const history = [1, 2, 3].map((epoch) => ({ epoch, loss: 1 / epoch, accuracy: 0.5, val_loss: 1, val_accuracy: 0.5, seconds: 1 }));
  assert.equal(figureText(historyFigure(history, 'loss')), 'Training and validation loss (line chart, 3 points)');
  assert.equal(figureText(imageGridFigure(split, 4, 8)), 'First 32 training images (heat map, 152 x 304)', '4 rows of 8 tiles: 28 pixels and a gap of 10, each way');
});

test("a large heat map of pixels travels as plotly's typed-array bytes: the same values, gaps as 0, a tenth of the size, and plotly draws it", { skip: chromiumMissing() }, async () => {
  const { train } = await realData();
  const grid = imageGridFigure(train);
  const z = grid.data[0].z as (number | null)[][];
  const spec = compactFigure(grid).data[0].z as { dtype: string; bdata: string; shape: string };
  assert.equal(spec.dtype, 'u1');
  assert.equal(spec.shape, `${z.length},${z[0].length}`);
  assert.deepEqual(Array.from(Buffer.from(spec.bdata, 'base64')), z.flat().map((v) => v ?? 0));
  const json = JSON.stringify(figureBundle(grid)[PLOTLY_MIME]);
  assert.ok(json.length < JSON.stringify(grid).length / 2.5, `${json.length} characters against ${JSON.stringify(grid).length}`);
  const small = confusionMatrixFigure([[1, 2], [3, 4]], ['a', 'b'], 'small');
  assert.deepEqual(compactFigure(small), small, 'a small heat map stays plain arrays');
  assert.deepEqual(drawPlotlyJson([figureBundle(grid)[PLOTLY_MIME] as PlotlyJson]), [1]);
});

test('figure HTML cannot be broken out of by text in the figure', () => {
  const html = figureHtml({ data: [{ name: '</script><b>x' }], layout: {} });
  assert.equal(html.match(/<\/script>/g)?.length, 1);
});

test('tables: a wide frame is shown with its middle columns elided; the report has every class and average', async () => {
  const { test: split } = await realData();
  const html = frameHtml(toDataFrame(takeRows(split, [0, 1, 2, 3, 4, 5, 6])), 5);
  assert.match(html, /<caption>7 rows × 785 columns<\/caption>/);
  assert.match(html, /<th>Label<\/th><th>0<\/th>.*<th>…<\/th>.*<th>783<\/th><\/tr>/);
  assert.equal(html.match(/<tr>/g)?.length, 6, 'header and five rows');
  assert.match(html, /<tr><td>0<\/td><td>9<\/td>/, 'first row: index 0, label 9');

  const report = classificationReport(
    [
      [8, 2],
      [1, 9],
    ],
    ['a', 'b'],
  );
  const table = reportHtml(report);
  assert.match(table, /<tr><td>a<\/td><td>0.8889<\/td><td>0.8000<\/td><td>0.8421<\/td><td>10<\/td><\/tr>/);
  assert.match(table, /<tr><td>accuracy<\/td><td><\/td><td><\/td><td>0.8500<\/td><td>20<\/td><\/tr>/);
  assert.match(table, /macro avg/);
  assert.match(table, /weighted avg/);
  assert.equal(tableHtml(['<x>'], [['a&b']]), '<table><thead><tr><th>&lt;x&gt;</th></tr></thead><tbody><tr><td>a&amp;b</td></tr></tbody></table>');
});
