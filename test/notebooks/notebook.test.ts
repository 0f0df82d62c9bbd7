import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { KERNEL_DISPLAY_NAME, KERNEL_NAME } from '../../scripts/kernel-spec';
import { CLASS_NAMES } from '../../lib/data/classes';
import { PLOTLY_MIME } from '../../lib/notebook/display';
import { chromiumMissing, drawPlotlyJson, type PlotlyJson } from '../helpers/chromium';
import { executeCleanly, jupyterMissing, outputText } from '../helpers/notebook-run';

test('every notebook opens on the project kernel, which npm install registers (a plain tslab kernel may not exist)', () => {
  const dir = path.join(__dirname, '..', '..', 'notebooks');
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb'));
  assert.ok(names.length >= 3, names.join(', '));
  for (const name of names) {
    const { metadata } = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    assert.deepEqual(metadata.kernelspec, { name: KERNEL_NAME, display_name: KERNEL_DISPLAY_NAME, language: 'typescript' }, name);
  }
});

test('the main notebook runs top to bottom headless and shows every step', { skip: jupyterMissing }, (t) => {
  const { html, scratch, outputs, text } = executeCleanly('fashion-mnist-cnn.ipynb', { EPOCHS: '1' });
  assert.match(text, /backend: (wasm|tensorflow|cpu) \(/);
  assert.match(text, /train: 60000 images, test: 10000 images/);
  assert.match(text, /60000 rows × 785 columns/);
  assert.match(text, /train: x 48000,28,28,1, y 48000/);
  assert.match(text, /Total params: 173738/);
  assert.match(text, /Done: 1 epochs in/);
  const accuracy = Number(/test accuracy (\d\.\d+)/.exec(text)?.[1]);
  assert.ok(accuracy > 0.5, `one epoch already beats guessing by far: ${accuracy}`);
  assert.match(text, /weighted avg/);
  // Image grid, two curves, confusion matrix; plotly inlined once.
  assert.equal(text.match(/Plotly\.newPlot\(/g)?.length, 4);
  assert.equal(html.match(/plotly\.js v4/g)?.length, 1);
  assert.doesNotMatch(html, /<script[^>]+src="https?:\/\/[^"]*plotly/);
  // Each figure is one output for every front end: plotly's JSON (VS Code, JupyterLab), the loader (this page), text.
  const figures = outputs.filter((o) => o.data?.[PLOTLY_MIME] !== undefined);
  assert.deepEqual(
    figures.map((o) => outputText({ output_type: 'text', text: o.data!['text/plain'] as string })),
    ['First 64 training images (heat map, 304 x 304)', 'Training and validation loss (line chart, 1 point)', 'Training and validation accuracy (line chart, 1 point)', 'Confusion matrix (test set) (heat map, 10 x 10)'],
  );
  figures.forEach((o) => assert.match(outputText({ output_type: 'text', text: o.data!['text/html'] as string[] }), /Plotly\.newPlot\(/));
  const noChromium = chromiumMissing();
  if (noChromium) t.diagnostic(`the figures' JSON not drawn: ${noChromium}`);
  else assert.deepEqual(drawPlotlyJson(figures.map((o) => o.data![PLOTLY_MIME] as PlotlyJson)), [1, 1, 1, 1], "plotly.js draws each figure's JSON alone");
  assert.ok(fs.statSync(path.join(scratch, 'fashion-mnist-cnn.ipynb')).size < 2 * 1024 * 1024, 'the saved notebook stays well under 2 MB');
  assert.ok(fs.existsSync(path.join(scratch, 'models', 'fashion-cnn', 'model.json')), 'the model was saved');
  // The last cell builds the web page of the saved model where Jupyter serves it, and links to it.
  assert.match(text, /<a id="web-app-[0-9a-f]+" href="\/files\/web-app\/index.html" target="_blank">Open the web page<\/a>/);
  const page = fs.readFileSync(path.join(scratch, 'notebooks', 'web-app', 'index.html'), 'utf8');
  const data = JSON.parse(/<script id="app-data" type="application\/json">(.*?)<\/script>/s.exec(page)![1]);
  assert.deepEqual(data.classNames, [...CLASS_NAMES], 'the page holds the model, its class names, tfjs and its wasm, in one file');
  assert.deepEqual(Object.keys(data.wasm).sort(), ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm']);
  assert.equal(data.samples.length, 10);
  fs.rmSync(scratch, { recursive: true, force: true });
});

test('the your-own-data notebook runs headless: a CSV to a DataFrame, three classes chosen in danfo, a model sized for them, a report in their names', { skip: jupyterMissing }, () => {
  const { scratch, text } = executeCleanly('your-own-data.ipynb', { EPOCHS: '2' });
  assert.match(text, /10000 rows × 785 columns/);
  assert.match(text, /'Trouser'\s*│\s*1000/);
  assert.match(text, /train: x 1920,28,28,1/);
  assert.match(text, /output \(Dense\)\s+\[\[null,32\]\]\s+\[null,3\]/);
  const accuracy = Number(/test accuracy (\d\.\d+)/.exec(text)?.[1]);
  assert.ok(accuracy > 0.9, `three distinct classes in two epochs: ${accuracy}`);
  for (const name of ['Trouser', 'Sneaker', 'Bag']) assert.match(text, new RegExp(`<td>${name}</td>`), `the report names ${name}`);
  // The confusion matrix and the prediction.
  assert.equal(text.match(/Plotly\.newPlot\(/g)?.length, 2);
  fs.rmSync(scratch, { recursive: true, force: true });
});
