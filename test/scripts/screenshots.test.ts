import assert from 'node:assert/strict';
import { test } from 'node:test';
import { figureHtml, figureTitle, plotlyLibraryHtml, showFigure } from '../../lib/notebook/display';
import type { Figure } from '../../lib/notebook/plots';
import { figureSize, figuresInHtml, standalonePage } from '../../scripts/screenshots';
import { chromiumMissing, renderedDom } from '../helpers/chromium';

const bars: Figure = { data: [{ type: 'bar', x: ['a', 'b'], y: [1, 2], name: '</script> & <b>' }], layout: { title: { text: 'Bars' }, width: 320, height: 240 } };
const line: Figure = { data: [{ type: 'scatter', y: [3, 1] }], layout: { title: 'Line' } };

test('figures are read back from notebook HTML as figureHtml wrote them, plotly bundle and all', () => {
  const outputs: string[] = [];
  showFigure(bars, { bundle: (data) => outputs.push(data['text/html'] as string) });
  const page = `<p>text</p>${outputs[0]}<p>more</p>${figureHtml(line)}`;
  assert.deepEqual(figuresInHtml(page), [bars, line]);
  assert.deepEqual(figuresInHtml('<p>no figures</p>'), []);
});

test('figure title and size, with defaults when the layout gives none', () => {
  assert.equal(figureTitle(bars), 'Bars');
  assert.equal(figureTitle(line), 'Line');
  assert.equal(figureTitle({ data: [], layout: {} }), '');
  assert.deepEqual(figureSize(bars), { width: 320, height: 240 });
  assert.deepEqual(figureSize(line), { width: 700, height: 450 });
});

test('a standalone figure page draws offline in headless Chromium', { skip: chromiumMissing() }, () => {
  const dom = renderedDom(standalonePage(bars, plotlyLibraryHtml()));
  // plotly's drawing: its SVG root, one bar per value, and the title text
  assert.match(dom, /class="main-svg"/);
  assert.equal(dom.match(/class="point"/g)?.length, 2);
  assert.match(dom, />Bars</);
});
